#!/usr/bin/env node
// Runs node:test over every *.test.ts below the given folders (Node 20's --test takes no globs).
// Usage: node scripts/run-tests.mjs test [more folders or files...]
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

const roots = process.argv.slice(2);
const files = [];
for (const root of roots.length ? roots : ['test']) collect(root, files);
if (files.length === 0) { console.error('no test files found'); process.exit(1); }
const reporter = process.env.TEST_REPORTER ?? 'spec';
const result = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', `--test-reporter=${reporter}`, '--test-concurrency=2', ...files],
  { stdio: 'inherit' });
process.exit(result.status ?? 1);
