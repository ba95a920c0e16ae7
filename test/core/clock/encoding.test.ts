import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KeyState, Version } from '../../../src/core/clock/index.js';
import { EMPTY_STATE, decodeState, encodeState, statesEqual } from '../../../src/core/clock/index.js';
import { ByteWriter, bytesEqual, utf8Length, varintLength } from '../../../src/core/bytes.js';

// The fast paths of the state encoding (in-place ASCII strings, exact sizing, field-by-field
// equality) must agree exactly with the straightforward definitions they replace.

const te = new TextEncoder();

function naiveEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function referenceString(s: string): Uint8Array {
  const b = te.encode(s);
  const w = new ByteWriter();
  w.bytes(b);
  return w.finish();
}

const nodeArb = fc.constantFrom('node-0', 'node-1', 'node-2', 'nœud-3', '节点', 'a');
const strArb = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 200 }), fc.constantFrom('text/plain', 'application/octet-stream', ''));
const numArb = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 2 ** 45 }), fc.constant(Number.MAX_SAFE_INTEGER - 1));
const versionArb: fc.Arbitrary<Version> = fc.record({
  dot: fc.record({ node: nodeArb, counter: fc.integer({ min: 1, max: 1_000_000 }) }),
  value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
  contentType: strArb,
  tsMs: numArb,
});
const stateArb: fc.Arbitrary<KeyState> = fc.record({
  context: fc.record({
    // Clock entries are sorted by node, one per node (the decoder insists).
    clock: fc.uniqueArray(fc.record({ node: nodeArb, counter: fc.integer({ min: 1, max: 2 ** 40 }), tsMs: numArb }), { maxLength: 4, selector: (e) => e.node })
      .map((c) => c.sort((x, y) => (x.node < y.node ? -1 : 1))),
    cloud: fc.array(fc.record({ node: nodeArb, counter: fc.integer({ min: 1, max: 2 ** 40 }) }), { maxLength: 4 }),
  }),
  siblings: fc.array(versionArb, { maxLength: 4 }),
});

/** A copy with fresh objects everywhere, so equality cannot rely on identity. */
function clone(s: KeyState): KeyState {
  return {
    context: { clock: s.context.clock.map((e) => ({ ...e })), cloud: s.context.cloud.map((d) => ({ ...d })) },
    siblings: s.siblings.map((v) => ({ ...v, dot: { ...v.dot }, value: v.value === null ? null : v.value.slice() })),
  };
}

describe('state encoding fast paths', () => {
  it('ByteWriter.string writes what TextEncoder would, for any string (lone surrogates too)', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 300 })), (s) => {
      const w = new ByteWriter(1);
      w.string(s);
      assert.deepEqual(w.finish(), referenceString(s));
      assert.equal(utf8Length(s), te.encode(s).length);
    }), { numRuns: 500 });
  });

  it('bytesEqual agrees with a byte-by-byte comparison at any offset', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.nat(7), fc.nat(7), fc.nat(), fc.boolean(), (data, offA, offB, pos, change) => {
      const a = new Uint8Array(data.length + offA);
      a.set(data, offA);
      const b = new Uint8Array(data.length + offB);
      b.set(data, offB);
      if (change && data.length > 0) { const at = offB + (pos % data.length); b[at] = b[at]! ^ (1 << (pos % 8)); }
      const x = a.subarray(offA);
      const y = b.subarray(offB);
      assert.equal(bytesEqual(x, y), naiveEqual(x, y));
      assert.equal(bytesEqual(x, y.subarray(0, Math.max(0, y.length - 1))), naiveEqual(x, y.subarray(0, Math.max(0, y.length - 1))));
    }), { numRuns: 1000 });
  });

  it('varintLength is the length ByteWriter.varint writes', () => {
    fc.assert(fc.property(numArb, (v) => {
      assert.equal(varintLength(v), new ByteWriter(1).varint(v).finish().length);
    }), { numRuns: 500 });
  });

  it('encodeState round-trips arbitrary states', () => {
    fc.assert(fc.property(stateArb, (s) => {
      const bytes = encodeState(s);
      const d = decodeState(bytes);
      assert.equal(d.siblings.length, s.siblings.length);
      assert.deepEqual(d.siblings.map((v) => v.value), s.siblings.map((v) => v.value));
    }), { numRuns: 300 });
  });

  it('statesEqual agrees with comparing encodings', () => {
    const pairArb = fc.oneof(
      fc.tuple(stateArb, stateArb),
      stateArb.map((s) => [s, clone(s)] as [KeyState, KeyState]),
      // Near misses: one field changed.
      fc.tuple(stateArb, fc.nat(), fc.nat()).map(([s, i, what]) => {
        const t = clone(s) as { context: { clock: { node: string; counter: number; tsMs: number }[]; cloud: { node: string; counter: number }[] }; siblings: Version[] };
        const v = t.siblings[i % Math.max(1, t.siblings.length)];
        if (v && what % 4 === 0) t.siblings[i % t.siblings.length] = { ...v, tsMs: v.tsMs + 1 };
        else if (v && what % 4 === 1) t.siblings[i % t.siblings.length] = { ...v, value: v.value === null ? new Uint8Array(0) : null };
        else if (v && what % 4 === 2 && v.value !== null && v.value.length > 0) {
          const value = v.value.slice();
          value[i % value.length] = (value[i % value.length]! + 1) & 0xff;
          t.siblings[i % t.siblings.length] = { ...v, value };
        } else if (t.context.clock.length > 0) t.context.clock[0] = { ...t.context.clock[0]!, tsMs: t.context.clock[0]!.tsMs + 1 };
        else t.context.cloud.push({ node: 'z', counter: 1 });
        return [s, t] as [KeyState, KeyState];
      }),
    );
    fc.assert(fc.property(pairArb, ([a, b]) => {
      assert.equal(statesEqual(a, b), naiveEqual(encodeState(a), encodeState(b)));
    }), { numRuns: 1000 });
  });
});

describe('the empty state encoding', () => {
  it('is the 4 bytes the node recognizes without decoding (src/core/node.ts isEmptyEncoding)', () => {
    assert.deepEqual([...encodeState(EMPTY_STATE)], [1, 0, 0, 0]);
  });
});
