import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../../../src/core/bytes.js';
import {
  createRing, keyHash, loadStats, partitionForKey, preferenceList, preferenceListForKey, rebalance, restoreRing,
} from '../../../src/core/ring/index.js';
import type { Ring, RingMember } from '../../../src/core/ring/index.js';
import { nodes } from './helpers.js';

const m = (nodeId: string, dc: string, rack: string, weight = 1): RingMember => ({ nodeId, dc, rack, weight });

function racksOf(ring: Ring, list: readonly string[]): Set<string> {
  return new Set(list.map((id) => { const x = ring.member(id)!; return `${x.dc}/${x.rack}`; }));
}
function dcsOf(ring: Ring, list: readonly string[]): Set<string> {
  return new Set(list.map((id) => ring.member(id)!.dc));
}

test('N distinct nodes, owner first, for every partition', () => {
  const r = createRing(nodes(10, { racks: 2 }), { partitionCount: 1024, n: 3 });
  for (let p = 0; p < 1024; p++) {
    const list = preferenceList(r, p);
    assert.equal(list.length, 3);
    assert.equal(new Set(list).size, 3);
    assert.equal(list[0], r.owners[p]);
  }
});

test('the walk prefers an unused rack over a nearer node of a used rack, and keeps walk order', () => {
  // Walk from 0: a1 (rack A), a2 (rack A), b1 (rack B), a3 (rack A).
  const members = [m('a1', 'dc', 'A'), m('a2', 'dc', 'A'), m('a3', 'dc', 'A'), m('b1', 'dc', 'B')];
  const r = restoreRing({ partitionCount: 4, n: 2, members, owners: ['a1', 'a2', 'b1', 'a3'] });
  assert.deepEqual(preferenceList(r, 0), ['a1', 'b1']); // plain walk would give a1, a2
  assert.deepEqual(preferenceList(r, 1), ['a2', 'b1']);
  assert.deepEqual(preferenceList(r, 2), ['b1', 'a3']);
  assert.deepEqual(preferenceList(r, 3), ['a3', 'b1']);
  const r3 = restoreRing({ partitionCount: 4, n: 3, members, owners: ['a1', 'a2', 'b1', 'a3'] });
  // a1 (new DC), b1 (new rack), then the nearest remaining: a2; listed in walk order.
  assert.deepEqual(preferenceList(r3, 0), ['a1', 'a2', 'b1']);
  assert.deepEqual(preferenceList(r3, 2), ['b1', 'a3', 'a1']);
});

test('the walk prefers an unused DC before an unused rack', () => {
  const members = [m('x1', 'dc1', 'r1'), m('x2', 'dc1', 'r2'), m('y1', 'dc2', 'r1')];
  const r = restoreRing({ partitionCount: 4, n: 2, members, owners: ['x1', 'x2', 'y1', 'x1'] });
  assert.deepEqual(preferenceList(r, 0), ['x1', 'y1']); // x2 is a new rack but the same DC
  assert.deepEqual(preferenceList(r, 1), ['x2', 'y1']);
});

test('lists span min(N, #racks) racks and min(N, #DCs) DCs', () => {
  for (const [count, racks, dcs] of [[6, 3, 1], [12, 2, 2], [9, 3, 3], [5, 1, 2], [20, 4, 2]] as const) {
    const r = createRing(nodes(count, { racks, dcs }), { partitionCount: 256, n: 3 });
    const totalRacks = racksOf(r, r.members.map((x) => x.nodeId)).size;
    for (let p = 0; p < 256; p++) {
      const list = preferenceList(r, p);
      assert.equal(racksOf(r, list).size, Math.min(3, totalRacks), `${count}/${racks}/${dcs} p${p}: ${list}`);
      assert.equal(dcsOf(r, list).size, Math.min(3, dcs));
    }
  }
});

test('rack awareness survives a rebalance', () => {
  const ms = nodes(9, { racks: 3 });
  const r = rebalance(createRing(ms, { partitionCount: 512, n: 3 }), [...ms.slice(2), m('late', 'dc0', 'rack1', 2)]);
  for (let p = 0; p < 512; p++) assert.equal(racksOf(r, preferenceList(r, p)).size, 3);
});

test('per-DC replication: that many from each DC, owner first when it is a replica, distinct', () => {
  const ms = nodes(12, { racks: 2, dcs: 2 }); // dc0, dc1 alternate
  const r = createRing(ms, { partitionCount: 512, n: 5, replication: { dc0: 3, dc1: 2 } });
  assert.equal(r.n, 5);
  for (let p = 0; p < 512; p++) {
    const list = preferenceList(r, p);
    assert.equal(new Set(list).size, 5);
    assert.equal(list.filter((id) => r.member(id)!.dc === 'dc0').length, 3);
    assert.equal(list.filter((id) => r.member(id)!.dc === 'dc1').length, 2);
    if (list.includes(r.owners[p]!)) assert.equal(list[0], r.owners[p]);
    // Within dc0 the three span both of its racks.
    assert.equal(racksOf(r, list.filter((id) => r.member(id)!.dc === 'dc0')).size, 2);
  }
});

test('per-DC replication: each DC chooses among its own members; DCs absent from replication get nothing', () => {
  const members = [m('a', 'east', 'r'), m('b', 'west', 'r'), m('c', 'east', 'r'), m('d', 'west', 'r'), m('e', 'south', 'r')];
  const r = restoreRing({
    partitionCount: 8, n: 3, replication: { east: 1, west: 2 }, members,
    owners: ['a', 'e', 'b', 'c', 'd', 'a', 'b', 'c'],
  });
  const firsts = new Set<string>();
  for (let p = 0; p < 8; p++) {
    const list = preferenceList(r, p);
    assert.equal(list.length, 3);
    assert.ok(!list.includes('e'), 'e (south) is never a replica');
    assert.deepEqual(list.filter((id) => id === 'b' || id === 'd').sort(), ['b', 'd']);
    assert.equal(list.filter((id) => id === 'a' || id === 'c').length, 1);
    if (list.includes(r.owners[p]!)) assert.equal(list[0], r.owners[p]);
    firsts.add(list.find((id) => id === 'a' || id === 'c')!);
  }
  assert.deepEqual([...firsts].sort(), ['a', 'c'], 'east\'s replica is spread over its members');
});

test('per-DC replication with a DC smaller than its count: all of that DC', () => {
  const ms = [m('a', 'dc1', 'r1'), m('b', 'dc1', 'r2'), m('c', 'dc1', 'r1'), m('z', 'dc2', 'r1')];
  const r = createRing(ms, { partitionCount: 64, n: 5, replication: { dc1: 3, dc2: 2 } });
  for (let p = 0; p < 64; p++) {
    const list = preferenceList(r, p);
    assert.equal(list.length, 4);
    assert.deepEqual([...list].sort(), ['a', 'b', 'c', 'z']);
  }
});

test('fewer members than N: every member, owner first', () => {
  const r = createRing([m('one', 'dc', 'r'), m('two', 'dc', 'r')], { partitionCount: 64, n: 3 });
  for (let p = 0; p < 64; p++) {
    const list = preferenceList(r, p);
    assert.deepEqual([...list].sort(), ['one', 'two']);
    assert.equal(list[0], r.owners[p]);
  }
  const single = createRing([m('solo', 'dc', 'r')], { partitionCount: 1, n: 3 });
  assert.deepEqual(preferenceList(single, 0), ['solo']);
});

test('members owning no partition still fill lists that owners alone cannot', () => {
  // Q = 1: only one member can own; the other two come after it, by nodeId.
  const r = createRing([m('c', 'dc', 'r'), m('a', 'dc', 'r'), m('b', 'dc', 'r')], { partitionCount: 1, n: 3 });
  assert.equal(r.owners.length, 1);
  const list = preferenceList(r, 0);
  assert.equal(list[0], r.owners[0]);
  assert.deepEqual([...list].sort(), ['a', 'b', 'c']);
});

test('key lookups: partition is the top bits of keyHash; list is that partition\'s', () => {
  const r = createRing(nodes(5), { partitionCount: 1024, n: 3 });
  for (const k of ['hello', 'user:42', '', 'ü']) {
    const p = partitionForKey(r, utf8(k));
    assert.equal(p, keyHash(utf8(k)) >>> 22);
    assert.deepEqual(preferenceListForKey(r, utf8(k)), preferenceList(r, p));
  }
  assert.equal(partitionForKey(r, utf8('hello')), 0x248bfa47 >>> 22);
  assert.throws(() => preferenceList(r, 1024), RangeError);
});

test('replica load is balanced when racks are balanced', () => {
  const s = loadStats(createRing(nodes(12, { racks: 3 }), { partitionCount: 1024, n: 3 }));
  assert.ok(s.replicaMaxOverMean <= 1.05, `replica max/mean ${s.replicaMaxOverMean}`);
  assert.ok(s.replicaMinOverMean >= 0.95, `replica min/mean ${s.replicaMinOverMean}`);
});
