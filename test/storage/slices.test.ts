import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../src/ports/index.js';
import type { FileHandle, FileSystem } from '../../src/ports/file-system.js';
import { MemoryDisk } from '../../src/storage/fs/memory-fs.js';
import { openLsmEngine, syncCompressor } from '../../src/storage/lsm/index.js';
import { seededRandom } from '../../src/sim/prng.js';
import { realClock } from './helpers.js';

/**
 * Compaction gives the event loop back in bounded slices. On the memory disk every operation
 * settles in a microtask, so the only points where other work (a request) could run are the
 * engine's own timers: the test counts, between two timer callbacks, the table bytes appended
 * and the compaction's reads, and checks each stretch stays within one slice (plus one chunk and
 * one block of slack), and that the reads went through the asynchronous `read`.
 */
const SLICE_BYTES = 32 * 1024;
const CHUNK_BYTES = 8 * 1024;
const BLOCK_BYTES = 4 * 1024;

interface Stretches { appended: number[]; current: number; reads: number; syncReads: number }

function countingFs(inner: FileSystem, s: Stretches): FileSystem {
  return {
    mkdir: (d) => inner.mkdir(d),
    readdir: (d) => inner.readdir(d),
    openRead: (p) => inner.openRead(p),
    create: (p) => inner.create(p),
    append: (h: FileHandle, data: Uint8Array) => {
      if (h.path.endsWith('.sst')) s.current += data.length;
      return inner.append(h, data);
    },
    readSync: (h, b, p, l) => {
      s.syncReads++;
      return inner.readSync(h, b, p, l);
    },
    read: (h, b, p, l) => {
      s.reads++;
      return inner.read!(h, b, p, l);
    },
    sizeSync: (h) => inner.sizeSync(h),
    sync: (h) => inner.sync(h),
    close: (h) => inner.close(h),
    readFile: (p) => inner.readFile(p),
    exists: (p) => inner.exists(p),
    rename: (a, b) => inner.rename(a, b),
    unlink: (p) => inner.unlink(p),
    syncDir: (d) => inner.syncDir(d),
  };
}

function yieldCountingClock(s: Stretches): Clock {
  return {
    nowMs: () => realClock.nowMs(),
    setTimer: (ms, fn) => realClock.setTimer(ms, () => {
      s.appended.push(s.current);
      s.current = 0;
      fn();
    }),
    clearTimer: (h) => realClock.clearTimer(h),
  };
}

describe('compaction slices', () => {
  it('a merge appends at most one slice between two yields to the event loop, reading asynchronously', async () => {
    const disk = new MemoryDisk({ seed: 3 });
    const r = seededRandom(5);
    // Eight tables of ~256 KiB, written with compaction off, then merged on reopen.
    let engine = await openLsmEngine({
      dir: '/db', fs: disk.mount(), clock: realClock, sync: 'none', compressor: syncCompressor,
      memtableBytes: 256 * 1024, compaction: { enabled: false },
    });
    for (let i = 0; i < 2000; i++) {
      const value = Buffer.alloc(1000);
      for (let j = 0; j < value.length; j++) value[j] = Math.floor(r() * 256);
      await engine.write([{ key: Buffer.from(`k${String(Math.floor(r() * 1e9)).padStart(10, '0')}-${i}`), value }]);
    }
    await engine.close();
    const s: Stretches = { appended: [], current: 0, reads: 0, syncReads: 0 };
    engine = await openLsmEngine({
      dir: '/db', fs: countingFs(disk.mount(), s), clock: yieldCountingClock(s), sync: 'none', compressor: syncCompressor,
      blockBytes: BLOCK_BYTES, tableWriteChunkBytes: CHUNK_BYTES,
      compaction: { minMerge: 2, maxSizeAmpPercent: 0, sliceBytes: SLICE_BYTES, bytesPerSec: 1 << 30 },
    });
    const tablesBefore = engine.stats().tables;
    s.syncReads = 0;
    await engine.idle();
    s.appended.push(s.current);
    const st = engine.stats();
    await engine.close();
    assert.ok(st.compactions >= 1, 'the reopened engine merged');
    assert.ok(st.tables < tablesBefore, `tables ${tablesBefore} → ${st.tables}`);
    const total = s.appended.reduce((a, b) => a + b, 0);
    const worst = Math.max(...s.appended);
    const bound = SLICE_BYTES + CHUNK_BYTES + BLOCK_BYTES + 64;
    assert.ok(total >= 1.5e6, `the merges wrote ${total} bytes`);
    assert.ok(worst <= bound, `a stretch appended ${worst} bytes (bound ${bound})`);
    assert.ok(s.appended.length >= total / bound, `${s.appended.length} yields for ${total} bytes`);
    assert.ok(s.reads > 0, 'compaction inputs came through the asynchronous read');
    // The merge never fell back to synchronous block reads, and its output was adopted with the
    // index and filter its writer built (nothing read back).
    assert.equal(s.syncReads, 0, `${s.syncReads} synchronous reads`);
    console.log(`# ${st.compactions} compactions, ${total} bytes in ${s.appended.length} stretches, worst ${worst}; ${s.reads} async reads, ${s.syncReads} sync reads`);
  });
});
