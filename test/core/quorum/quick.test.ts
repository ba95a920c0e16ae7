/**
 * The quorum arithmetic against naive models, as etcd raft's quorum/quick_test.go checks its
 * optimised majority config against an obvious one: fast-check draws the inputs, and each
 * answer must equal what the slow, obviously-right model says.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TallyStatus } from '../../../src/core/quorum/index.js';
import { resolveConsistency, tally } from '../../../src/core/quorum/index.js';
import type { Consistency } from '../../../src/core/types.js';

type Vote = 'yes' | 'no' | 'pending';

/** Won when enough said yes; lost when no way of filling in the pending votes could win; else pending. */
function naiveTally(required: number, votes: readonly Vote[]): TallyStatus {
  const yes = votes.filter((v) => v === 'yes').length;
  if (yes >= required) return 'won';
  const pending = votes.filter((v) => v === 'pending').length;
  for (let mask = 0; mask < 2 ** pending; mask++) {
    let extra = 0;
    for (let b = 0; b < pending; b++) if (mask & (1 << b)) extra++;
    if (yes + extra >= required) return 'pending';
  }
  return 'lost';
}

/** The smallest count that is more than half, found by counting up. */
function naiveMajority(voters: number): number {
  let m = 0;
  while (2 * m <= voters) m++;
  return m;
}

function naiveResolve(c: Consistency, clusterN: number, replicas: number): number | 'refused' {
  if (c === 'one' || c === 'local_one') return 1;
  if (c === 'all') return replicas;
  if (c === 'quorum' || c === 'local_quorum' || c === 'each_quorum') return naiveMajority(replicas);
  if (typeof c === 'string' || !Number.isInteger(c) || c < 1 || c > clusterN) return 'refused';
  return c;
}

const votes = fc.array(fc.constantFrom<Vote>('yes', 'no', 'pending'), { minLength: 0, maxLength: 10 });

describe('quorum: tally against a naive model', () => {
  it('agrees on every vote vector and requirement', () => {
    fc.assert(fc.property(votes, fc.integer({ min: 0, max: 12 }), (vs, required) => {
      const yes = vs.filter((v) => v === 'yes').length;
      const no = vs.filter((v) => v === 'no').length;
      assert.equal(tally(required, vs.length, yes, no), naiveTally(required, vs));
    }), { numRuns: 2000 });
  });

  it('a decided tally stays decided as more votes arrive', () => {
    fc.assert(fc.property(votes, fc.integer({ min: 1, max: 10 }), fc.constantFrom<Vote>('yes', 'no'), (vs, required, next) => {
      const count = (xs: readonly Vote[], v: Vote): number => xs.filter((x) => x === v).length;
      const before = tally(required, vs.length, count(vs, 'yes'), count(vs, 'no'));
      const i = vs.indexOf('pending');
      if (i < 0 || before === 'pending') return;
      const after = [...vs];
      after[i] = next;
      assert.equal(tally(required, after.length, count(after, 'yes'), count(after, 'no')), before);
    }), { numRuns: 1000 });
  });
});

describe('quorum: resolving R and W against a naive model', () => {
  const consistency = fc.oneof(
    fc.constantFrom<Consistency>('one', 'quorum', 'all'),
    fc.integer({ min: -2, max: 12 }),
    fc.double({ min: -1, max: 12, noNaN: true }),
  );

  it('agrees on every consistency, N and replica count', () => {
    fc.assert(fc.property(consistency, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), (c, n, more) => {
      const replicas = Math.min(n, more); // a ring smaller than N gives fewer replicas
      const got = resolveConsistency(c, n, replicas, 'r');
      const want = naiveResolve(c, n, replicas);
      if (want === 'refused') assert.equal(got.ok, false, `expected ${String(c)} to be refused`);
      else assert.deepEqual(got, { ok: true, count: want });
    }), { numRuns: 2000 });
  });

  it('a read quorum and a write quorum of the same replicas always share a replica', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 15 }), (replicas) => {
      const r = resolveConsistency('quorum', replicas, replicas, 'r');
      const w = resolveConsistency('quorum', replicas, replicas, 'w');
      assert.ok(r.ok && w.ok);
      assert.ok(r.count + w.count > replicas, `R=${r.count} W=${w.count} of ${replicas}`);
    }));
  });
});
