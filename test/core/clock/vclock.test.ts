import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { VClock } from '../../../src/core/clock/index.js';
import {
  ContextError, EMPTY_CLOCK, MAX_CLOUD_DOTS, MAX_CLIENT_COUNTER, MAX_COUNTER, addDotToContext, clockFromObject, clockToObject, compareClocks, decodeContextToken, encodeContextToken,
  increment, mergeClocks, normalizeContext, pruneClock,
} from '../../../src/core/clock/index.js';

const nodes = ['a', 'b', 'c', 'd', 'e'];
const clockArb: fc.Arbitrary<VClock> = fc
  .dictionary(fc.constantFrom(...nodes), fc.integer({ min: 1, max: 6 }))
  .map((o) => clockFromObject(o));

describe('vector clocks', () => {
  it('compares before, after, equal and concurrent', () => {
    const a = clockFromObject({ a: 1 });
    const ab = clockFromObject({ a: 1, b: 1 });
    const b = clockFromObject({ b: 2 });
    assert.equal(compareClocks(a, ab), 'before');
    assert.equal(compareClocks(ab, a), 'after');
    assert.equal(compareClocks(ab, clockFromObject({ b: 1, a: 1 })), 'equal');
    assert.equal(compareClocks(a, b), 'concurrent');
    assert.equal(compareClocks(EMPTY_CLOCK, a), 'before');
  });

  it('increment moves a clock strictly after itself', () => {
    fc.assert(fc.property(clockArb, fc.constantFrom(...nodes), (c, n) => {
      assert.equal(compareClocks(increment(c, n, 0), c), 'after');
    }));
  });

  it('merge is a join: commutative, associative, idempotent, and an upper bound', () => {
    fc.assert(fc.property(clockArb, clockArb, clockArb, (x, y, z) => {
      assert.deepEqual(clockToObject(mergeClocks(x, y)), clockToObject(mergeClocks(y, x)));
      assert.deepEqual(clockToObject(mergeClocks(mergeClocks(x, y), z)), clockToObject(mergeClocks(x, mergeClocks(y, z))));
      assert.deepEqual(clockToObject(mergeClocks(x, x)), clockToObject(x));
      const m = mergeClocks(x, y);
      assert.ok(['after', 'equal'].includes(compareClocks(m, x)));
      assert.ok(['after', 'equal'].includes(compareClocks(m, y)));
    }));
  });

  it('compare agrees with the pointwise order', () => {
    fc.assert(fc.property(clockArb, clockArb, (x, y) => {
      const ox = clockToObject(x);
      const oy = clockToObject(y);
      const le = nodes.every((n) => (ox[n] ?? 0) <= (oy[n] ?? 0));
      const ge = nodes.every((n) => (ox[n] ?? 0) >= (oy[n] ?? 0));
      const expected = le && ge ? 'equal' : le ? 'before' : ge ? 'after' : 'concurrent';
      assert.equal(compareClocks(x, y), expected);
    }));
  });

  it('prunes the oldest entries past the bound but never a kept one', () => {
    const clock: VClock = Array.from({ length: 14 }, (_, i) => ({ node: `n${String(i).padStart(2, '0')}`, counter: 1, tsMs: 100 - i }));
    const keep = new Set(['n13', 'n12']); // the two oldest
    const hard = { softMax: 10, hardMax: 10, nowMs: 0, youngMs: 1000 };
    const pruned = pruneClock(clock, hard, keep);
    assert.equal(pruned.length, 10);
    for (const k of keep) assert.ok(pruned.some((e) => e.node === k), `kept ${k}`);
    // The dropped ones are the oldest not kept: n11, n10, n09, n08.
    assert.deepEqual(clock.filter((e) => !pruned.includes(e)).map((e) => e.node).sort(), ['n08', 'n09', 'n10', 'n11']);
    assert.equal(pruneClock(clock.slice(0, 5), hard, new Set()).length, 5);
  });

  it('past the soft bound, prunes only entries that are old; past the hard bound, any', () => {
    // n00..n13 advanced at 100, 99, ..., 87; "now" is 1100 and young means the last 1000 ms:
    // n00..n05 (100..95) are young, n06..n13 (94..87) old.
    const clock: VClock = Array.from({ length: 14 }, (_, i) => ({ node: `n${String(i).padStart(2, '0')}`, counter: 1, tsMs: 100 - i }));
    const bounds = { softMax: 4, hardMax: 12, nowMs: 1095, youngMs: 1000 };
    const pruned = pruneClock(clock, bounds, new Set(['n13']));
    // Old and not kept: n06..n12 — down to the soft bound would take 10, only 7 are old.
    assert.deepEqual(pruned.map((e) => e.node), ['n00', 'n01', 'n02', 'n03', 'n04', 'n05', 'n13']);
    // Nothing old: only the hard bound applies, and it takes the oldest first.
    const young = pruneClock(clock, { ...bounds, nowMs: 0 }, new Set());
    assert.deepEqual(young.map((e) => e.node), clock.slice(0, 12).map((e) => e.node));
    assert.equal(pruneClock(clock, { ...bounds, hardMax: 20, nowMs: 0 }, new Set()), clock);
  });
});

describe('causal context tokens', () => {
  it('round-trip clocks and dot clouds', () => {
    fc.assert(fc.property(clockArb, fc.array(fc.record({ node: fc.constantFrom(...nodes), counter: fc.integer({ min: 1, max: 20 }) }), { maxLength: 6 }), (clock, cloud) => {
      const ctx = normalizeContext(clock, cloud);
      const back = decodeContextToken(encodeContextToken(ctx));
      assert.deepEqual(clockToObject(back.clock), clockToObject(ctx.clock));
      assert.deepEqual(JSON.stringify(back.cloud), JSON.stringify(ctx.cloud));
    }));
  });

  it('folds dots that extend the clock and drops covered ones', () => {
    const ctx = normalizeContext(clockFromObject({ a: 1 }), [{ node: 'a', counter: 3 }, { node: 'a', counter: 2 }, { node: 'b', counter: 2 }, { node: 'a', counter: 1 }]);
    assert.deepEqual(clockToObject(ctx.clock), { a: 3 });
    assert.deepEqual(ctx.cloud, [{ node: 'b', counter: 2 }]);
  });

  it('rejects client counters near MAX_COUNTER, so no key can be poisoned (issue 8, defect 1)', () => {
    const at = (counter: number) => encodeContextToken({ clock: [{ node: 'n0', counter, tsMs: 0 }], cloud: [] });
    assert.equal(decodeContextToken(at(MAX_CLIENT_COUNTER)).clock[0]!.counter, MAX_CLIENT_COUNTER);
    assert.throws(() => decodeContextToken(at(MAX_CLIENT_COUNTER + 1)), ContextError);
    assert.throws(() => decodeContextToken(at(MAX_COUNTER)), ContextError);
    assert.throws(() => decodeContextToken(at(MAX_COUNTER + 1)), ContextError);
    assert.throws(() => decodeContextToken(at(2 ** 53 - 1)), ContextError);
  });

  it('a full dot cloud keeps the dot just added, whatever its node sorts as', () => {
    const cloud = Array.from({ length: MAX_CLOUD_DOTS }, (_, i) => ({ node: `z${i}`, counter: 5 }));
    const ctx = normalizeContext(EMPTY_CLOCK, cloud);
    const added = addDotToContext(ctx, { node: 'a', counter: 9 }, 0);
    assert.equal(added.cloud.length, MAX_CLOUD_DOTS);
    assert.ok(added.cloud.some((d) => d.node === 'a' && d.counter === 9));
  });

  it('rejects malformed tokens with a ContextError, never anything else', () => {
    for (const bad of ['', '!!!!', 'AAAA', 'A', 'x'.repeat(20000), 'AQ', encodeContextToken(normalizeContext(clockFromObject({ a: 1 }), [])) + 'AA']) {
      assert.throws(() => decodeContextToken(bad), ContextError, `token ${bad.slice(0, 20)}`);
    }
    fc.assert(fc.property(fc.string({ maxLength: 64 }), (s) => {
      try {
        decodeContextToken(s);
      } catch (e) {
        assert.ok(e instanceof ContextError, `unexpected ${String(e)}`);
      }
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
      const token = Buffer.from(bytes).toString('base64url');
      try {
        decodeContextToken(token);
      } catch (e) {
        assert.ok(e instanceof ContextError, `unexpected ${String(e)}`);
      }
    }), { numRuns: 2000 });
  });
});
