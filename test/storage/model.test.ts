import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryDisk } from '../../src/storage/fs/memory-fs.js';
import { openLsmEngine } from '../../src/storage/lsm/index.js';
import type { LsmEngine, LsmOptions } from '../../src/storage/lsm/index.js';
import { realClock } from './helpers.js';

/**
 * Random programs of puts, deletes, batches, flushes, compactions and reopens against a plain
 * map: after every step, point reads and bounded scans agree with the model.
 */
const KEYS: Uint8Array[] = Array.from({ length: 24 }, (_, i) =>
  i % 6 === 0 ? Uint8Array.of(0x00, i) : i % 6 === 1 ? Uint8Array.of(0xff, i, 0xff) : Buffer.from(`key-${String(i).padStart(2, '0')}`));
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

type Op =
  | { kind: 'put'; k: number; len: number; fill: number }
  | { kind: 'del'; k: number }
  | { kind: 'batch'; ops: { k: number; len: number; del: boolean }[] }
  | { kind: 'flush' }
  | { kind: 'compact' }
  | { kind: 'reopen' }
  | { kind: 'scan'; a: number; b: number; limit: number };

const keyIdx = fc.integer({ min: 0, max: KEYS.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), k: keyIdx, len: fc.integer({ min: 0, max: 600 }), fill: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), k: keyIdx }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('batch' as const), ops: fc.array(fc.record({ k: keyIdx, len: fc.integer({ min: 0, max: 100 }), del: fc.boolean() }), { minLength: 1, maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('scan' as const), a: keyIdx, b: keyIdx, limit: fc.integer({ min: 1, max: 30 }) }) },
);

describe('LsmEngine against a model', () => {
  it('random programs agree with a map', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 80 }), async (program) => {
      const disk = new MemoryDisk();
      const options = (): LsmOptions => ({ clock: realClock,
        dir: '/db', fs: disk.mount(), sync: 'none', memtableBytes: 1024, blockBytes: 128,
        compaction: { minMerge: 2, maxTables: 3 },
      });
      let e: LsmEngine = await openLsmEngine(options());
      const model = new Map<string, Uint8Array>();
      const sortedModel = (): [string, Uint8Array][] => [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const op of program) {
        if (op.kind === 'put') {
          const v = new Uint8Array(op.len).fill(op.fill);
          model.set(hex(KEYS[op.k]!), v);
          await e.write([{ key: KEYS[op.k]!, value: v }]);
        } else if (op.kind === 'del') {
          model.delete(hex(KEYS[op.k]!));
          await e.write([{ key: KEYS[op.k]!, value: null }]);
        } else if (op.kind === 'batch') {
          const batch = op.ops.map((o) => ({ key: KEYS[o.k]!, value: o.del ? null : new Uint8Array(o.len).fill(o.k) }));
          for (const w of batch) {
            if (w.value === null) model.delete(hex(w.key));
            else model.set(hex(w.key), w.value);
          }
          await e.write(batch);
        } else if (op.kind === 'flush') {
          await e.flush();
        } else if (op.kind === 'compact') {
          await e.idle();
        } else if (op.kind === 'reopen') {
          await e.close();
          e = await openLsmEngine(options());
        } else {
          const lo = hex(KEYS[op.a]!);
          const hi = hex(KEYS[op.b]!);
          const got = [...e.scan({ gte: KEYS[op.a]!, lt: KEYS[op.b]!, limit: op.limit })].map(([k, v]) => `${hex(k)}=${hex(v)}`);
          const want = sortedModel().filter(([k]) => k >= lo && k < hi).slice(0, op.limit).map(([k, v]) => `${k}=${hex(v)}`);
          assert.deepEqual(got, want);
        }
        for (const key of KEYS) {
          const got = e.get(key);
          const want = model.get(hex(key));
          assert.equal(got === undefined ? undefined : hex(got), want === undefined ? undefined : hex(want), `key ${hex(key)} after ${op.kind}`);
        }
      }
      assert.deepEqual([...e.scan()].map(([k, v]) => `${hex(k)}=${hex(v)}`), sortedModel().map(([k, v]) => `${k}=${hex(v)}`));
      assert.deepEqual(e.stats().corruptions, []);
      await e.close();
    }), { numRuns: 200, seed: 20261122 });
  });
});
