import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDisk } from '../../src/storage/fs/memory-fs.js';
import { openLsmEngine } from '../../src/storage/lsm/index.js';
import type { LsmEngine, LsmOptions } from '../../src/storage/lsm/index.js';
import { runWriters, verify } from './crash-workload.js';
import type { Versions, WorkloadConfig } from './crash-workload.js';
import { realClock } from './helpers.js';

/**
 * The acknowledged-keys crash check on the memory disk: the disk crashes right before a seeded
 * random mutating operation (inside commit-log groups, flushes, compactions, manifest updates),
 * loses everything not fsynced (torn tails, lost renames), and the reopened engine must hold
 * every acknowledged write, whole batches, and report no corruption.
 */
const SEEDS = 40;
const CRASHES_PER_SEED = 3;

function options(disk: MemoryDisk, events: Record<string, number>): LsmOptions {
  return { clock: realClock,
    dir: '/node/data',
    fs: disk.mount(),
    sync: 'group',
    memtableBytes: 4 * 1024,
    blockBytes: 512,
    maxImmutableMemtables: 2,
    // A small merge cap, so tables settle and settled tables are rewritten (cleanups) under crashes too.
    compaction: { minMerge: 2, maxTables: 4, bytesPerSec: 1e12, mergeBytesMax: 24 * 1024 },
    onEvent: (e) => {
      events[e.type] = (events[e.type] ?? 0) + 1;
      if (e.type === 'compaction-start' && e.cleanup) events.cleanup = (events.cleanup ?? 0) + 1;
      if (e.type === 'corruption') console.log('# CORRUPTION', JSON.stringify(e.report));
    },
  };
}

describe('crash safety on the simulated disk', () => {
  it(`${SEEDS} seeds × ${CRASHES_PER_SEED} crashes at random disk operations lose no acknowledged write`, async () => {
    const events: Record<string, number> = {};
    let checks = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const disk = new MemoryDisk({ seed });
      const cfg: WorkloadConfig = { writers: 8, keysPerWriter: 12, seed };
      let confirmed: Versions = {};
      let x = seed * 7919;
      for (let round = 0; round < CRASHES_PER_SEED; round++) {
        const engine: LsmEngine = await openLsmEngine(options(disk, events));
        assert.deepEqual(engine.stats().corruptions, [], `seed ${seed} round ${round}: corruption after recovery`);
        const acked: Versions = {};
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        disk.crashAfterOps = disk.opCount + 1 + (x % 1500);
        await runWriters(engine, cfg, confirmed, (k, v) => {
          acked[k] = v;
        }, () => disk.isDown);
        assert.ok(disk.isDown, 'the workload only stops at the crash');
        const check = await openLsmEngine(options(disk, events));
        assert.deepEqual(check.stats().corruptions, [], `seed ${seed} round ${round}: corruption after crash`);
        const r = verify(check, cfg, confirmed, acked);
        checks += r.checked;
        confirmed = r.confirmed;
        await check.close();
      }
    }
    assert.ok((events['flush-start'] ?? 0) > 100, `flushes: ${events['flush-start']}`);
    assert.ok((events['compaction-start'] ?? 0) > 20, `compactions: ${events['compaction-start']}`);
    console.log(`# sim crash: ${SEEDS * CRASHES_PER_SEED} crashes, ${checks} key checks, events ${JSON.stringify(events)}`);
  });
});
