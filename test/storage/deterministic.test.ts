import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDisk } from '../../src/storage/fs/memory-fs.js';
import type { Clock } from '../../src/ports/index.js';
import { openLsmEngine, syncCompressor } from '../../src/storage/lsm/index.js';
import { enc } from './helpers.js';

/**
 * The LSM engine on a memory disk whose operations complete from a seeded virtual event queue
 * (as in the simulator): the same seed gives the same interleaving of acknowledgements,
 * flushes and compactions, and the same files.
 */
async function run(seed: number): Promise<{ trace: string[]; files: string[]; ops: number }> {
  let x = seed;
  const rand = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 0x1_0000_0000;
  };
  let now = 0;
  let seq = 0;
  const events: { at: number; seq: number; fn: () => void }[] = [];
  const schedule = (delayMs: number, fn: () => void): void => {
    events.push({ at: now + delayMs, seq: seq++, fn });
  };
  // The Clock port on the virtual queue (a cleared timer's event still runs, as a no-op).
  let nextTimer = 0;
  const cleared = new Set<number>();
  const clock: Clock = {
    nowMs: () => now,
    setTimer: (ms, fn) => {
      const id = ++nextTimer;
      schedule(ms, () => {
        if (!cleared.has(id)) fn();
      });
      return { id };
    },
    clearTimer: (h) => {
      cleared.add(h.id);
    },
  };
  let simulating = true;
  const disk = new MemoryDisk({ seed, schedule: (complete) => (simulating ? schedule(rand() * 2, complete) : complete()) });
  const trace: string[] = [];
  const done = (async () => {
    const e = await openLsmEngine({
      dir: '/db', fs: disk.mount(), memtableBytes: 2048, blockBytes: 256,
      compaction: { minMerge: 2, maxTables: 3, bytesPerSec: 256 * 1024, sliceBytes: 1024 },
      clock, compressor: syncCompressor,
      onEvent: (ev) => trace.push(`${now.toFixed(3)} ${ev.type}`),
    });
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 40; i++) {
        await e.write([{ key: enc(`w${w}-${i % 10}`), value: enc(`v${i}`.repeat(10)) }]);
        trace.push(`${now.toFixed(3)} ack w${w} ${i}`);
      }
    }));
    await e.close();
  })();
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  while (!finished) {
    // Let every promise chain run, then complete the earliest event.
    await new Promise((r) => setImmediate(r));
    if (finished) break;
    events.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const ev = events.shift();
    assert.ok(ev, 'deadlock: nothing scheduled');
    now = Math.max(now, ev.at);
    ev.fn();
  }
  await done;
  simulating = false;
  return { trace, files: await disk.mount().readdir('/db'), ops: disk.opCount };
}

describe('determinism on a scheduled memory disk', () => {
  it('the same seed gives the same run', async () => {
    const a = await run(11);
    const b = await run(11);
    assert.ok(a.trace.some((t) => t.includes('compaction-end')), 'compactions ran');
    assert.deepEqual(a.trace, b.trace);
    assert.deepEqual(a.files, b.files);
    assert.equal(a.ops, b.ops);
    const c = await run(12);
    assert.notDeepEqual(a.trace, c.trace);
  });
});
