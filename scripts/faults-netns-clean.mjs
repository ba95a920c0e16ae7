#!/usr/bin/env node
// Removes every network namespace the fault suite made (named `gsm-<run>-...`), with their veths
// and bridge: for a run that was killed before it could clean up after itself. Needs root.
// Usage: node scripts/faults-netns-clean.mjs [run]   (one run's namespaces only, when given)
import { execFileSync } from 'node:child_process';

const prefix = process.argv[2] ? `gsm-${process.argv[2]}-` : 'gsm-';
const names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix));
for (const ns of names) execFileSync('ip', ['netns', 'del', ns]);
console.log(names.length ? `removed ${names.join(', ')}` : `no namespace named ${prefix}*`);
