/**
 * Placement across data centres (per-DC `replication`): every partition has the configured
 * count in each DC on distinct nodes and, where the DC has them, distinct racks; changing one
 * DC's membership (joins, leaves, weights, through the ring's rebalance) moves no replica of
 * another DC; and each DC's replicas are spread evenly over its members.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRing, preferenceList, rebalance } from '../../../src/core/ring/index.js';
import type { Ring, RingMember } from '../../../src/core/ring/index.js';

const member = (dc: string, i: number, racks: number, weight = 1): RingMember => ({ nodeId: `${dc}-n${i}`, dc, rack: `r${i % racks}`, weight });

function dcReplicas(r: Ring, p: number, dc: string): string[] {
  return preferenceList(r, p).filter((id) => r.member(id)!.dc === dc).sort();
}

function assertPlacement(r: Ring, replication: Record<string, number>): void {
  for (let p = 0; p < r.partitionCount; p++) {
    const list = preferenceList(r, p);
    assert.equal(new Set(list).size, list.length, `partition ${p}: distinct nodes`);
    for (const [dc, count] of Object.entries(replication)) {
      const inDc = r.members.filter((m) => m.dc === dc && m.weight > 0);
      const got = dcReplicas(r, p, dc);
      assert.equal(got.length, Math.min(count, inDc.length), `partition ${p}, ${dc}`);
      const racks = new Set(inDc.map((m) => m.rack)).size;
      assert.equal(new Set(got.map((id) => r.member(id)!.rack)).size, Math.min(got.length, racks), `partition ${p}, ${dc}: racks`);
    }
  }
}

const dcShape = fc.record({ size: fc.integer({ min: 1, max: 7 }), racks: fc.integer({ min: 1, max: 4 }), count: fc.integer({ min: 1, max: 4 }) });

describe('ring: per-DC placement', () => {
  it('property: the configured count in each DC, distinct nodes, racks spread where possible', () => {
    fc.assert(fc.property(fc.array(dcShape, { minLength: 1, maxLength: 3 }), fc.constantFrom(16, 64, 256), (shapes, q) => {
      const members = shapes.flatMap((s, d) => Array.from({ length: s.size }, (_, i) => member(`dc${d}`, i, s.racks)));
      const replication = Object.fromEntries(shapes.map((s, d) => [`dc${d}`, s.count]));
      const n = shapes.reduce((a, s) => a + s.count, 0);
      assertPlacement(createRing(members, { partitionCount: q, n, replication }), replication);
    }), { numRuns: 150 });
  });

  it('property: changing one DC\'s membership moves no replica of the other DCs', () => {
    const change = fc.constantFrom('join', 'leave', 'reweight');
    fc.assert(fc.property(dcShape, dcShape, change, fc.integer({ min: 0, max: 6 }), (a, b, what, pick) => {
      const dc0 = Array.from({ length: a.size }, (_, i) => member('dc0', i, a.racks));
      const dc1 = Array.from({ length: b.size }, (_, i) => member('dc1', i, b.racks));
      const replication = { dc0: a.count, dc1: b.count };
      const before = createRing([...dc0, ...dc1], { partitionCount: 128, n: a.count + b.count, replication });
      let changed: RingMember[];
      if (what === 'join') changed = [...dc0, member('dc0', 99, a.racks)];
      else if (what === 'leave' && dc0.length > 1) changed = dc0.filter((_, i) => i !== pick % dc0.length);
      else changed = dc0.map((m, i) => (i === pick % dc0.length ? { ...m, weight: 3 } : m));
      const after = rebalance(before, [...changed, ...dc1]);
      assertPlacement(after, replication);
      for (let p = 0; p < 128; p++) {
        assert.deepEqual(dcReplicas(after, p, 'dc1'), dcReplicas(before, p, 'dc1'), `partition ${p}: dc1's replicas moved on a ${what} in dc0`);
      }
    }), { numRuns: 150 });
  });

  it('each DC\'s replicas are spread evenly over its members (racks of equal size)', () => {
    const members = [...Array.from({ length: 6 }, (_, i) => member('dc1', i, 3)), ...Array.from({ length: 4 }, (_, i) => member('dc2', i, 2))];
    const r = createRing(members, { partitionCount: 1024, n: 5, replication: { dc1: 3, dc2: 2 } });
    const load = new Map<string, number>();
    for (let p = 0; p < 1024; p++) for (const id of preferenceList(r, p)) load.set(id, (load.get(id) ?? 0) + 1);
    for (const m of members) {
      const fair = m.dc === 'dc1' ? (1024 * 3) / 6 : (1024 * 2) / 4;
      const got = load.get(m.nodeId) ?? 0;
      assert.ok(Math.abs(got - fair) < fair * 0.15, `${m.nodeId} holds ${got} replicas, fair share ${fair.toFixed(0)}`);
    }
  });
});
