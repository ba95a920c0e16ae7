/** Measurements of a ring: ownership, balance against weight, and what moves between two rings. */
import { partitionCounts } from './ring.js';
import type { Ring } from './ring.js';

/** Fraction of the partitions (= of the key space) each member owns; 0 for members owning none. */
export function ownership(ring: Ring): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, c] of partitionCounts(ring)) out.set(id, c / ring.partitionCount);
  return out;
}

/** How many preference lists each member is in (replicas it holds, in partitions). */
export function replicaCounts(ring: Ring): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of ring.members) out.set(m.nodeId, 0);
  for (let p = 0; p < ring.partitionCount; p++) {
    for (const id of ring.preferenceList(p)) out.set(id, out.get(id)! + 1);
  }
  return out;
}

export interface LoadStats {
  /** max over members of (partitions owned / weight share of Q); 1 is perfect. */
  readonly maxOverMean: number;
  /** min over members of the same ratio. */
  readonly minOverMean: number;
  /** The same two ratios for replicas held (preference-list appearances vs weight share). */
  readonly replicaMaxOverMean: number;
  readonly replicaMinOverMean: number;
  /** Per member: partitions owned, their ideal (weighted) count, and replicas held. */
  readonly perNode: readonly { nodeId: string; weight: number; partitions: number; ideal: number; replicas: number; idealReplicas: number }[];
}

/** Load relative to weight share. Members of weight 0 are left out (their ideal is 0). */
export function loadStats(ring: Ring): LoadStats {
  const counts = partitionCounts(ring);
  const reps = replicaCounts(ring);
  let totalWeight = 0;
  for (const m of ring.members) totalWeight += m.weight;
  let totalReplicas = 0;
  for (const r of reps.values()) totalReplicas += r;
  let maxR = 0;
  let minR = Number.POSITIVE_INFINITY;
  let maxRep = 0;
  let minRep = Number.POSITIVE_INFINITY;
  const perNode = [];
  for (const m of ring.members) {
    const partitions = counts.get(m.nodeId)!;
    const replicas = reps.get(m.nodeId)!;
    const ideal = (m.weight / totalWeight) * ring.partitionCount;
    const idealReplicas = (m.weight / totalWeight) * totalReplicas;
    perNode.push({ nodeId: m.nodeId, weight: m.weight, partitions, ideal, replicas, idealReplicas });
    if (m.weight === 0) continue;
    maxR = Math.max(maxR, partitions / ideal);
    minR = Math.min(minR, partitions / ideal);
    maxRep = Math.max(maxRep, replicas / idealReplicas);
    minRep = Math.min(minRep, replicas / idealReplicas);
  }
  return { maxOverMean: maxR, minOverMean: minR, replicaMaxOverMean: maxRep, replicaMinOverMean: minRep, perNode };
}

function sameQ(a: Ring, b: Ring): void {
  if (a.partitionCount !== b.partitionCount) throw new RangeError(`rings differ in partitionCount (${a.partitionCount} vs ${b.partitionCount})`);
}

/** Partitions whose owner differs between a and b. */
export function movedPartitions(a: Ring, b: Ring): number {
  sameQ(a, b);
  let moved = 0;
  for (let p = 0; p < a.partitionCount; p++) if (a.owners[p] !== b.owners[p]) moved++;
  return moved;
}

export interface OwnerChange {
  readonly partition: number;
  readonly from: string;
  readonly to: string;
}

/** The ownership moves from a to b, by partition. */
export function ownerChanges(a: Ring, b: Ring): OwnerChange[] {
  sameQ(a, b);
  const out: OwnerChange[] = [];
  for (let p = 0; p < a.partitionCount; p++) {
    const from = a.owners[p]!;
    const to = b.owners[p]!;
    if (from !== to) out.push({ partition: p, from, to });
  }
  return out;
}

/**
 * Replicas that must be streamed going from a to b: (partition, node) pairs in b's preference
 * lists that are not in a's. The data a claim change moves is this many partitions' worth.
 */
export function movedReplicas(a: Ring, b: Ring): number {
  sameQ(a, b);
  let moved = 0;
  for (let p = 0; p < a.partitionCount; p++) {
    const before = a.preferenceList(p);
    for (const id of b.preferenceList(p)) if (!before.includes(id)) moved++;
  }
  return moved;
}
