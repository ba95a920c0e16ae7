/**
 * What a transition moves, decided from the cluster document alone (so every node decides the
 * same): for each partition, its new replicas are the next ring's preference list minus the
 * current one's; a partition with any is "moving". Also the documents transfer proposes:
 * done-marking and the flip.
 */
import type { ClusterMeta, TransitionMeta } from '../membership/index.js';
import { metaDigest, nextRingOf, ringOf } from '../membership/index.js';
import type { Ring } from '../ring/index.js';
import type { NodeId } from '../types.js';

/** The rings of a document under change, computed once per document. */
export interface TransitionView {
  /** Names the change (stable while done-marking bumps the version). */
  readonly id: string;
  readonly current: Ring;
  readonly next: Ring;
  readonly transition: TransitionMeta;
}

export function viewOf(meta: ClusterMeta): TransitionView | undefined {
  const next = nextRingOf(meta);
  if (!meta.transition || !next) return undefined;
  return { id: transitionId(meta), current: ringOf(meta), next, transition: meta.transition };
}

/** A digest of where the change starts and where it leads (not of its progress). */
export function transitionId(meta: ClusterMeta): string {
  const t = meta.transition;
  if (!t) return '';
  return metaDigest({
    clusterId: meta.clusterId, version: 1, partitions: meta.partitions, n: meta.n, members: meta.members, owners: meta.owners,
    transition: { members: t.members, owners: t.owners, done: [] },
  });
}

/** The replicas partition `p` gains in the change. */
export function newReplicas(view: TransitionView, p: number): NodeId[] {
  const before = view.current.preferenceList(p);
  return view.next.preferenceList(p).filter((id) => !before.includes(id));
}

/** Every moving partition, ascending. */
export function movingPartitions(view: TransitionView): number[] {
  const out: number[] = [];
  for (let p = 0; p < view.current.partitionCount; p++) if (newReplicas(view, p).length > 0) out.push(p);
  return out;
}

/**
 * Where a new replica pulls `p` from, best first: members of the current preference list that
 * are believed alive and not removed — first those leaving the list (about to disappear), then
 * the owner, then the other old replicas.
 */
export function sourcesFor(view: TransitionView, p: number, self: NodeId, alive: (id: NodeId) => boolean): NodeId[] {
  const removed = new Set(view.transition.removed ?? []);
  const old = view.current.preferenceList(p).filter((id) => id !== self && !removed.has(id) && alive(id));
  const after = view.next.preferenceList(p);
  const owner = view.current.owners[p];
  const rank = (id: NodeId): number => (!after.includes(id) ? 0 : id === owner ? 1 : 2);
  return [...old].sort((a, b) => rank(a) - rank(b));
}

export const streamedEntry = (p: number, id: NodeId): string => `${p}:${id}`;

/**
 * The document after `self` finished `finished` (partitions it received in full): its entries
 * join `streamed`, and each partition all of whose new replicas are in moves to `done`.
 * Undefined when nothing would change (nothing to propose).
 */
export function markedTransition(view: TransitionView, self: NodeId, finished: Iterable<number>): TransitionMeta | undefined {
  const t = view.transition;
  const done = new Set(t.done);
  const streamed = new Set(t.streamed ?? []);
  let changed = false;
  for (const p of finished) {
    if (done.has(p) || streamed.has(streamedEntry(p, self))) continue;
    streamed.add(streamedEntry(p, self));
    changed = true;
  }
  if (!changed) return undefined;
  const touched = new Set([...streamed].map((e) => Number(e.slice(0, e.indexOf(':')))));
  for (const p of touched) {
    if (newReplicas(view, p).every((id) => streamed.has(streamedEntry(p, id)))) {
      done.add(p);
      for (const id of newReplicas(view, p)) streamed.delete(streamedEntry(p, id));
    }
  }
  const sorted = [...streamed].sort();
  return {
    members: t.members, owners: t.owners, done: [...done].sort((a, b) => a - b),
    ...(sorted.length > 0 ? { streamed: sorted } : {}), ...(t.removed ? { removed: t.removed } : {}),
  };
}

/** Whether every moving partition is done: the change may be applied. */
export function allDone(view: TransitionView): boolean {
  const done = new Set(view.transition.done);
  return movingPartitions(view).every((p) => done.has(p));
}

/** The document that applies the change: every node makes the identical one from the same document. */
export function flipped(meta: ClusterMeta): Omit<ClusterMeta, 'version'> {
  const t = meta.transition;
  const { transition: _t, version: _v, ...rest } = meta;
  return t ? { ...rest, members: t.members, owners: t.owners } : rest;
}
