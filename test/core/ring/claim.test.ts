import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createRing, loadStats, movedPartitions, ownership, partitionCounts, rebalance, restoreRing, RingError,
} from '../../../src/core/ring/index.js';
import type { Ring, RingMember } from '../../../src/core/ring/index.js';
import { assertApportioned, assertOnlyNecessaryMoves, nodes, shuffled } from './helpers.js';

const Q = 1024;

function sameNeighbourPairs(ring: Ring): number {
  let same = 0;
  for (let p = 0; p < ring.partitionCount; p++) {
    if (ring.owners[p] === ring.owners[(p + 1) % ring.partitionCount]) same++;
  }
  return same;
}

test('createRing is deterministic: any member order gives the identical ring', () => {
  const ms = nodes(17, { racks: 3, dcs: 2, weight: (i) => 1 + (i % 4) });
  const a = createRing(ms, { partitionCount: Q, n: 3 });
  for (const seed of [1, 2, 3, 99]) {
    const b = createRing(shuffled(ms, seed), { partitionCount: Q, n: 3 });
    assert.deepEqual(b.owners, a.owners);
    assert.deepEqual(b.members, a.members);
    for (let p = 0; p < Q; p += 37) assert.deepEqual(b.preferenceList(p), a.preferenceList(p));
  }
  assert.deepEqual(a.members.map((m) => m.nodeId), [...ms.map((m) => m.nodeId)].sort());
});

test('rebalance is deterministic in the member order too', () => {
  const ms = nodes(10, { racks: 2 });
  const r = createRing(ms, { partitionCount: Q, n: 3 });
  const next = [...ms.slice(1), { nodeId: 'joiner', dc: 'dc0', rack: 'rack1', weight: 2 }];
  const a = rebalance(r, next);
  const b = rebalance(r, shuffled(next, 7));
  assert.deepEqual(a.owners, b.owners);
});

for (const [n, bound] of [[3, 1.05], [10, 1.05], [100, 1.075]] as const) {
  test(`balance at ${n} equal nodes, Q=${Q}: max/mean ≤ ${bound}`, () => {
    const r = createRing(nodes(n, { racks: 3 }), { partitionCount: Q, n: 3 });
    assertApportioned(r);
    const s = loadStats(r);
    // 100 nodes: Q/n = 10.24, so some node must own 11 = 1.074 × mean; that is rounding, not the claim.
    assert.ok(s.maxOverMean <= bound, `max/mean ${s.maxOverMean}`);
    assert.ok(s.minOverMean >= 2 - bound, `min/mean ${s.minOverMean}`);
    assert.equal(sameNeighbourPairs(r), n === 3 ? 1 : 0, 'consecutive partitions should have different owners');
  });
}

test('balance at 100 nodes with Q=4096: max/mean ≤ 1.05', () => {
  const s = loadStats(createRing(nodes(100), { partitionCount: 4096, n: 3 }));
  assert.ok(s.maxOverMean <= 1.05, `max/mean ${s.maxOverMean}`);
});

test('weights 1–4 at 10 nodes: each node within ±3% of its weight share', () => {
  const ms = nodes(10, { weight: (i) => 1 + (i % 4) });
  const r = createRing(ms, { partitionCount: Q, n: 3 });
  const own = ownership(r);
  const total = ms.reduce((s, m) => s + m.weight, 0);
  for (const m of ms) {
    const share = m.weight / total;
    const got = own.get(m.nodeId)!;
    assert.ok(Math.abs(got / share - 1) <= 0.03, `${m.nodeId} weight ${m.weight}: ${got} vs share ${share}`);
  }
  const heavy = own.get('node-003')!;
  const light = own.get('node-000')!;
  assert.ok(heavy > 3.8 * light && heavy < 4.2 * light, `weight 4 vs 1: ${heavy} vs ${light}`);
  assert.equal(sameNeighbourPairs(r), 0);
});

test('consecutive partitions alternate racks and DCs when the topology allows it', () => {
  const r = createRing(nodes(12, { racks: 3, dcs: 2 }), { partitionCount: Q, n: 3 });
  const dcOf = new Map(r.members.map((m) => [m.nodeId, m.dc]));
  for (let p = 0; p < Q; p++) {
    assert.notEqual(dcOf.get(r.owners[p]!), dcOf.get(r.owners[(p + 1) % Q]!), `partitions ${p}, ${p + 1} in one DC`);
  }
});

test('successors vary: a node\'s partitions are followed by many different nodes', () => {
  // Spreads a failed node's fallback load; a plain round-robin would give each node 1 successor.
  const r = createRing(nodes(10), { partitionCount: Q, n: 3 });
  const succ = new Map<string, Set<string>>();
  for (let p = 0; p < Q; p++) {
    const a = r.owners[p]!;
    if (!succ.has(a)) succ.set(a, new Set());
    succ.get(a)!.add(r.owners[(p + 1) % Q]!);
  }
  for (const [id, s] of succ) assert.ok(s.size >= 8, `${id} has only ${s.size} distinct successors`);
});

for (const n of [3, 10, 100]) {
  test(`join at ${n} nodes: moves ~1/(n+1) of the partitions, all to the new node`, () => {
    const ms = nodes(n, { racks: 3 });
    const r = createRing(ms, { partitionCount: Q, n: 3 });
    const next = rebalance(r, [...ms, { nodeId: 'new-node', dc: 'dc0', rack: 'rack0', weight: 1 }]);
    assertApportioned(next);
    const moved = assertOnlyNecessaryMoves(r, next);
    for (let p = 0; p < Q; p++) {
      if (r.owners[p] !== next.owners[p]) assert.equal(next.owners[p], 'new-node', `partition ${p} moved between staying nodes`);
    }
    const ideal = Q / (n + 1);
    assert.ok(Math.abs(moved / ideal - 1) <= 0.05, `moved ${moved}, ideal ${ideal}`);
    assert.equal(sameNeighbourPairs(next), 0);
  });

  test(`leave at ${n} nodes: moves only the leaver's partitions (~1/n)`, () => {
    const ms = nodes(n, { racks: 3 });
    const r = createRing(ms, { partitionCount: Q, n: 3 });
    // Every choice of leaver for small rings; a sample at 100.
    const leavers = n <= 10 ? ms : ms.filter((_, i) => i % 10 === 3);
    for (const leaver of leavers) {
      const next = rebalance(r, ms.filter((m) => m !== leaver));
      assertApportioned(next);
      const moved = assertOnlyNecessaryMoves(r, next);
      for (let p = 0; p < Q; p++) {
        if (r.owners[p] !== next.owners[p]) assert.equal(r.owners[p], leaver.nodeId, `partition ${p} moved between staying nodes`);
      }
      assert.equal(moved, partitionCounts(r).get(leaver.nodeId));
      if (n <= 10) {
        // At 100 nodes a leaver owns 10 or 11 of 10.24: 11 is 7% over "ideal", unavoidably.
        assert.ok(Math.abs(moved / (Q / n) - 1) <= 0.05, `moved ${moved}, ideal ${Q / n}`);
      }
      if (n > 3) assert.equal(sameNeighbourPairs(next), 0, `after ${leaver.nodeId} left`);
    }
  });
}

test('weight change moves partitions only from the lightened node / to the heavier one', () => {
  const ms = nodes(8, { racks: 2 });
  const r = createRing(ms, { partitionCount: Q, n: 3 });
  const heavier = ms.map((m) => (m.nodeId === 'node-004' ? { ...m, weight: 3 } : m));
  const up = rebalance(r, heavier);
  assertApportioned(up);
  assertOnlyNecessaryMoves(r, up);
  for (let p = 0; p < Q; p++) if (r.owners[p] !== up.owners[p]) assert.equal(up.owners[p], 'node-004');
  assert.equal(partitionCounts(up).get('node-004'), Math.round((3 / 10) * Q));
  const back = rebalance(up, ms);
  assertOnlyNecessaryMoves(up, back);
  for (let p = 0; p < Q; p++) if (up.owners[p] !== back.owners[p]) assert.equal(up.owners[p], 'node-004');
});

test('rebalance with an unchanged member set moves nothing', () => {
  const ms = nodes(7, { racks: 2, weight: (i) => 1 + (i % 3) });
  const r = createRing(ms, { partitionCount: Q, n: 3 });
  const same = rebalance(r, shuffled(ms, 5));
  assert.equal(movedPartitions(r, same), 0);
});

test('a node set to weight 0 hands over every partition and is never a replica', () => {
  const ms = nodes(5);
  const r = createRing(ms, { partitionCount: 64, n: 3 });
  const drained = rebalance(r, ms.map((m) => (m.nodeId === 'node-002' ? { ...m, weight: 0 } : m)));
  assertOnlyNecessaryMoves(r, drained);
  assert.equal(partitionCounts(drained).get('node-002'), 0);
  for (let p = 0; p < 64; p++) assert.ok(!drained.preferenceList(p).includes('node-002'));
});

test('a sequence of joins and leaves keeps every invariant', () => {
  let members: RingMember[] = nodes(4, { racks: 2 });
  let r = createRing(members, { partitionCount: 256, n: 3 });
  for (let step = 0; step < 12; step++) {
    members = step % 3 === 2
      ? members.filter((_, i) => i !== step % members.length)
      : [...members, { nodeId: `j${step}`, dc: 'dc0', rack: `rack${step % 3}`, weight: 1 + (step % 2) }];
    const next = rebalance(r, members);
    assertApportioned(next);
    assertOnlyNecessaryMoves(r, next);
    r = next;
  }
});

test('restoreRing(toJSON) rebuilds the identical ring, through JSON', () => {
  const r = createRing(nodes(6, { racks: 2, dcs: 2 }), { partitionCount: 128, n: 3, replication: { dc0: 2, dc1: 1 } });
  const back = restoreRing(JSON.parse(JSON.stringify(r.toJSON())));
  assert.deepEqual(back.owners, r.owners);
  assert.deepEqual(back.replication, { dc0: 2, dc1: 1 });
  for (let p = 0; p < 128; p++) assert.deepEqual(back.preferenceList(p), r.preferenceList(p));
  assert.throws(() => restoreRing({ ...r.toJSON(), owners: r.owners.slice(1) }), RingError);
  assert.throws(() => restoreRing({ ...r.toJSON(), owners: r.owners.map(() => 'ghost') }), RingError);
});

test('rings are immutable', () => {
  const r = createRing(nodes(3), { partitionCount: 16, n: 2 });
  assert.throws(() => { (r.owners as string[])[0] = 'x'; }, TypeError);
  assert.throws(() => { (r.preferenceList(0) as string[]).push('x'); }, TypeError);
  assert.throws(() => { (r.members[0] as { weight: number }).weight = 9; }, TypeError);
  assert.throws(() => { (r as { n: number }).n = 9; }, TypeError);
});

test('invalid input is a RingError with a stable code', () => {
  const ms = nodes(3);
  const bad: [string, () => unknown][] = [
    ['Q not a power of two', () => createRing(ms, { partitionCount: 1000, n: 3 })],
    ['Q zero', () => createRing(ms, { partitionCount: 0, n: 3 })],
    ['n zero', () => createRing(ms, { partitionCount: 16, n: 0 })],
    ['no members', () => createRing([], { partitionCount: 16, n: 3 })],
    ['duplicate id', () => createRing([...ms, ms[0]!], { partitionCount: 16, n: 3 })],
    ['negative weight', () => createRing([{ ...ms[0]!, weight: -1 }], { partitionCount: 16, n: 1 })],
    ['NaN weight', () => createRing([{ ...ms[0]!, weight: Number.NaN }], { partitionCount: 16, n: 1 })],
    ['all weights 0', () => createRing(ms.map((m) => ({ ...m, weight: 0 })), { partitionCount: 16, n: 1 })],
    ['n ≠ sum of replication', () => createRing(ms, { partitionCount: 16, n: 3, replication: { dc0: 2 } })],
    ['leave everyone', () => rebalance(createRing(ms, { partitionCount: 16, n: 3 }), [])],
  ];
  for (const [what, f] of bad) {
    assert.throws(f, (e: unknown) => e instanceof RingError && e.code === 'bad_request', what);
  }
});

test('more members than partitions: every partition owned, extra members own none', () => {
  const r = createRing(nodes(20), { partitionCount: 16, n: 3 });
  assertApportioned(r);
  assert.equal(new Set(r.owners).size, 16);
});
