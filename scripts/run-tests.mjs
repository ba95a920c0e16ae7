#!/usr/bin/env node
// Runs node:test over every *.test.ts below the given folders (Node 20's --test takes no globs).
// Usage: node scripts/run-tests.mjs test [more folders or files...] [--minutes N]
// `--minutes N` (the fault suite's length on separate hosts) is passed on as GOSSAMER_FAULT_MINUTES.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) { if (path.endsWith('.test.ts')) out.push(path); return; }
  for (const name of readdirSync(path).sort()) {
    if (name === 'node_modules' || name === 'fixtures') continue;
    collect(join(path, name), out);
  }
}

const args = process.argv.slice(2);
const at = args.indexOf('--minutes');
if (at >= 0) {
  const minutes = args[at + 1];
  if (!/^\d+(\.\d+)?$/.test(minutes ?? '')) { console.error('--minutes takes a number of minutes'); process.exit(2); }
  process.env.GOSSAMER_FAULT_MINUTES = minutes;
  args.splice(at, 2);
}
const roots = args;
const files = [];
for (const root of roots.length ? roots : ['test']) collect(root, files);
if (files.length === 0) { console.error('no test files found'); process.exit(1); }
const reporter = process.env.TEST_REPORTER ?? 'spec';
const result = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', `--test-reporter=${reporter}`, '--test-concurrency=2', ...files],
  { stdio: 'inherit' });
process.exit(result.status ?? 1);
