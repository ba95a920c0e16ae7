/**
 * The ring: Q equal partitions of the 32-bit hash space, each claimed by one node, with the
 * preference list of every partition computed once at construction. A Ring is immutable; a
 * claim change makes a new one (`rebalance`).
 */
import { claimTargets, cmpStr, initialClaim, rebalanceClaim } from './claim.js';
import { isValidPartitionCount, keyHash, partitionOf, PARTITION_COUNT_MAX } from './hash.js';
import { computePreferenceLists } from './preference.js';
import { RingError } from './types.js';
import type { RingMember, RingOptions } from './types.js';

export class Ring {
  /** Q. */
  readonly partitionCount: number;
  /** Replicas per key: N, or the sum of `replication`. */
  readonly n: number;
  /** Replicas per DC, when the cluster sets them. */
  readonly replication: Readonly<Record<string, number>> | undefined;
  /** Sorted by nodeId. */
  readonly members: readonly RingMember[];
  /** owners[p]: the node that claims partition p. */
  readonly owners: readonly string[];
  readonly #prefs: readonly (readonly string[])[];
  readonly #memberById: ReadonlyMap<string, RingMember>;

  /** @internal Use `createRing`, `rebalance` or `restoreRing`; they validate the input. */
  constructor(members: readonly RingMember[], owners: readonly string[], opts: RingOptions) {
    this.partitionCount = opts.partitionCount;
    this.n = opts.n;
    this.replication = opts.replication === undefined ? undefined : Object.freeze({ ...opts.replication });
    this.members = Object.freeze(members.map((m) => Object.freeze({ nodeId: m.nodeId, dc: m.dc, rack: m.rack, weight: m.weight })));
    this.owners = Object.freeze([...owners]);
    this.#memberById = new Map(this.members.map((m) => [m.nodeId, m]));
    this.#prefs = Object.freeze(computePreferenceLists(this.owners, this.members, this.n, this.replication));
    Object.freeze(this);
  }

  /** The cached preference list of partition p (frozen; do not copy on the hot path). */
  preferenceList(partition: number): readonly string[] {
    const list = this.#prefs[partition];
    if (list === undefined) throw new RangeError(`partition ${partition} out of range [0, ${this.partitionCount})`);
    return list;
  }

  member(nodeId: string): RingMember | undefined {
    return this.#memberById.get(nodeId);
  }

  /** Plain data for persistence and gossip; `restoreRing` rebuilds the identical ring. */
  toJSON(): RingSnapshot {
    return {
      partitionCount: this.partitionCount,
      n: this.n,
      ...(this.replication === undefined ? {} : { replication: { ...this.replication } }),
      members: this.members.map((m) => ({ ...m })),
      owners: [...this.owners],
    };
  }
}

export interface RingSnapshot {
  partitionCount: number;
  n: number;
  replication?: Record<string, number>;
  members: RingMember[];
  owners: string[];
}

/** Window of neighbours kept distinct when claims move: a preference list spans N partitions. */
function claimWindow(n: number): number {
  return Math.max(1, n - 1);
}

function validateOptions(opts: RingOptions): RingOptions {
  if (!isValidPartitionCount(opts.partitionCount)) {
    throw new RingError(`partitionCount must be a power of two in [1, ${PARTITION_COUNT_MAX}], got ${opts.partitionCount}`);
  }
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new RingError(`n must be an integer ≥ 1, got ${opts.n}`);
  if (opts.replication !== undefined) {
    let sum = 0;
    for (const [dc, c] of Object.entries(opts.replication)) {
      if (!Number.isInteger(c) || c < 0) throw new RingError(`replication for DC "${dc}" must be an integer ≥ 0, got ${c}`);
      sum += c;
    }
    if (sum !== opts.n) throw new RingError(`n (${opts.n}) must equal the sum of the per-DC replication (${sum})`);
    return { partitionCount: opts.partitionCount, n: opts.n, replication: { ...opts.replication } };
  }
  return { partitionCount: opts.partitionCount, n: opts.n };
}

function validateMembers(members: readonly RingMember[]): RingMember[] {
  const sorted = [...members].sort((a, b) => cmpStr(a.nodeId, b.nodeId));
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i]!;
    if (typeof m.nodeId !== 'string' || m.nodeId === '') throw new RingError('nodeId must be a non-empty string');
    if (typeof m.dc !== 'string' || typeof m.rack !== 'string') throw new RingError(`dc and rack of ${m.nodeId} must be strings`);
    if (!Number.isFinite(m.weight) || m.weight < 0) throw new RingError(`weight of ${m.nodeId} must be finite and ≥ 0, got ${m.weight}`);
    if (i > 0 && sorted[i - 1]!.nodeId === m.nodeId) throw new RingError(`duplicate nodeId ${m.nodeId}`);
    total += m.weight;
  }
  if (sorted.length === 0) throw new RingError('a ring needs at least one member');
  if (!(total > 0)) throw new RingError('the members\' total weight must be > 0');
  return sorted.map((m) => ({ nodeId: m.nodeId, dc: m.dc, rack: m.rack, weight: m.weight }));
}

/**
 * A fresh ring. Deterministic: the same member set, in any order, gives the identical ring.
 * Each member claims its largest-remainder share of Q (see `claimTargets`), interleaved so that
 * consecutive partitions belong to different DCs, racks and nodes where the weights allow.
 */
export function createRing(members: readonly RingMember[], opts: RingOptions): Ring {
  const o = validateOptions(opts);
  const ms = validateMembers(members);
  const targets = claimTargets(ms, o.partitionCount);
  return new Ring(ms, initialClaim(ms, targets, o.partitionCount, claimWindow(o.n)), o);
}

/**
 * The ring after a claim change (joins, leaves, weight or placement changes): `members` is the
 * full new member set. Partitions move only from leaving nodes and nodes above their new target
 * to nodes below it, so the count moved is the minimum for the new targets. Deterministic given
 * `prev` and the member set. Q, N and replication are kept from `prev`.
 */
export function rebalance(prev: Ring, members: readonly RingMember[]): Ring {
  const ms = validateMembers(members);
  const targets = claimTargets(ms, prev.partitionCount, partitionCounts(prev));
  const opts: RingOptions = prev.replication === undefined
    ? { partitionCount: prev.partitionCount, n: prev.n }
    : { partitionCount: prev.partitionCount, n: prev.n, replication: prev.replication };
  return new Ring(ms, rebalanceClaim(prev.owners, ms, targets, claimWindow(prev.n)), opts);
}

/**
 * Rebuild a ring from its persisted or gossiped form (`Ring.toJSON()`). The owners are taken as
 * given (they are the cluster's agreed state, not recomputed); they must name members of
 * positive weight.
 */
export function restoreRing(snapshot: RingSnapshot): Ring {
  const o = validateOptions(snapshot.replication === undefined
    ? { partitionCount: snapshot.partitionCount, n: snapshot.n }
    : { partitionCount: snapshot.partitionCount, n: snapshot.n, replication: snapshot.replication });
  const ms = validateMembers(snapshot.members);
  if (!Array.isArray(snapshot.owners) || snapshot.owners.length !== o.partitionCount) {
    throw new RingError(`owners must have ${o.partitionCount} entries`);
  }
  const weights = new Map(ms.map((m) => [m.nodeId, m.weight]));
  for (const id of snapshot.owners) {
    const w = weights.get(id);
    if (w === undefined) throw new RingError(`owner ${String(id)} is not a member`);
    if (w === 0) throw new RingError(`owner ${id} has weight 0`);
  }
  return new Ring(ms, snapshot.owners, o);
}

/** The N replicas of partition p, owner first (see preference.ts for the rule). */
export function preferenceList(ring: Ring, partition: number): readonly string[] {
  return ring.preferenceList(partition);
}

export function partitionForKey(ring: Ring, key: Uint8Array): number {
  return partitionOf(keyHash(key), ring.partitionCount);
}

export function preferenceListForKey(ring: Ring, key: Uint8Array): readonly string[] {
  return ring.preferenceList(partitionOf(keyHash(key), ring.partitionCount));
}

/** Each member's target partition count for this ring's member set (largest remainder). */
export function targetsOf(ring: Ring): Map<string, number> {
  return claimTargets(ring.members, ring.partitionCount, partitionCounts(ring));
}

/** Partitions owned per member (0 for members that own none). */
export function partitionCounts(ring: Ring): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of ring.members) counts.set(m.nodeId, 0);
  for (const o of ring.owners) counts.set(o, counts.get(o)! + 1);
  return counts;
}
