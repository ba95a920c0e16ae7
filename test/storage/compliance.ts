import { describe, it } from 'node:test';
import { seededRandom } from '../../src/sim/prng.js';
import assert from 'node:assert/strict';
import type { StorageEngine, WriteOp } from '../../src/ports/storage.js';
import { dataKeyFromBytes, dataRange, metaKey } from '../../src/core/keys.js';
import { StorageError } from '../../src/storage/engine.js';

export interface EngineFixture {
  engine: StorageEngine;
  /** Closes nothing: the caller closes `engine` first; returns a fresh engine on the same data. */
  reopen?: () => Promise<StorageEngine>;
  cleanup: () => Promise<void>;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : Buffer.from(u).toString());
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

const rand = seededRandom;

/** The storage contract (src/storage/engine.ts), run against every engine. */
export function runEngineCompliance(name: string, makeEngine: () => Promise<EngineFixture>): void {
  describe(`${name}: StorageEngine compliance`, () => {
    const withEngine = (title: string, fn: (f: EngineFixture) => Promise<void>): void => {
      it(title, async () => {
        const f = await makeEngine();
        try {
          await fn(f);
        } finally {
          await f.engine.close().catch(() => undefined);
          await f.cleanup();
        }
      });
    };

    withEngine('get of a missing key is undefined', async ({ engine }) => {
      assert.equal(engine.get(enc('nope')), undefined);
    });

    withEngine('peek answers what get answers, and the engine never writes into bytes it handed out', async ({ engine }) => {
      if (!engine.peek) return;
      const keys = Array.from({ length: 400 }, (_, i) => enc(`peek-${String(i).padStart(4, '0')}`));
      const round = async (tag: string): Promise<void> => {
        for (let i = 0; i < keys.length; i += 50) {
          await engine.write(keys.slice(i, i + 50).map((key, j) => ({ key, value: enc(`${tag}-${i + j}-${'x'.repeat(200)}`) })));
        }
      };
      await round('first');
      await engine.write([{ key: keys[7]!, value: null }]);
      const seen = keys.map((k) => engine.peek!(k));
      keys.forEach((k, i) => assert.deepEqual(seen[i], engine.get(k), `peek and get differ for key ${i}`));
      assert.equal(seen[7], undefined, 'a deleted key peeks as absent');
      const before = seen.map((v) => (v === undefined ? undefined : Buffer.from(v).toString()));
      // Overwrite everything (flushes and compactions run in the engines that have them).
      await round('second');
      await round('third');
      seen.forEach((v, i) => assert.equal(v === undefined ? undefined : Buffer.from(v).toString(), before[i], `bytes peeked for key ${i} changed`));
      assert.match(dec(engine.peek(keys[3]!)) ?? '', /^third-3-/);
    });

    withEngine('a write is visible at once, before its promise resolves', async ({ engine }) => {
      const p = engine.write([{ key: enc('a'), value: enc('1') }]);
      assert.equal(dec(engine.get(enc('a'))), '1');
      await p;
      assert.equal(dec(engine.get(enc('a'))), '1');
    });

    withEngine('overwrites and deletes', async ({ engine }) => {
      await engine.write([{ key: enc('k'), value: enc('v1') }]);
      await engine.write([{ key: enc('k'), value: enc('v2') }]);
      assert.equal(dec(engine.get(enc('k'))), 'v2');
      await engine.write([{ key: enc('k'), value: null }]);
      assert.equal(engine.get(enc('k')), undefined);
      await engine.write([{ key: enc('k'), value: enc('v3') }]);
      assert.equal(dec(engine.get(enc('k'))), 'v3');
      await engine.write([{ key: enc('never'), value: null }]);
      assert.equal(engine.get(enc('never')), undefined);
    });

    withEngine('a batch applies in order and whole', async ({ engine }) => {
      await engine.write([
        { key: enc('x'), value: enc('1') },
        { key: enc('y'), value: enc('2') },
        { key: enc('x'), value: enc('3') },
        { key: enc('y'), value: null },
      ]);
      assert.equal(dec(engine.get(enc('x'))), '3');
      assert.equal(engine.get(enc('y')), undefined);
      await engine.write([]);
    });

    withEngine('empty values are values, not deletes', async ({ engine }) => {
      await engine.write([{ key: enc('e'), value: new Uint8Array(0) }]);
      const v = engine.get(enc('e'));
      assert.ok(v !== undefined);
      assert.equal(v.length, 0);
      assert.deepEqual([...engine.scan()].map(([k]) => dec(k)), ['e']);
    });

    withEngine('returned bytes are copies; written bytes are copied', async ({ engine }) => {
      const val = enc('abc');
      await engine.write([{ key: enc('c'), value: val }]);
      val[0] = 0x7a;
      const got = engine.get(enc('c'))!;
      assert.equal(dec(got), 'abc');
      got[0] = 0x7a;
      assert.equal(dec(engine.get(enc('c'))), 'abc');
    });

    withEngine('values up to 1 MiB', async ({ engine }) => {
      const big = new Uint8Array(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      await engine.write([{ key: enc('big'), value: big }]);
      assert.equal(hex(engine.get(enc('big'))!), hex(big));
    });

    withEngine('scan: byte order, bounds, limit, keys with 0x00 and 0xFF', async ({ engine }) => {
      const keys = [
        Uint8Array.of(0x00), Uint8Array.of(0x00, 0x00), Uint8Array.of(0x00, 0xff), Uint8Array.of(0x01),
        Uint8Array.of(0x7f), Uint8Array.of(0x80), Uint8Array.of(0xfe, 0xff), Uint8Array.of(0xff),
        Uint8Array.of(0xff, 0x00), Uint8Array.of(0xff, 0xff, 0xff), enc('a'), enc('ab'), enc('b'),
      ];
      const shuffled = keys.slice().reverse();
      await engine.write(shuffled.map((k) => ({ key: k, value: k })));
      const sorted = keys.map(hex).sort();
      assert.deepEqual([...engine.scan()].map(([k]) => hex(k)), sorted);
      for (const [k, v] of engine.scan()) assert.equal(hex(k), hex(v));
      const gte = Uint8Array.of(0x00, 0xff);
      const lt = Uint8Array.of(0xff, 0x00);
      assert.deepEqual(
        [...engine.scan({ gte, lt })].map(([k]) => hex(k)),
        sorted.filter((h) => h >= hex(gte) && h < hex(lt)),
      );
      assert.deepEqual([...engine.scan({ limit: 3 })].map(([k]) => hex(k)), sorted.slice(0, 3));
      assert.deepEqual([...engine.scan({ gte: Uint8Array.of(0xff), limit: 2 })].map(([k]) => hex(k)), ['ff', 'ff00']);
      assert.deepEqual([...engine.scan({ limit: 0 })], []);
      assert.deepEqual([...engine.scan({ gte: lt, lt: gte })], []);
      await engine.write([{ key: Uint8Array.of(0x80), value: null }]);
      assert.ok(![...engine.scan()].some(([k]) => hex(k) === '80'));
    });

    withEngine('a scan is not disturbed by writes made while it runs', async ({ engine }) => {
      await engine.write(Array.from({ length: 50 }, (_, i) => ({ key: enc(`s${String(i).padStart(3, '0')}`), value: enc('old') })));
      const seen: string[] = [];
      let writes: Promise<void> | undefined;
      for (const [k, v] of engine.scan()) {
        seen.push(`${dec(k)}=${dec(v)}`);
        if (!writes) writes = engine.write([{ key: enc('s025'), value: enc('new') }, { key: enc('s0001'), value: enc('x') }]);
      }
      await writes;
      assert.equal(seen.length, 50);
      assert.ok(seen.every((s) => s.endsWith('=old')));
      assert.equal(dec(engine.get(enc('s025'))), 'new');
    });

    withEngine('many keys with overwrites and deletes match a model', async ({ engine }) => {
      const model = new Map<string, string>();
      const r = rand(42);
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 6000; i++) {
        const k = `key-${Math.floor(r() * 3000).toString().padStart(5, '0')}`;
        if (r() < 0.15) {
          model.delete(k);
          pending.push(engine.write([{ key: enc(k), value: null }]));
        } else {
          const v = `${k}:${i}:${'x'.repeat(Math.floor(r() * 200))}`;
          model.set(k, v);
          pending.push(engine.write([{ key: enc(k), value: enc(v) }]));
        }
        if (pending.length >= 64) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      for (let i = 0; i < 3000; i++) {
        const k = `key-${i.toString().padStart(5, '0')}`;
        assert.equal(dec(engine.get(enc(k))), model.get(k), k);
      }
      const expected = [...model.keys()].sort();
      assert.deepEqual([...engine.scan()].map(([k]) => dec(k)), expected);
      const lo = 'key-01000';
      const hi = 'key-02000';
      assert.deepEqual(
        [...engine.scan({ gte: enc(lo), lt: enc(hi), limit: 100 })].map(([k]) => dec(k)),
        expected.filter((k) => k >= lo && k < hi).slice(0, 100),
      );
    });

    withEngine('scanPage walks a partition in bounded, resumable pages while writes interleave', async ({ engine }) => {
      // Three partitions of the core's layout: 0x01 | hash (4 bytes) | key.
      const part = (p: number): { gte: Uint8Array; lt: Uint8Array } => dataRange(p * 2 ** 30, (p + 1) * 2 ** 30);
      const r = rand(5);
      const model = new Map<string, string>();
      const writes: WriteOp[] = [];
      for (let i = 0; i < 1500; i++) {
        const k = dataKeyFromBytes(enc(`k${i}\u0000\u00ff`), Math.floor(r() * 2 ** 32));
        const v = 'v'.repeat(Math.floor(r() * 300));
        model.set(hex(k), v);
        writes.push({ key: k, value: enc(v) });
      }
      await engine.write(writes);
      await engine.write([{ key: metaKey('ring'), value: enc('outside every partition') }]);
      const { gte, lt } = part(1);
      const expected = [...model.keys()].filter((k) => k >= hex(gte) && k < hex(lt)).sort();
      assert.ok(expected.length > 200);
      const got: string[] = [];
      let after: Uint8Array | undefined;
      let pages = 0;
      do {
        const page = engine.scanPage({ gte, lt, countMax: 50, bytesMax: 4000, ...(after ? { after } : {}) });
        assert.ok(page.entries.length >= 1 && page.entries.length <= 50);
        const bytes = page.entries.reduce((s, [k, v]) => s + k.length + v.length, 0);
        assert.equal(page.bytes, bytes);
        assert.ok(bytes <= 4000 || page.entries.length === 1, `page of ${bytes} bytes`);
        for (const [k, v] of page.entries) {
          got.push(hex(k));
          assert.equal(dec(v), model.get(hex(k)));
        }
        after = page.resumeAfter;
        pages++;
        // A write between pages, behind the cursor and ahead of it: the walk goes on from its key.
        if (pages === 2) await engine.write([{ key: gte, value: enc('behind') }]);
      } while (after !== undefined);
      assert.deepEqual(got, expected, 'every key of the partition once, in order');
      assert.ok(pages >= Math.ceil(expected.length / 50));
      const huge = engine.scanPage({ gte, lt, countMax: 10, bytesMax: 1 });
      assert.equal(huge.entries.length, 1, 'the first entry always comes');
      assert.deepEqual(engine.scanPage({ gte: lt, lt, countMax: 5, bytesMax: 100 }), { entries: [], resumeAfter: undefined, bytes: 0 });
      const last = engine.scanPage({ gte, lt, countMax: 5, bytesMax: 1e9, after: lt });
      assert.equal(last.entries.length, 0);
      assert.throws(() => engine.scanPage({ countMax: 0, bytesMax: 10 }), RangeError);
      assert.throws(() => engine.scanPage({ countMax: 1.5, bytesMax: 10 }), RangeError);
      assert.throws(() => engine.scanPage({ countMax: 1, bytesMax: 0 }), RangeError);
    });

    withEngine('reopen after close keeps the data', async (f) => {
      if (!f.reopen) return;
      await f.engine.write([{ key: enc('p'), value: enc('persist') }, { key: enc('q'), value: enc('gone') }]);
      await f.engine.write([{ key: enc('q'), value: null }]);
      for (let i = 0; i < 500; i++) await f.engine.write([{ key: enc(`r${i}`), value: enc(`v${i}`.repeat(20)) }]);
      await f.engine.close();
      f.engine = await f.reopen();
      assert.equal(dec(f.engine.get(enc('p'))), 'persist');
      assert.equal(f.engine.get(enc('q')), undefined);
      for (let i = 0; i < 500; i++) assert.equal(dec(f.engine.get(enc(`r${i}`))), `v${i}`.repeat(20));
      assert.equal([...f.engine.scan()].length, 501);
    });

    withEngine('a closed engine refuses calls', async (f) => {
      await f.engine.close();
      assert.throws(() => f.engine.get(enc('a')), (e: unknown) => e instanceof StorageError && e.code === 'closed');
      await assert.rejects(f.engine.write([{ key: enc('a'), value: enc('b') }]), (e: unknown) => e instanceof StorageError && e.code === 'closed');
      assert.throws(() => [...f.engine.scan()], (e: unknown) => e instanceof StorageError && e.code === 'closed');
      assert.throws(() => f.engine.scanPage({ countMax: 1, bytesMax: 1 }), (e: unknown) => e instanceof StorageError && e.code === 'closed');
      await assert.rejects(f.engine.close());
    });
  });
}
