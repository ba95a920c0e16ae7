/**
 * The data-centre levels against a naive model: replicas drawn in up to three DCs, each voting
 * yes, no or not yet; the model decides `local_one`, `local_quorum` and `each_quorum` by brute
 * force over every way of filling in the pending votes, from its own reading of the levels.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TallyStatus } from '../../../src/core/quorum/index.js';
import { resolveRequirement, tallyRequirement } from '../../../src/core/quorum/index.js';
import type { DcLevel } from '../../../src/core/types.js';

type Vote = 'yes' | 'no' | 'pending';
interface Voter { id: string; dc: string; vote: Vote }

/** Is the level met by exactly these yes votes? Counted the slow way, per DC. */
function naiveMet(level: DcLevel, voters: readonly Voter[], yes: ReadonlySet<string>, selfDc: string): boolean {
  const dcs = [...new Set(voters.map((v) => v.dc))];
  const inDc = (dc: string): Voter[] => voters.filter((v) => v.dc === dc);
  const yesIn = (dc: string): number => inDc(dc).filter((v) => yes.has(v.id)).length;
  const majorityOf = (dc: string): number => {
    let m = 0;
    while (2 * m <= inDc(dc).length) m++;
    return m;
  };
  if (level === 'each_quorum') return dcs.every((dc) => yesIn(dc) >= majorityOf(dc));
  // A coordinator in a DC without replicas counts the DC of the first replica.
  const local = dcs.includes(selfDc) ? selfDc : voters[0]!.dc;
  return yesIn(local) >= (level === 'local_one' ? 1 : majorityOf(local));
}

function naiveTally(level: DcLevel, voters: readonly Voter[], selfDc: string): TallyStatus {
  const yes = new Set(voters.filter((v) => v.vote === 'yes').map((v) => v.id));
  const pending = voters.filter((v) => v.vote === 'pending');
  if (naiveMet(level, voters, yes, selfDc)) return 'won';
  for (let mask = 1; mask < 2 ** pending.length; mask++) {
    const more = new Set(yes);
    pending.forEach((v, b) => { if (mask & (1 << b)) more.add(v.id); });
    if (naiveMet(level, voters, more, selfDc)) return 'pending';
  }
  return 'lost';
}

const voters = fc.array(
  fc.record({ dc: fc.constantFrom('dc1', 'dc2', 'dc3'), vote: fc.constantFrom<Vote>('yes', 'no', 'pending') }),
  { minLength: 1, maxLength: 9 },
).map((vs) => vs.map((v, i) => ({ id: `n${i}`, ...v })));
const level = fc.constantFrom<DcLevel>('local_one', 'local_quorum', 'each_quorum');

describe('quorum: data-centre levels against a naive model', () => {
  it('agrees on every placement, vote vector, level and coordinator DC', () => {
    fc.assert(fc.property(voters, level, fc.constantFrom('dc1', 'dc2', 'dc4'), (vs, lv, selfDc) => {
      const dcOf = new Map(vs.map((v) => [v.id, v.dc]));
      const resolved = resolveRequirement(lv, 9, vs.map((v) => v.id), (id) => dcOf.get(id)!, selfDc, 'w');
      assert.ok(resolved.ok);
      const yes = new Set(vs.filter((v) => v.vote === 'yes').map((v) => v.id));
      const no = new Set(vs.filter((v) => v.vote === 'no').map((v) => v.id));
      assert.equal(tallyRequirement(resolved.req, yes, no), naiveTally(lv, vs, selfDc));
    }), { numRuns: 3000 });
  });

  it('local_quorum reads and writes in the same DC always share a replica of that DC', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (a, b) => {
      const ids = [...Array.from({ length: a }, (_, i) => `a${i}`), ...Array.from({ length: b }, (_, i) => `b${i}`)];
      const dcOf = (id: string): string => (id.startsWith('a') ? 'dc1' : 'dc2');
      const r = resolveRequirement('local_quorum', 10, ids, dcOf, 'dc1', 'r');
      const w = resolveRequirement('local_quorum', 10, ids, dcOf, 'dc1', 'w');
      assert.ok(r.ok && w.ok);
      assert.deepEqual(r.req.groups[0]!.nodes, ids.filter((id) => dcOf(id) === 'dc1'));
      assert.ok(r.req.total + w.req.total > a, `R=${r.req.total} W=${w.req.total} of ${a} local replicas`);
    }));
  });

  it('each_quorum needs a majority in every DC; a plain level is one group over all replicas', () => {
    const ids = ['a0', 'a1', 'a2', 'b0', 'b1'];
    const dcOf = (id: string): string => (id.startsWith('a') ? 'dc1' : 'dc2');
    const each = resolveRequirement('each_quorum', 5, ids, dcOf, 'dc1', 'w');
    assert.ok(each.ok);
    assert.deepEqual(each.req.groups.map((g) => g.count), [2, 2]);
    const plain = resolveRequirement('quorum', 5, ids, dcOf, 'dc1', 'w');
    assert.ok(plain.ok);
    assert.deepEqual(plain.req.groups, [{ nodes: ids, count: 3 }]);
    const bad = resolveRequirement(7, 5, ids, dcOf, 'dc1', 'w');
    assert.equal(bad.ok, false);
  });
});
