/** YCSB's generators and the bench driver, judged by the distributions and requests they produce. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../src/sim/prng.js';
import {
  AcknowledgedCounterGenerator, ScrambledZipfianGenerator, SkewedLatestGenerator, UniformLongGenerator,
  ZipfianGenerator, fnvHash64, zetaStatic, SCRAMBLED_ZETAN,
} from '../../src/cli/bench/generators.js';
import { CoreWorkload, WORKLOADS } from '../../src/cli/bench/workload.js';
import type { OpName } from '../../src/cli/bench/workload.js';
import { BenchDriver, runConcurrently } from '../../src/cli/bench/driver.js';
import type { BenchTransport, ReadResult, WriteResult } from '../../src/cli/bench/transports.js';
import { LogHistogram } from '../../src/api/http/ui/histogram.js';

function histogram(draw: () => number, n: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const v = draw();
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  return m;
}

/** FNV-1a 64 over bytes, written from the algorithm's definition (not from YCSB's shifting loop). */
function fnv1a64Bytes(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) % (1n << 64n);
  return h;
}

describe('YCSB generators', () => {
  it('zipfian(0.99): Gray\'s generator, exact for the two most popular items, close to 1/k^0.99 after', () => {
    const n = 1000;
    const draws = 200_000;
    const gen = new ZipfianGenerator(new Prng(7), 0, n - 1);
    const h = histogram(() => gen.nextValue(), draws);
    const zeta = zetaStatic(0, n, 0.99, 0);
    const share = (k: number): number => (h.get(k - 1) ?? 0) / draws;
    const ideal = (k: number): number => (1 / Math.pow(k, 0.99)) / zeta;
    for (const k of [1, 2]) assert.ok(Math.abs(share(k) - ideal(k)) < ideal(k) * 0.05, `rank ${k}: expected ${ideal(k)}, saw ${share(k)}`);
    // Beyond rank 2 Gray's closed form approximates the power law (YCSB accepts that).
    for (let k = 3; k <= 20; k++) assert.ok(Math.abs(share(k) - ideal(k)) < ideal(k) * 0.3, `rank ${k}: expected ${ideal(k)}, saw ${share(k)}`);
    for (const v of h.keys()) assert.ok(v >= 0 && v < n, `value ${v} in range`);
    // Skewed: the 10% most popular items take well over half of the draws.
    const top = [...h.values()].sort((a, b) => b - a).slice(0, n / 10).reduce((a, b) => a + b, 0);
    assert.ok(top / draws > 0.6, `top 10% share ${top / draws}`);
  });

  it('zipfian grows its zeta incrementally when asked for more items (the latest distribution needs it)', () => {
    const a = new ZipfianGenerator(new Prng(1), 0, 99);
    a.nextLong(500); // extends zeta from 100 to 500 items
    const draws = 100_000;
    const h = histogram(() => a.nextLong(500), draws);
    const p0 = (h.get(0) ?? 0) / draws;
    assert.ok(Math.abs(p0 - 1 / zetaStatic(0, 500, 0.99, 0)) < 0.01, `p(0) = ${p0}`);
    assert.ok([...h.keys()].some((v) => v >= 100), 'values beyond the first item count appear');
  });

  it('fnvhash64 is FNV-1a 64 over the long\'s 8 bytes, low first, made non-negative', () => {
    for (const v of [0, 1, 255, 256, 123_456_789, 2 ** 40 + 3, 9_999_999_999]) {
      const bytes = Buffer.alloc(8);
      bytes.writeBigInt64LE(BigInt(v));
      const raw = BigInt.asIntN(64, fnv1a64Bytes(bytes));
      assert.equal(fnvHash64(v), raw < 0n ? -raw : raw, `value ${v}`);
      assert.ok(fnvHash64(v) >= 0n);
    }
  });

  it('scrambled zipfian: the same skew as zipfian over 10^10 items, but the popular keys are scattered', () => {
    const n = 10_000;
    const draws = 100_000;
    const gen = new ScrambledZipfianGenerator(new Prng(3), 0, n - 1);
    const h = histogram(() => gen.nextValue(), draws);
    for (const v of h.keys()) assert.ok(v >= 0 && v < n);
    const sorted = [...h.entries()].sort((a, b) => b[1] - a[1]);
    // The most popular key gets about 1/zeta(10^10) of the draws.
    assert.ok(Math.abs(sorted[0]![1] / draws - 1 / SCRAMBLED_ZETAN) < 0.01, `top share ${sorted[0]![1] / draws}`);
    const top = sorted.slice(0, 5).map(([k]) => k).sort((a, b) => a - b);
    assert.ok(top[4]! - top[0]! > 50, `top keys are spread over the key space: ${top.join(',')}`);
  });

  it('uniform: every value about equally often', () => {
    const gen = new UniformLongGenerator(new Prng(5), 10, 19);
    const h = histogram(() => gen.nextValue(), 50_000);
    assert.deepEqual([...h.keys()].sort((a, b) => a - b), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    for (const c of h.values()) assert.ok(Math.abs(c - 5000) < 400, `count ${c}`);
  });

  it('latest: the newest acknowledged key is the most popular, and no key beyond it is drawn', () => {
    const seq = new AcknowledgedCounterGenerator(1000);
    const gen = new SkewedLatestGenerator(new Prng(11), seq);
    for (let i = 0; i < 50; i++) seq.acknowledge(seq.nextValue()); // keys 1000..1049 inserted
    const pending = seq.nextValue(); // 1050 handed out, not acknowledged
    const h = histogram(() => gen.nextValue(), 50_000);
    const sorted = [...h.entries()].sort((a, b) => b[1] - a[1]);
    assert.equal(seq.lastValue(), 1049);
    assert.equal(sorted[0]![0], 1049, 'the newest key is drawn most');
    assert.equal(sorted[1]![0], 1048);
    assert.ok(!h.has(pending), 'a key whose insert is not acknowledged is never read');
    assert.ok([...h.keys()].every((k) => k <= 1049 && k >= 0));
  });

  it('acknowledged counter: lastValue advances only over a contiguous run of acknowledged inserts', () => {
    const seq = new AcknowledgedCounterGenerator(10);
    const [a, b, c] = [seq.nextValue(), seq.nextValue(), seq.nextValue()];
    assert.equal(seq.lastValue(), 9);
    seq.acknowledge(b);
    assert.equal(seq.lastValue(), 9, 'a gap holds it back');
    seq.acknowledge(a);
    assert.equal(seq.lastValue(), 11);
    seq.acknowledge(c);
    assert.equal(seq.lastValue(), 12);
  });
});

describe('YCSB core workloads', () => {
  const mix = (name: keyof typeof WORKLOADS, draws = 20_000): Map<OpName, number> => {
    const wl = new CoreWorkload(WORKLOADS[name], { recordCount: 1000, operationCount: draws }, new Prng(2));
    const m = new Map<OpName, number>();
    for (let i = 0; i < draws; i++) {
      const { op, keynum } = wl.nextOp();
      if (op === 'INSERT') wl.acknowledgeInsert(keynum);
      m.set(op, (m.get(op) ?? 0) + 1);
    }
    return m;
  };

  it('operation mixes are the property files\' proportions', () => {
    const near = (m: Map<OpName, number>, op: OpName, share: number): void => {
      const seen = (m.get(op) ?? 0) / 20_000;
      assert.ok(Math.abs(seen - share) < 0.015, `${op}: expected ${share}, saw ${seen}`);
    };
    const a = mix('a'); near(a, 'READ', 0.5); near(a, 'UPDATE', 0.5);
    const b = mix('b'); near(b, 'READ', 0.95); near(b, 'UPDATE', 0.05);
    const c = mix('c'); near(c, 'READ', 1);
    const d = mix('d'); near(d, 'READ', 0.95); near(d, 'INSERT', 0.05);
    const f = mix('f'); near(f, 'READ', 0.5); near(f, 'READ-MODIFY-WRITE', 0.5);
    assert.equal(a.get('INSERT'), undefined);
  });

  it('keys are "user" + fnvhash64(keynum) and records are 10 fields of 100 bytes', () => {
    const wl = new CoreWorkload(WORKLOADS.a, { recordCount: 10, operationCount: 10 }, new Prng(1));
    assert.equal(wl.keyName(42), `user${fnvHash64(42)}`);
    assert.equal(wl.value().length, 1000);
    assert.notDeepEqual(wl.value(), wl.value());
  });

  it('D inserts new keys in order and reads the newest keys most', () => {
    const wl = new CoreWorkload(WORKLOADS.d, { recordCount: 100, operationCount: 10_000 }, new Prng(9));
    const inserted: number[] = [];
    const age = new Map<number, number>(); // how many inserts ago the key read was inserted
    let reads = 0;
    for (let i = 0; i < 10_000; i++) {
      const { op, keynum } = wl.nextOp();
      if (op === 'INSERT') {
        inserted.push(keynum);
        wl.acknowledgeInsert(keynum);
      } else {
        reads++;
        const a = wl.lastInserted() - keynum;
        assert.ok(a >= 0, 'never a key beyond the last acknowledged insert');
        age.set(a, (age.get(a) ?? 0) + 1);
      }
    }
    assert.deepEqual(inserted, inserted.map((_, i) => 100 + i), 'inserts take 100, 101, ... in order');
    const byAge = [...age.entries()].sort((x, y) => y[1] - x[1]);
    assert.equal(byAge[0]![0], 0, 'the newest key is read most');
    assert.equal(byAge[1]![0], 1);
    const young = [...age.entries()].filter(([a]) => a < 10).reduce((s, [, c]) => s + c, 0);
    // Uniform over the 100..600 keys would give the 10 newest about 3% of the reads.
    assert.ok(young / reads > 0.2, `the 10 newest keys take a large share of reads (${young} of ${reads})`);
  });
});

/** A store in memory that answers like the HTTP API (contexts as version counters) and records calls. */
class FakeTransport implements BenchTransport {
  readonly name = 'fake';
  readonly store = new Map<string, { value: Uint8Array; version: number }>();
  readonly calls: { kind: 'read' | 'write'; key: string; context?: string; value?: Uint8Array; answer?: string }[] = [];
  async read(key: string): Promise<ReadResult> {
    await Promise.resolve();
    const v = this.store.get(key);
    const answer = v ? `v${v.version}` : undefined;
    this.calls.push({ kind: 'read', key, ...(answer ? { answer } : {}) });
    return v ? { status: 'ok', value: v.value, context: `v${v.version}` } : { status: 'not_found' };
  }
  async write(key: string, value: Uint8Array, context?: string): Promise<WriteResult> {
    await Promise.resolve();
    const version = (this.store.get(key)?.version ?? 0) + 1;
    this.store.set(key, { value, version });
    this.calls.push({ kind: 'write', key, value, answer: `v${version}`, ...(context ? { context } : {}) });
    return { status: 'ok', context: `v${version}` };
  }
  close(): Promise<void> { return Promise.resolve(); }
}

describe('bench driver', () => {
  it('F: each read-modify-write reads, then writes the same key with the read\'s context and one field changed', async () => {
    const wl = new CoreWorkload(WORKLOADS.f, { recordCount: 20, operationCount: 400 }, new Prng(4));
    const t = new FakeTransport();
    const driver = new BenchDriver(wl, t);
    await driver.load({ clients: 1 });
    t.calls.length = 0;
    const before = new Map([...t.store].map(([k, v]) => [k, v.value]));
    const run = await driver.run({ clients: 1 });
    const rmw = run.ops.find((o) => o.op === 'READ-MODIFY-WRITE')!;
    assert.ok(rmw.count > 150 && rmw.count < 250, `about half are RMW: ${rmw.count}`);
    const writes = t.calls.map((c, i) => ({ c, i })).filter(({ c }) => c.kind === 'write');
    assert.equal(writes.length, rmw.count, 'F writes only in its read-modify-writes');
    const current = new Map(before);
    for (let i = 0; i < t.calls.length; i++) {
      const c = t.calls[i]!;
      if (c.kind !== 'write') continue;
      const read = t.calls[i - 1]!;
      assert.equal(read.kind, 'read');
      assert.equal(read.key, c.key);
      assert.equal(c.context, read.answer, 'the write carries the context its read returned');
      const old = current.get(c.key)!;
      let changedFields = 0;
      for (let f = 0; f < 10; f++) {
        if (Buffer.compare(Buffer.from(old.subarray(f * 100, f * 100 + 100)), Buffer.from(c.value!.subarray(f * 100, f * 100 + 100))) !== 0) changedFields++;
      }
      assert.ok(changedFields <= 1, `one field rewritten, ${changedFields} changed`);
      current.set(c.key, c.value!);
    }
    const reads = run.ops.find((o) => o.op === 'READ')!;
    assert.equal(reads.count, 400, 'F\'s reads plus the reads of its RMWs are all operations');
  });

  it('A: an update carries the context of the key\'s last read or write', async () => {
    const wl = new CoreWorkload(WORKLOADS.a, { recordCount: 10, operationCount: 200 }, new Prng(8));
    const t = new FakeTransport();
    const driver = new BenchDriver(wl, t);
    await driver.load({ clients: 1 });
    await driver.run({ clients: 1 });
    const lastSeen = new Map<string, string>();
    let updatesWithContext = 0;
    for (const c of t.calls) {
      if (c.kind === 'write' && lastSeen.has(c.key)) {
        assert.equal(c.context, lastSeen.get(c.key), 'the newest context the driver saw for the key');
        updatesWithContext++;
      }
      if (c.answer) lastSeen.set(c.key, c.answer);
    }
    assert.ok(updatesWithContext > 50, `updates sent contexts (${updatesWithContext})`);
  });

  it('a target rate spaces operation starts on one schedule', async () => {
    let nowMs = 0;
    const starts: number[] = [];
    await runConcurrently(20, {
      clients: 4, targetPerSec: 100, now: () => nowMs,
      sleep: async (ms) => { nowMs += ms; await Promise.resolve(); },
    }, async (i) => { starts[i] = nowMs; await Promise.resolve(); });
    for (let i = 0; i < 20; i++) assert.ok(starts[i]! >= i * 10 - 1, `op ${i} started at ${starts[i]} ms, not before ${i * 10}`);
  });
});

describe('log histogram', () => {
  it('quantiles within about 1% of the exact ones', () => {
    const rnd = new Prng(12);
    const values = Array.from({ length: 20_000 }, () => Math.exp(rnd.next() * 12)); // 1 µs .. 160 ms, log-uniform
    const h = new LogHistogram();
    for (const v of values) h.record(v);
    values.sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99, 0.999]) {
      const exact = values[Math.ceil(q * values.length) - 1]!;
      const got = h.quantile(q);
      assert.ok(Math.abs(got - exact) / exact < 0.012, `q${q}: exact ${exact}, got ${got}`);
    }
    assert.equal(h.quantile(1), values[values.length - 1]);
    const other = new LogHistogram();
    other.record(1e9);
    h.merge(other);
    assert.equal(h.count, 20_001);
    assert.equal(h.summary().maxMs, 1e6);
  });
});
