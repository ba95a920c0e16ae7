import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDisk } from '../../src/storage/fs/memory-fs.js';
import { openLsmEngine, syncCompressor } from '../../src/storage/lsm/index.js';
import type { LsmEvent } from '../../src/storage/lsm/index.js';
import { compactionDebtBytes, isSettled, pickCompaction } from '../../src/storage/lsm/compaction.js';
import type { CompactionCandidate, CompactionPolicy } from '../../src/storage/lsm/compaction.js';
import { WriteController } from '../../src/storage/lsm/write-controller.js';
import { seededRandom } from '../../src/sim/prng.js';
import { realClock } from './helpers.js';
import { renderStorageMetrics } from '../../src/api/http/metrics.js';

const policy: CompactionPolicy = { minMerge: 4, maxMerge: 16, sizeRatioPercent: 100, maxSizeAmpPercent: 200, mergeBytesMax: 1000 };
const t = (bytes: number, extra: Partial<CompactionCandidate> = {}): CompactionCandidate => ({ bytes, damaged: false, busy: false, ...extra });

describe('compaction policy', () => {
  it('merges runs of similar size, never past mergeBytesMax, never settled tables', () => {
    assert.deepEqual(pickCompaction([t(10), t(10), t(10), t(10)], policy, 8), { start: 0, end: 3, reason: 'size-amplification' });
    // Four settled tables: nothing to do, however many there are.
    const settled = Array.from({ length: 30 }, () => t(600));
    assert.ok(isSettled(600, policy));
    assert.equal(pickCompaction(settled, policy, 8), undefined);
    // Similar tables whose sum would pass the cap: the run stops at the cap.
    const pick = pickCompaction([t(300), t(300), t(300), t(300), t(300), ...settled], policy, 8);
    assert.equal(pick, undefined, 'no run of 4 fits in 1000 bytes');
    const small = pickCompaction([t(5), t(200), t(200), t(200), t(200), ...settled], policy, 8);
    assert.deepEqual(small && [small.start, small.end, small.reason], [1, 4, 'size-ratio']);
  });

  it('picks only free tables, so two compactions never share a table', () => {
    const tables = [t(10, { busy: true }), t(10, { busy: true }), t(10), t(10), t(10), t(10), t(400)];
    const pick = pickCompaction(tables, policy, 8);
    assert.deepEqual(pick && [pick.start, pick.end], [2, 5]);
    const damaged = [t(10), t(10, { damaged: true }), t(10), t(10)];
    assert.equal(pickCompaction(damaged, policy, 8), undefined);
  });

  it('merges dissimilar neighbours past the table-count bound, smallest pair first', () => {
    const tables = [t(1), t(40), t(3), t(90), t(7), t(300), t(600)];
    const pick = pickCompaction(tables, policy, 5);
    assert.deepEqual(pick && [pick.start, pick.end, pick.reason], [0, 1, 'run-count']);
    assert.equal(pickCompaction(tables, policy, 6), undefined);
  });

  it('debt counts every merge the policy would start now', () => {
    assert.equal(compactionDebtBytes([t(10), t(10), t(10), t(10), t(600)], policy, 8), 40);
    assert.equal(compactionDebtBytes([t(600), t(600)], policy, 8), 0);
  });

  it('under an endless insert load (a model), the largest merge stays bounded and write amplification logarithmic', () => {
    const r = seededRandom(3);
    let tables: number[] = [];
    let written = 0;
    let ingested = 0;
    let largest = 0;
    for (let flush = 0; flush < 3000; flush++) {
      const size = 8 + Math.floor(r() * 4);
      tables.unshift(size);
      ingested += size;
      written += size;
      for (let pick = pickCompaction(tables.map((b) => t(b)), policy, 8); pick; pick = pickCompaction(tables.map((b) => t(b)), policy, 8)) {
        const merged = tables.slice(pick.start, pick.end + 1).reduce((s, b) => s + b, 0);
        largest = Math.max(largest, merged);
        written += merged;
        tables.splice(pick.start, pick.end - pick.start + 1, merged);
      }
      tables = tables.filter((b) => b > 0);
    }
    assert.ok(largest <= policy.mergeBytesMax, `largest merge ${largest}`);
    const unsettled = tables.filter((b) => !isSettled(b, policy)).length;
    assert.ok(unsettled <= 8, `unsettled tables ${unsettled}`);
    // Tiers of ×4 from ~10 to ~1000 bytes: each byte is rewritten about log4(100) ≈ 3–4 times.
    const wa = written / ingested;
    assert.ok(wa > 2 && wa < 5, `write amplification ${wa.toFixed(2)}`);
  });
});

describe('write controller', () => {
  const settings = { slowdownRuns: 4, stopRuns: 8, debtSoftBytes: 1e9, rateMinBytesPerSec: 1000 };

  it('admits at once below the slowdown, then holds acknowledgements to a rate that falls as pressure grows', () => {
    const c = new WriteController(settings, 0);
    c.admitted(1_000_000);
    c.update(2, 0, 1000);
    assert.equal(c.pressure, 'none');
    assert.equal(c.delayFor(1000, 1000), 0);
    c.admitted(1_000_000);
    c.update(4, 0, 2000);
    assert.equal(c.pressure, 'slowdown');
    const rate1 = c.delayedRateBytesPerSec;
    assert.ok(rate1 > 0 && rate1 <= 1_000_000, `rate ${rate1}`);
    // 100 writes of 10 kB admitted at the same instant: spaced at the rate, not all at once.
    const delays = Array.from({ length: 100 }, () => c.delayFor(10_000, 2000));
    assert.ok(Math.abs(delays[99]! - (100 * 10_000 * 1000) / rate1) < 1, `last delay ${delays[99]}`);
    assert.ok(delays.every((d, i) => i === 0 || d >= delays[i - 1]!));
    c.update(6, 0, 2100);
    assert.ok(c.delayedRateBytesPerSec < rate1, 'more pressure, lower rate');
    c.update(5, 0, 2200);
    assert.ok(c.delayedRateBytesPerSec > c.delayedRateBytesPerSec * 0.99 && c.pressure === 'slowdown');
    c.update(8, 0, 2300);
    assert.equal(c.pressure, 'stop');
    c.update(1, 0, 2400);
    assert.equal(c.pressure, 'none');
    assert.equal(c.delayFor(10_000, 2400), 0);
  });

  it('slows down on compaction debt alone', () => {
    const c = new WriteController({ ...settings, debtSoftBytes: 100 }, 0);
    c.update(1, 150, 10);
    assert.equal(c.pressure, 'slowdown');
  });
});

describe('LsmEngine steady state', () => {
  it('a long put load keeps every merge under the cap, unsettled tables bounded, and never stalls on tables', async () => {
    const disk = new MemoryDisk({ seed: 4 });
    const events: LsmEvent[] = [];
    const mergeBytesMax = 256 * 1024;
    const e = await openLsmEngine({
      clock: realClock, compressor: syncCompressor, dir: '/db', fs: disk.mount(), sync: 'none',
      memtableBytes: 16 * 1024, blockBytes: 1024, slowdownTables: 6, tableCountStall: 12,
      compaction: { mergeBytesMax, maxTables: 4, concurrency: 2 },
      onEvent: (ev) => events.push(ev),
    });
    const r = seededRandom(8);
    let maxUnsettled = 0;
    for (let i = 0; i < 12_000; i += 32) {
      await Promise.all(Array.from({ length: 32 }, (_, j) => {
        const key = Buffer.alloc(12);
        key.writeUInt32BE(Math.floor(r() * 2 ** 32), 0);
        key.writeUInt32BE(i + j, 8);
        const value = Buffer.allocUnsafe(200);
        for (let b = 0; b < 200; b += 4) value.writeUInt32LE(Math.floor(r() * 2 ** 32), b);
        return e.write([{ key, value }]);
      }));
      const s = e.stats();
      maxUnsettled = Math.max(maxUnsettled, s.tables - s.settledTables);
    }
    await e.flush();
    const starts = events.filter((ev) => ev.type === 'compaction-start');
    assert.ok(starts.length > 10, `${starts.length} compactions`);
    for (const ev of starts) assert.ok(ev.type === 'compaction-start' && ev.inputBytes <= mergeBytesMax, 'no merge past the cap');
    const s = e.stats();
    assert.ok(s.settledTables >= 3, `settled ${s.settledTables}`);
    assert.ok(maxUnsettled <= 12, `unsettled tables peaked at ${maxUnsettled}`);
    assert.equal(s.tableEntries, 12_000);
    assert.ok(s.writeAmplification > 2 && s.writeAmplification < 8, `WA ${s.writeAmplification}`);
    assert.equal(s.compactionDebtBytes, 0);
    const text = renderStorageMetrics(s).join('\n');
    assert.match(text, new RegExp(`^gossamer_storage_settled_tables ${s.settledTables}$`, 'm'));
    assert.match(text, /^gossamer_storage_stalls_total \d+$/m);
    assert.match(text, /^gossamer_storage_compaction_debt_bytes 0$/m);
    // Acknowledgements may wait for a flush (this test writes as fast as the CPU allows), but the
    // write controller keeps them from ever waiting for compaction.
    assert.equal(events.filter((ev) => ev.type === 'stall' && ev.reason === 'tables').length, 0);
    await e.close();
  });

  it('reclaims the garbage of settled tables: versions shadowed by newer writes and deletes go', async () => {
    const disk = new MemoryDisk({ seed: 6 });
    const e = await openLsmEngine({
      clock: realClock, compressor: syncCompressor, dir: '/db', fs: disk.mount(), sync: 'none',
      memtableBytes: 1 << 20, blockBytes: 1024, compaction: { mergeBytesMax: 64 * 1024 },
    });
    const r = seededRandom(2);
    const value = (): Buffer => {
      const v = Buffer.allocUnsafe(200);
      for (let b = 0; b < 200; b += 4) v.writeUInt32LE(Math.floor(r() * 2 ** 32), b);
      return v;
    };
    const key = (i: number): Buffer => Buffer.from(`key-${String(i).padStart(5, '0')}`);
    // Two settled tables holding the same 400 keys: the older one is all garbage.
    for (let round = 0; round < 2; round++) {
      await e.write(Array.from({ length: 400 }, (_, i) => ({ key: key(i), value: value() })));
      await e.flush();
    }
    await e.idle();
    let s = e.stats();
    assert.ok(s.cleanups >= 1, `cleanups ${s.cleanups}`);
    assert.equal(s.tables, 1, 'the shadowed table was rewritten to nothing');
    assert.equal(s.tableEntries, 400);
    // Delete half the keys (the deletes land in a newer settled table with 400 other keys).
    await e.write(Array.from({ length: 200 }, (_, i) => ({ key: key(i), value: null })));
    await e.write(Array.from({ length: 400 }, (_, i) => ({ key: key(1000 + i), value: value() })));
    await e.flush();
    await e.idle();
    s = e.stats();
    for (let i = 0; i < 400; i++) assert.equal(e.get(key(i)) === undefined, i < 200, `key ${i}`);
    assert.equal([...e.scan()].length, 600);
    // The bottom table lost the 200 versions the newer deletes shadow (400 → 200 entries).
    assert.ok(s.cleanups >= 2, `cleanups ${s.cleanups}`);
    assert.equal(s.tableEntries, 600 + 200, `entries ${s.tableEntries}`);
    await e.close();
  });
});
