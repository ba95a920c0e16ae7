/**
 * Ring changes in the simulator: `join` (a spare node starts and is added), `leave` (a member
 * hands its partitions over and goes) and `remove` (a member is crashed for good and removed as
 * dead). The operator's surface (plan/commit) is another module's; here the committed document
 * is built directly — `{...meta, version + 1, transition}` with the claim `rebalance` computes —
 * and installed at one up member, as a commit would. Partition transfer and the document push
 * do the rest; the liveness phase waits for the flip and checks every node ends on the
 * transition's ring.
 */
import type { ClusterMeta, MemberInfo } from '../core/membership/index.js';
import { ringOf } from '../core/membership/index.js';
import { rebalance } from '../core/ring/index.js';
import type { SimCluster, SimNode } from './cluster.js';
import type { Prng } from './prng.js';

/** `replace`: every spare joins and every founder leaves in one change (no old replica stays). */
export type RingChangeKind = 'join' | 'leave' | 'remove' | 'replace';

/** What was asked for, to check against at the end. */
export interface RingChangeRecord {
  kind: RingChangeKind;
  node: string;
  /** Virtual ms at which the change was committed (undefined: it never was). */
  atMs?: number;
  /** The members and claim the change leads to. */
  target?: { members: string[]; owners: readonly string[] };
  /** Keys the up nodes received by transfer since their last start (shown by `npm run sim`). */
  streamedKeys?: number;
  /** Keys the up nodes dropped from partitions they gave away, since their last start. */
  droppedKeys?: number;
}

/** The committed document of a change: the current one plus its transition (version + 1). */
export function committedDoc(meta: ClusterMeta, members: readonly MemberInfo[], removed: readonly string[] = []): ClusterMeta {
  const sorted = [...members].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  const next = rebalance(ringOf(meta), sorted.map((m) => ({ nodeId: m.nodeId, dc: m.dc, rack: m.rack, weight: m.weight })));
  return {
    ...meta, version: meta.version + 1,
    transition: { members: sorted, owners: next.owners, done: [], ...(removed.length > 0 ? { removed: [...removed] } : {}) },
  };
}

const infoOf = (n: SimNode): MemberInfo => ({ ...n.info, weight: n.info.weight ?? 1 }) as MemberInfo;

/**
 * Schedules the change at `atMs` of virtual time: for `join` the last node (a spare) starts
 * first, and the commit waits until it has linked; `remove` crashes its node for good first.
 */
export function scheduleRingChange(cluster: SimCluster, rng: Prng, kind: RingChangeKind, atMs: number): RingChangeRecord {
  const founders = cluster.founders.length;
  const index = kind === 'join' ? cluster.nodes.length - 1 : kind === 'replace' ? founders : rng.int(founders);
  const record: RingChangeRecord = { kind, node: kind === 'replace' ? 'every founder' : cluster.nodes[index]!.info.nodeId };
  cluster.queue.schedule(atMs, () => {
    if (kind === 'join') cluster.restart(index);
    if (kind === 'replace') for (let i = founders; i < cluster.nodes.length; i++) cluster.restart(i);
    if (kind === 'remove') {
      cluster.keepDown.add(index);
      cluster.crash(index);
    }
    commitWhenReady(cluster, rng, index, record, 0);
  });
  return record;
}

/** Commits the change once its node and a proposer are ready and no other change is under way (retried every 50 ms). */
export function commitWhenReady(cluster: SimCluster, rng: Prng, index: number, record: RingChangeRecord, tries: number): void {
  const target = cluster.nodes[index]!;
  const spares = cluster.nodes.slice(cluster.founders.length);
  const proposers = cluster.nodes.filter((n, i) => i !== index && n.up && n.runtime?.clusterMeta() !== undefined);
  const ready = proposers.length > 0 && (record.kind !== 'join' || target.up) && (record.kind !== 'replace' || spares.every((n) => n.up));
  if (!ready) {
    if (tries < 1000) cluster.queue.schedule(50, () => commitWhenReady(cluster, rng, index, record, tries + 1));
    return;
  }
  const at = rng.pick(proposers);
  const meta = at.runtime!.clusterMeta()!;
  if (meta.transition) {
    cluster.queue.schedule(50, () => commitWhenReady(cluster, rng, index, record, tries + 1));
    return;
  }
  const id = target.info.nodeId;
  const members = record.kind === 'join' ? [...meta.members, infoOf(target)]
    : record.kind === 'replace' ? spares.map(infoOf)
      : meta.members.filter((m) => m.nodeId !== id);
  const doc = committedDoc(meta, members, record.kind === 'remove' ? [id] : []);
  at.runtime!.installClusterMeta(doc);
  record.atMs = cluster.queue.now;
  record.target = { members: doc.transition!.members.map((m) => m.nodeId), owners: doc.transition!.owners };
}

/** Whether every up node is on one document with no change under way. */
export function ringSettled(cluster: SimCluster): boolean {
  const docs = cluster.upNodes().map((n) => n.runtime?.clusterMeta());
  const first = docs[0];
  return first !== undefined && docs.every((d) => d !== undefined && !d.transition && d.version === first.version && d.owners.join() === first.owners.join());
}

/** What is wrong with the final rings, compared with the change asked for ('' when nothing). */
export function checkFinalRing(cluster: SimCluster, record: RingChangeRecord): string {
  if (!record.target) return `the ${record.kind} of ${record.node} was never committed`;
  const wanted = record.target;
  for (const n of cluster.upNodes()) {
    const meta = n.runtime?.clusterMeta();
    if (!meta) return `${n.info.nodeId} has no cluster document`;
    if (meta.transition) return `${n.info.nodeId} is still in the transition (version ${meta.version}, ${meta.transition.done.length} partitions done)`;
    if (meta.members.map((m) => m.nodeId).join() !== wanted.members.join()) return `${n.info.nodeId} ends with members ${meta.members.map((m) => m.nodeId).join(',')}, not ${wanted.members.join(',')}`;
    if (meta.owners.join() !== wanted.owners.join()) return `${n.info.nodeId} ends with another claim than the transition's`;
  }
  return '';
}
