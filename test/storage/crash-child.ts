/**
 * Child process of crash.test.ts: opens the engine with `group` commit and tiny memtables and
 * tables (so flushes and compactions run constantly) and writes until it is killed. Every
 * acknowledgement is appended to the ack file with a synchronous write(2) before the writer
 * issues its next write, so it reaches the kernel before any kill -9 can intervene.
 * Usage: node --import tsx crash-child.ts <dataDir> <stateFile> <ackFile> <seed>
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { nodeFileSystem } from '../../src/adapters/node-fs.js';
import { openLsmEngine } from '../../src/storage/lsm/index.js';
import { runWriters } from './crash-workload.js';
import type { Versions } from './crash-workload.js';
import { realClock } from './helpers.js';

const [dir, stateFile, ackFile, seedArg] = process.argv.slice(2);
if (!dir || !stateFile || !ackFile || !seedArg) throw new Error('usage: crash-child <dir> <state> <acks> <seed>');
const seed = Number(seedArg);
const confirmed = JSON.parse(readFileSync(stateFile, 'utf8')) as Versions;
const send = (msg: unknown): void => {
  process.send?.(msg);
};

const engine = await openLsmEngine({
  clock: realClock,
  dir,
  fs: nodeFileSystem,
  sync: 'group',
  memtableBytes: 24 * 1024,
  blockBytes: 1024,
  // Compaction is slowed down so that kills land inside it often.
  compaction: { minMerge: 2, maxTables: 4, bytesPerSec: 4 * 1024 * 1024, sliceBytes: 16 * 1024, mergeBytesMax: 160 * 1024 },
  onEvent: (e) => {
    if (e.type === 'flush-start' || e.type === 'flush-end' || e.type === 'compaction-start' || e.type === 'compaction-end') send({ event: e.type });
  },
});
const acks = openSync(ackFile, 'a');
let count = 0;
send({ ready: true });
await runWriters(engine, { writers: 16, keysPerWriter: 16, seed }, confirmed, (key, version) => {
  writeSync(acks, `${key} ${version}\n`);
  if (++count % 50 === 0) send({ acks: count });
}, () => false);
closeSync(acks);
