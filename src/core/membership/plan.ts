/**
 * What a ring change moves, computed from a cluster document alone (pure, deterministic): the
 * members after the staged changes, the ring they lead to (`rebalance` of the ring in force), and
 * the difference between the two rings — owners, replicas, ownership. `plan` shows it; `commit`
 * makes its ring the transition's target; `/admin/transition` follows the moving partitions.
 */
import type { OwnerChange, Ring, RingMember } from '../ring/index.js';
import { ownerChanges, ownership, rebalance } from '../ring/index.js';
import type { NodeId } from '../types.js';
import type { ClusterMeta, MemberInfo, StagedChange } from './meta.js';
import { nextRingOf, ringOf } from './meta.js';

/** One replica a change creates: partition `partition` gains `to`, which takes the place of `from` (null: an extra replica). */
export interface ReplicaMove {
  readonly partition: number;
  readonly from: NodeId | null;
  readonly to: NodeId;
}

/** A member's share of the partitions (0..1) before and after the change. */
export interface OwnershipChange {
  readonly nodeId: NodeId;
  readonly before: number;
  readonly after: number;
}

export interface RingPlan {
  /** The document the plan was computed from. */
  readonly version: number;
  readonly partitionCount: number;
  readonly n: number;
  /** The staged changes in force (in the document). */
  readonly staged: readonly StagedChange[];
  /**
   * Changes staged through the node asked that the document in force does not hold: a
   * concurrent change at another node won (or cleared them). Stage them again.
   */
  readonly lost: readonly StagedChange[];
  readonly membersBefore: readonly NodeId[];
  readonly membersAfter: readonly NodeId[];
  /** Partitions whose owner changes, with the old and the new owner. */
  readonly ownerChanges: readonly OwnerChange[];
  /** Every replica that must receive a partition's data. */
  readonly replicaMoves: readonly ReplicaMove[];
  /** Partitions that gain at least one replica (the data that must stream), ascending. */
  readonly movingPartitions: readonly number[];
  readonly ownership: readonly OwnershipChange[];
}

/** Where a committed change stands (`/admin/transition`). */
export interface TransitionView {
  /** The members after the change. */
  readonly members: readonly NodeId[];
  readonly joining: readonly NodeId[];
  readonly leaving: readonly NodeId[];
  /** Partitions whose new replicas need data, ascending. */
  readonly moving: readonly number[];
  /** Of those, the ones whose new replicas have all their data. */
  readonly done: readonly number[];
}

const byId = (a: { nodeId: string }, b: { nodeId: string }): number => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0);

export function ringMemberOf(m: MemberInfo): RingMember {
  return { nodeId: m.nodeId, dc: m.dc, rack: m.rack, weight: m.weight };
}

/** The members after `staged` applies to `members` (a later change for a node replaces an earlier one), sorted by id. */
export function membersAfter(members: readonly MemberInfo[], staged: readonly StagedChange[]): MemberInfo[] {
  const out = new Map(members.map((m) => [m.nodeId, m]));
  for (const c of staged) {
    if (c.kind === 'join') {
      if (c.member) out.set(c.nodeId, c.member);
    } else {
      out.delete(c.nodeId);
    }
  }
  return [...out.values()].sort(byId);
}

/*
 * Rings cost (Q preference lists each; a rebalance far more), and a document is immutable once
 * made: what is computed from one is kept with it, weakly, for the next plan, poll or /cluster.
 */
const staged = new WeakMap<ClusterMeta, { ring: Ring; next: Ring; members: MemberInfo[] }>();
const nextRings = new WeakMap<ClusterMeta, Ring>();
const views = new WeakMap<ClusterMeta, TransitionView>();

/** The ring the staged changes lead to (throws `RingError` when they cannot make one). */
export function stagedRing(meta: ClusterMeta): { ring: Ring; next: Ring; members: MemberInfo[] } {
  const known = staged.get(meta);
  if (known) return known;
  const ring = ringOf(meta);
  const changes = meta.staged ?? [];
  const members = membersAfter(meta.members, changes);
  const next = changes.length === 0 ? ring : rebalance(ring, members.map(ringMemberOf));
  staged.set(meta, { ring, next, members });
  return { ring, next, members };
}

/** The ring the transition leads to (undefined without one), computed once per document. */
export function transitionRing(meta: ClusterMeta): Ring | undefined {
  if (!meta.transition) return undefined;
  const known = nextRings.get(meta);
  if (known) return known;
  const next = nextRingOf(meta)!;
  nextRings.set(meta, next);
  return next;
}

/** Partitions whose preference list gains a node from `a` to `b`, ascending. */
export function movingPartitions(a: Ring, b: Ring): number[] {
  const out: number[] = [];
  for (let p = 0; p < a.partitionCount; p++) {
    const before = a.preferenceList(p);
    if (b.preferenceList(p).some((id) => !before.includes(id))) out.push(p);
  }
  return out;
}

/** The replicas `b` adds to `a`, each paired with a replica it replaces where there is one. */
export function replicaMoves(a: Ring, b: Ring): ReplicaMove[] {
  const out: ReplicaMove[] = [];
  for (let p = 0; p < a.partitionCount; p++) {
    const before = a.preferenceList(p);
    const after = b.preferenceList(p);
    const removed = before.filter((id) => !after.includes(id));
    after.filter((id) => !before.includes(id)).forEach((to, i) => out.push({ partition: p, from: removed[i] ?? null, to }));
  }
  return out;
}

/** What the staged changes of `meta` would move; changes nothing. Throws `RingError` when they make no ring. */
export function planOf(meta: ClusterMeta, lost: readonly StagedChange[] = [], rings = stagedRing(meta)): RingPlan {
  const { ring, next, members } = rings;
  const before = ownership(ring);
  const after = ownership(next);
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort();
  return {
    version: meta.version, partitionCount: meta.partitions, n: meta.n,
    staged: meta.staged ?? [], lost,
    membersBefore: meta.members.map((m) => m.nodeId), membersAfter: members.map((m) => m.nodeId),
    ownerChanges: ownerChanges(ring, next), replicaMoves: replicaMoves(ring, next), movingPartitions: movingPartitions(ring, next),
    ownership: ids.map((nodeId) => ({ nodeId, before: before.get(nodeId) ?? 0, after: after.get(nodeId) ?? 0 })),
  };
}

/** The transition under way, or null. */
export function transitionView(meta: ClusterMeta): TransitionView | null {
  const t = meta.transition;
  const next = transitionRing(meta);
  if (!t || !next) return null;
  const known = views.get(meta);
  if (known) return known;
  const before = new Set(meta.members.map((m) => m.nodeId));
  const after = new Set(t.members.map((m) => m.nodeId));
  const view = {
    members: [...after],
    joining: [...after].filter((id) => !before.has(id)),
    leaving: [...before].filter((id) => !after.has(id)),
    moving: movingPartitions(stagedRing(meta).ring, next),
    done: t.done,
  };
  views.set(meta, view);
  return view;
}
