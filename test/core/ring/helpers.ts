import assert from 'node:assert/strict';
import { partitionCounts } from '../../../src/core/ring/index.js';
import type { Ring, RingMember } from '../../../src/core/ring/index.js';

export function nodes(count: number, opts: { racks?: number; dcs?: number; weight?: (i: number) => number; prefix?: string } = {}): RingMember[] {
  const racks = opts.racks ?? 1;
  const dcs = opts.dcs ?? 1;
  return Array.from({ length: count }, (_, i) => ({
    nodeId: `${opts.prefix ?? 'node'}-${String(i).padStart(3, '0')}`,
    dc: `dc${i % dcs}`,
    rack: `rack${Math.floor(i / dcs) % racks}`,
    weight: opts.weight ? opts.weight(i) : 1,
  }));
}

/** A deterministic shuffle (no Math.random in tests either: failures must reproduce). */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Each member owns floor or ceil of its weighted share of Q. */
export function assertApportioned(ring: Ring): void {
  const total = ring.members.reduce((s, m) => s + m.weight, 0);
  const counts = partitionCounts(ring);
  let sum = 0;
  for (const m of ring.members) {
    const quota = (m.weight / total) * ring.partitionCount;
    const c = counts.get(m.nodeId)!;
    sum += c;
    assert.ok(c === Math.floor(quota) || c === Math.ceil(quota), `${m.nodeId}: ${c} partitions for quota ${quota}`);
  }
  assert.equal(sum, ring.partitionCount);
}

/**
 * The rebalance contract: a partition moves only from a leaving node or a node above its new
 * count to a node below it (never between two staying nodes that are both within target), and
 * the number moved is the minimum for the new counts.
 */
export function assertOnlyNecessaryMoves(prev: Ring, next: Ring): number {
  const before = partitionCounts(prev);
  const after = partitionCounts(next);
  const staying = new Set(next.members.map((m) => m.nodeId));
  let moved = 0;
  for (let p = 0; p < prev.partitionCount; p++) {
    const from = prev.owners[p]!;
    const to = next.owners[p]!;
    if (from === to) continue;
    moved++;
    if (staying.has(from)) {
      assert.ok(before.get(from)! > after.get(from)!, `partition ${p} moved from ${from}, which was not above its target (${before.get(from)} -> ${after.get(from)})`);
    }
    assert.ok((before.get(to) ?? 0) < after.get(to)!, `partition ${p} moved to ${to}, which was not below its target`);
  }
  let minimum = 0;
  for (const [id, c] of before) minimum += staying.has(id) ? Math.max(0, c - after.get(id)!) : c;
  assert.equal(moved, minimum, 'moved more partitions than the new counts require');
  return moved;
}
