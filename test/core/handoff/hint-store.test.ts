import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { HintStore, decodeHintRecord, encodeHintRecord, hintKey, hintSeqOf, parseHintKey, crc32 } from '../../../src/core/handoff/index.js';
import { ReadyBuilder } from '../../../src/core/ready.js';
import { keyspaceOf } from '../../../src/core/keys.js';
import type { StorageWrite } from '../../../src/core/keys.js';

/** A disk for the store: applies the writes of each Ready (what the runtime makes durable). */
function disk(): { fx: ReadyBuilder; data: Map<string, [Uint8Array, Uint8Array]>; flush(): StorageWrite[] } {
  const fx = new ReadyBuilder();
  const data = new Map<string, [Uint8Array, Uint8Array]>();
  return {
    fx, data,
    flush() {
      const rd = fx.take();
      for (const w of rd.writes) {
        const k = Buffer.from(w.key).toString('hex');
        if (w.value === null) data.delete(k);
        else data.set(k, [w.key, w.value]);
      }
      return [...rd.writes];
    },
  };
}
const sorted = (d: Map<string, [Uint8Array, Uint8Array]>): [Uint8Array, Uint8Array][] =>
  [...d.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);

const LIMITS = { hintAgeMsMax: 1000, hintBytesPerTargetMax: 10_000 };

describe('hint records', () => {
  it('round-trip, and any flipped byte is detected by the checksum', () => {
    const rec = { key: 'clé', tsMs: 1234.5, state: new Uint8Array([1, 2, 3, 4, 5]) };
    const bytes = encodeHintRecord(rec);
    assert.deepEqual(decodeHintRecord(bytes), rec);
    for (let i = 0; i < bytes.length; i++) {
      const bad = Uint8Array.from(bytes);
      bad[i]! ^= 0x10;
      assert.equal(decodeHintRecord(bad), undefined, `byte ${i} flipped`);
    }
    assert.equal(decodeHintRecord(bytes.subarray(0, 10)), undefined);
  });

  it('keys sort by target then by seq, in the hint keyspace', () => {
    const a = hintKey('n1', 2);
    const b = hintKey('n1', 2 ** 33 + 1);
    assert.equal(keyspaceOf(a), 'hint');
    assert.ok(Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0);
    assert.deepEqual(parseHintKey(b), { target: 'n1', seq: 2 ** 33 + 1 });
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  });

  it('a key\'s seq is read without its target, and only from well-formed hint keys', () => {
    for (const seq of [0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 33 + 7, Number.MAX_SAFE_INTEGER]) {
      for (const target of ['b', 'nœud-7', 'x'.repeat(200)]) {
        const k = hintKey(target, seq);
        assert.equal(hintSeqOf(k), seq, `${target} ${seq}`);
        assert.deepEqual(parseHintKey(k), { target, seq });
      }
    }
    const k = hintKey('n1', 5);
    assert.equal(hintSeqOf(k.subarray(0, k.length - 1)), undefined, 'one byte short');
    assert.equal(hintSeqOf(Uint8Array.of(...k, 0)), undefined, 'one byte long');
    assert.equal(hintSeqOf(Uint8Array.of(0x01, ...k.subarray(1))), undefined, 'another keyspace');
    assert.equal(hintSeqOf(new Uint8Array(0)), undefined);
  });

  it('the sliced CRC-32 equals zlib\'s for every length and start offset (8-byte body and the tail)', () => {
    let x = 0x9e3779b9;
    const bytes = new Uint8Array(300).map(() => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x >>> 24;
    });
    for (let len = 0; len <= bytes.length; len += len < 40 ? 1 : 37) {
      for (let start = 0; start <= Math.min(len, 17); start++) {
        const b = bytes.subarray(0, len);
        assert.equal(crc32(b, start), zlibCrc32(b.subarray(start)) >>> 0, `length ${len} from ${start}`);
      }
    }
    // A view at an odd offset of a larger buffer (as records arrive inside engine blocks).
    const view = bytes.subarray(3, 203);
    assert.equal(crc32(view, 4), zlibCrc32(view.subarray(4)) >>> 0);
  });
});

describe('the hint store', () => {
  it('writes each hint through the Ready, deletes it once delivered, and counts', () => {
    const d = disk();
    const s = new HintStore(d.fx, LIMITS);
    assert.equal(s.accept('n2', 'a', new Uint8Array([1]), 0), true);
    assert.equal(s.accept('n2', 'b', new Uint8Array([2]), 0), true);
    const writes = d.flush();
    assert.equal(writes.length, 2);
    assert.ok(writes.every((w) => w.space === 'hint' && w.value !== null));
    assert.deepEqual([...s.hintsFor('n2')].map((h) => h.key), ['a', 'b']);
    s.remove([...s.hintsFor('n2')][0]!, true);
    d.flush();
    assert.equal(d.data.size, 1);
    assert.deepEqual(s.pending(), { n2: 1 });
    assert.deepEqual(s.counters, { stored: 2, delivered: 1, dropped: 0 });
  });

  it('refuses hints past the bytes bound per target, and counts them dropped', () => {
    const d = disk();
    const s = new HintStore(d.fx, LIMITS);
    let accepted = 0;
    for (let i = 0; i < 50; i++) if (s.accept('n2', `k${i}`, new Uint8Array(1000), 0)) accepted++;
    assert.ok(accepted >= 8 && accepted < 10, `accepted ${accepted}`);
    assert.ok(s.bytesPending() <= LIMITS.hintBytesPerTargetMax);
    assert.equal(s.counters.dropped, 50 - accepted);
    assert.equal(s.accept('n3', 'other', new Uint8Array(1000), 0), true, 'the bound is per target');
  });

  it('drops hints older than the age bound', () => {
    const d = disk();
    const s = new HintStore(d.fx, LIMITS);
    s.accept('n2', 'old', new Uint8Array([1]), 0);
    s.accept('n2', 'young', new Uint8Array([1]), 900);
    d.flush();
    assert.equal(s.expire(1500), 1);
    d.flush();
    assert.deepEqual([...s.hintsFor('n2')].map((h) => h.key), ['young']);
    assert.equal(s.counters.dropped, 1);
    assert.equal(d.data.size, 1);
  });

  it('a restarted store finds its hints in order, drops damaged records, and keeps numbering after them', () => {
    const d = disk();
    const s = new HintStore(d.fx, LIMITS);
    for (const k of ['a', 'b', 'c']) s.accept('n2', k, new Uint8Array([7]), 0);
    s.accept('n4', 'z', new Uint8Array([7]), 0);
    d.flush();
    // Damage the record of 'b' on disk.
    const entryB = sorted(d.data).find(([, v]) => decodeHintRecord(v)?.key === 'b')!;
    entryB[1] = Uint8Array.from(entryB[1]);
    entryB[1][entryB[1].length - 1]! ^= 1;

    const d2 = { ...disk(), data: d.data };
    const s2 = new HintStore(d2.fx, LIMITS);
    s2.load(sorted(d.data));
    assert.deepEqual([...s2.hintsFor('n2')].map((h) => h.key), ['a', 'c']);
    assert.deepEqual(s2.pending(), { n2: 2, n4: 1 });
    assert.equal(s2.counters.dropped, 1);
    const deleted = d2.fx.take().writes;
    assert.equal(deleted.length, 1, 'the damaged record is deleted');
    assert.equal(deleted[0]!.value, null);
    s2.accept('n2', 'd', new Uint8Array([1]), 0);
    const seqs = [...s2.hintsFor('n2')].map((h) => h.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, seqs.length, 'no seq reused');
  });
});
