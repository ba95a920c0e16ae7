import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeFileSystem } from '../../src/adapters/node-fs.js';
import { MemoryDisk } from '../../src/storage/fs/memory-fs.js';
import { openLsmEngine } from '../../src/storage/lsm/index.js';
import type { LsmOptions } from '../../src/storage/lsm/index.js';
import type { Clock } from '../../src/ports/index.js';
import { runEngineCompliance } from './compliance.js';
import { dec, enc, tempDir, realClock } from './helpers.js';

// Small sizes so that flushes and compactions happen inside the compliance tests too.
const small: Partial<LsmOptions> = { memtableBytes: 16 * 1024, blockBytes: 1024, compaction: { minMerge: 3, maxTables: 6 } };

runEngineCompliance('LsmEngine on node:fs', async () => {
  const t = tempDir();
  const open = (): ReturnType<typeof openLsmEngine> => openLsmEngine({ clock: realClock, dir: t.dir, fs: nodeFileSystem, ...small });
  return { engine: await open(), reopen: open, cleanup: async () => t.remove() };
});

runEngineCompliance('LsmEngine on the memory disk', async () => {
  const disk = new MemoryDisk({ seed: 7 });
  const open = (): ReturnType<typeof openLsmEngine> => openLsmEngine({ clock: realClock, dir: '/db', fs: disk.mount(), sync: 'none', ...small });
  return { engine: await open(), reopen: open, cleanup: async () => {} };
});

describe('LsmEngine', () => {
  it('flushes, compacts and keeps every key; tombstones purged at the bottom', async () => {
    const disk = new MemoryDisk();
    const e = await openLsmEngine({ clock: realClock, dir: '/db', fs: disk.mount(), memtableBytes: 8 * 1024, blockBytes: 512, compaction: { minMerge: 2, maxTables: 4 } });
    for (let round = 0; round < 5; round++) {
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 400; i++) writes.push(e.write([{ key: enc(`k${i}`), value: round === 4 && i % 2 === 0 ? null : enc(`v${round}-${i}`) }]));
      await Promise.all(writes);
    }
    await e.flush();
    await e.idle();
    const s = e.stats();
    assert.ok(s.flushes > 5, `flushes ${s.flushes}`);
    assert.ok(s.compactions > 0, `compactions ${s.compactions}`);
    for (let i = 0; i < 400; i++) assert.equal(dec(e.get(enc(`k${i}`))), i % 2 === 0 ? undefined : `v4-${i}`);
    assert.equal([...e.scan()].length, 200);
    await e.close();
    const e2 = await openLsmEngine({ clock: realClock, dir: '/db', fs: disk.mount(), compaction: { maxSizeAmpPercent: 0, minMerge: 2 } });
    await e2.idle();
    const s2 = e2.stats();
    assert.equal(s2.tables, 1);
    assert.equal(s2.tableEntries, 200, 'tombstones dropped in the bottom table');
    await e2.close();
  });

  it('canPurge drops application tombstones only when compacting into the bottom', async () => {
    const disk = new MemoryDisk();
    const purgeable = (_k: Uint8Array, v: Uint8Array): boolean => Buffer.from(v).toString() === 'TOMB';
    const opts: LsmOptions = { clock: realClock, dir: '/db', fs: disk.mount(), memtableBytes: 1 << 20, canPurge: purgeable, compaction: { minMerge: 2, maxSizeAmpPercent: 0 } };
    const e = await openLsmEngine(opts);
    await e.write([{ key: enc('a'), value: enc('live') }, { key: enc('b'), value: enc('TOMB') }]);
    await e.flush();
    await e.write([{ key: enc('c'), value: enc('TOMB') }]);
    await e.flush();
    await e.idle();
    assert.equal(dec(e.get(enc('a'))), 'live');
    assert.equal(e.get(enc('b')), undefined);
    assert.equal(e.get(enc('c')), undefined);
    assert.equal(e.stats().tables, 1);
    await e.close();
  });

  it('writes stall instead of growing without bound when flushing falls behind', async () => {
    const disk = new MemoryDisk();
    const events: string[] = [];
    const e = await openLsmEngine({
      clock: realClock,
      dir: '/db', fs: disk.mount(), memtableBytes: 4096, maxImmutableMemtables: 1, onEvent: (ev) => events.push(ev.type),
    });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) writes.push(e.write([{ key: enc(`k${i}`), value: new Uint8Array(100) }]));
    await Promise.all(writes);
    assert.ok(events.includes('stall'));
    assert.ok(e.get(enc('k1999')));
    await e.close();
  });

  it('periodic sync acknowledges and survives a clean reopen', async () => {
    const t = tempDir();
    try {
      const e = await openLsmEngine({ clock: realClock, dir: t.dir, fs: nodeFileSystem, sync: 'periodic', periodicMs: 5 });
      await e.write([{ key: enc('a'), value: enc('b') }]);
      await new Promise((r) => setTimeout(r, 20));
      await e.close();
      const e2 = await openLsmEngine({ clock: realClock, dir: t.dir, fs: nodeFileSystem });
      assert.equal(dec(e2.get(enc('a'))), 'b');
      await e2.close();
    } finally {
      t.remove();
    }
  });
});

describe('LsmEngine internals', () => {
  it('group commit: concurrent writes share fsyncs, each acknowledged after one', async () => {
    const disk = new MemoryDisk();
    const e = await openLsmEngine({ clock: realClock, dir: '/db', fs: disk.mount() });
    const before = e.stats().logSyncs;
    await Promise.all(Array.from({ length: 200 }, (_, i) => e.write([{ key: enc(`k${i}`), value: enc('v') }])));
    const syncs = e.stats().logSyncs - before;
    assert.ok(syncs >= 1 && syncs <= 3, `syncs ${syncs}`);
    await e.close();
  });

  it('commit-log segments are deleted once their data is in tables', async () => {
    const disk = new MemoryDisk();
    const fs = disk.mount();
    const e = await openLsmEngine({ clock: realClock, dir: '/db', fs, memtableBytes: 2048 });
    for (let i = 0; i < 300; i++) await e.write([{ key: enc(`k${i}`), value: new Uint8Array(50) }]);
    await e.flush();
    const logs = (await fs.readdir('/db')).filter((n) => n.endsWith('.log'));
    assert.ok(e.stats().flushes > 10);
    assert.ok(logs.length <= 3, `segments left: ${logs.join(',')}`);
    await e.close();
  });

  it('a scan keeps reading tables that compaction replaced meanwhile', async () => {
    const disk = new MemoryDisk();
    const fs = disk.mount();
    const e = await openLsmEngine({ clock: realClock, dir: '/db', fs, memtableBytes: 1 << 20, compaction: { enabled: true, minMerge: 2, maxSizeAmpPercent: 0 } });
    for (let t = 0; t < 2; t++) {
      await e.write(Array.from({ length: 500 }, (_, i) => ({ key: enc(`k${String(i * 2 + t).padStart(5, '0')}`), value: enc(`v${t}`) })));
      await e.flush();
    }
    // Both flushes were merged: start a scan on the merged table, then merge again under it.
    const it = e.scan();
    const first = it.next();
    assert.equal(first.done, false);
    await e.write([{ key: enc('zzz'), value: enc('1') }]);
    await e.flush();
    await e.idle();
    let n = 1;
    for (const _ of it) n++;
    assert.equal(n, 1000);
    assert.equal([...e.scan()].length, 1001);
    await e.close();
    const sst = (await fs.readdir('/db')).filter((x) => x.endsWith('.sst'));
    assert.equal(sst.length, 1, `obsolete tables deleted after the scan: ${sst.join(',')}`);
  });

  it('compaction keeps to its I/O budget', async () => {
    const disk = new MemoryDisk();
    let virtualMs = 0;
    // Virtual time that jumps forward by every wait (a wait settles on the next turn).
    const clock: Clock = {
      nowMs: () => virtualMs,
      setTimer: (ms, fn) => {
        virtualMs += ms;
        setImmediate(fn);
        return { id: 0 };
      },
      clearTimer: () => undefined,
    };
    const e = await openLsmEngine({
      clock, dir: '/db', fs: disk.mount(), memtableBytes: 1 << 24,
      compaction: { enabled: true, minMerge: 2, maxSizeAmpPercent: 0, bytesPerSec: 1024 * 1024, sliceBytes: 16 * 1024 },
    });
    for (let t = 0; t < 2; t++) {
      await e.write(Array.from({ length: 2000 }, (_, i) => ({ key: enc(`k${String(i).padStart(5, '0')}`), value: new Uint8Array(250) })));
      await e.flush();
    }
    await e.idle();
    // 4000 entries of ~260 bytes read and ~2000 written: about 1.5 MB of I/O at 1 MiB/s.
    assert.equal(e.stats().compactions, 1);
    assert.ok(virtualMs >= 1200, `compaction took ${virtualMs} virtual ms`);
    await e.close();
  });
});

describe('BlockCache', () => {
  it('stays within its byte bound and keeps recently used blocks', async () => {
    const { BlockCache, blockCost } = await import('../../src/storage/lsm/block-cache.js');
    const block = () => ({ data: Buffer.alloc(1000), entries: new Int32Array(4), count: 1 });
    const cost = blockCost(block());
    const cache = new BlockCache(cost * 10);
    for (let i = 0; i < 10; i++) cache.set(i, block());
    for (let i = 0; i < 5; i++) assert.ok(cache.get(i));
    for (let i = 10; i < 15; i++) cache.set(i, block());
    assert.ok(cache.sizeBytes <= cost * 10);
    for (let i = 0; i < 5; i++) assert.ok(cache.get(i), `hot block ${i} kept`);
    for (let i = 5; i < 10; i++) assert.equal(cache.get(i), undefined, `cold block ${i} evicted`);
    cache.dropTable(0, 20);
    assert.equal(cache.sizeBytes, 0);
  });
});
