import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRing, preferenceList, rebalance } from '../../../src/core/ring/index.js';
import type { Ring, RingMember } from '../../../src/core/ring/index.js';
import { assertApportioned, assertOnlyNecessaryMoves, shuffled } from './helpers.js';

const memberArb = (prefix: string): fc.Arbitrary<RingMember> => fc.record({
  nodeId: fc.integer({ min: 0, max: 60 }).map((i) => `${prefix}${i}`),
  dc: fc.constantFrom('dc0', 'dc1', 'dc2'),
  rack: fc.constantFrom('r0', 'r1', 'r2', 'r3'),
  weight: fc.constantFrom(0, 1, 1, 2, 3, 4),
});

const membersArb = (prefix: string, max: number): fc.Arbitrary<RingMember[]> => fc
  .uniqueArray(memberArb(prefix), { minLength: 1, maxLength: max, selector: (m) => m.nodeId })
  .filter((ms) => ms.some((m) => m.weight > 0));

const qArb = fc.constantFrom(1, 2, 8, 64, 256);

/** Invariants every ring must satisfy, whatever produced it. */
function checkRing(r: Ring): void {
  assert.equal(r.owners.length, r.partitionCount);
  for (const o of r.owners) assert.ok((r.member(o)?.weight ?? 0) > 0, `owner ${o} is not a weighted member`);
  assertApportioned(r);
  const eligible = r.members.filter((m) => m.weight > 0 && (r.replication === undefined || (r.replication[m.dc] ?? 0) > 0));
  const allRacks = new Set(eligible.map((m) => `${m.dc}/${m.rack}`));
  const allDcs = new Set(eligible.map((m) => m.dc));
  for (let p = 0; p < r.partitionCount; p++) {
    const list = preferenceList(r, p);
    assert.equal(new Set(list).size, list.length, `duplicates in ${list}`);
    for (const id of list) assert.ok(eligible.some((m) => m.nodeId === id), `${id} is not eligible`);
    if (r.replication === undefined) {
      assert.equal(list.length, Math.min(r.n, eligible.length));
      assert.equal(list[0], r.owners[p]);
      assert.equal(new Set(list.map((id) => `${r.member(id)!.dc}/${r.member(id)!.rack}`)).size, Math.min(r.n, allRacks.size));
      assert.equal(new Set(list.map((id) => r.member(id)!.dc)).size, Math.min(r.n, allDcs.size));
    } else {
      for (const [dc, count] of Object.entries(r.replication)) {
        const inDc = eligible.filter((m) => m.dc === dc);
        const got = list.filter((id) => r.member(id)!.dc === dc);
        assert.equal(got.length, Math.min(count, inDc.length), `dc ${dc}`);
        const racks = new Set(inDc.map((m) => m.rack));
        assert.equal(new Set(got.map((id) => r.member(id)!.rack)).size, Math.min(got.length, racks.size));
      }
      if (list.includes(r.owners[p]!)) assert.equal(list[0], r.owners[p]);
    }
  }
}

test('property: createRing invariants and determinism over random member sets', () => {
  fc.assert(fc.property(membersArb('n', 25), qArb, fc.integer({ min: 1, max: 5 }), fc.integer(), (ms, q, n, seed) => {
    const r = createRing(ms, { partitionCount: q, n });
    checkRing(r);
    assert.deepEqual(createRing(shuffled(ms, seed), { partitionCount: q, n }).owners, r.owners);
  }), { numRuns: 150 });
});

test('property: per-DC replication counts are honoured', () => {
  fc.assert(fc.property(
    membersArb('n', 20), qArb, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }),
    (ms, q, c0, c1) => {
      fc.pre(c0 + c1 > 0);
      const r = createRing(ms, { partitionCount: q, n: c0 + c1, replication: { dc0: c0, dc1: c1 } });
      checkRing(r);
    },
  ), { numRuns: 150 });
});

test('property: rebalance through joins, leaves and weight changes moves only what it must', () => {
  const changeArb = fc.record({
    leave: fc.array(fc.nat(), { maxLength: 3 }),
    join: fc.uniqueArray(memberArb('j'), { maxLength: 4, selector: (m) => m.nodeId }),
    reweigh: fc.array(fc.tuple(fc.nat(), fc.constantFrom(0, 1, 2, 3, 4)), { maxLength: 2 }),
  });
  fc.assert(fc.property(
    membersArb('n', 15), fc.constantFrom(8, 64, 256), fc.integer({ min: 1, max: 4 }), fc.array(changeArb, { minLength: 1, maxLength: 4 }), fc.integer(),
    (start, q, n, changes, seed) => {
      let r = createRing(start, { partitionCount: q, n });
      let members = [...r.members];
      for (const [step, ch] of changes.entries()) {
        let next = members.filter((_, i) => !ch.leave.some((l) => l % members.length === i));
        next = [...next, ...ch.join.map((m) => ({ ...m, nodeId: `${m.nodeId}s${step}` }))];
        for (const [i, w] of ch.reweigh) {
          if (next.length > 0) next = next.map((m, k) => (k === i % next.length ? { ...m, weight: w } : m));
        }
        if (!next.some((m) => m.weight > 0)) continue;
        const after = rebalance(r, next);
        checkRing(after);
        assertOnlyNecessaryMoves(r, after);
        assert.deepEqual(rebalance(r, shuffled(next, seed)).owners, after.owners, 'rebalance depends on member order');
        r = after;
        members = [...after.members];
      }
    },
  ), { numRuns: 80 });
});
