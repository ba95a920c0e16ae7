/**
 * The runtime's side of ring administration: what `/cluster` and `/ring` show of the cluster
 * document (members with their ring state, the version, staged changes, the transition), and
 * the byte estimate a plan carries. The decisions are the core's (src/core/membership/admin.ts);
 * this only reads them.
 */
import type { MemberSnapshot } from '../core/membership/gossip-events.js';
import type { AdminOp, AdminResult, Node } from '../core/node.js';
import type { Logger, PeerInfo, StorageEngine } from '../ports/index.js';
import type { MemberInfo } from '../core/membership/index.js';
import { transitionRing, transitionView } from '../core/membership/plan.js';
import { ownership, partitionForKey, preferenceList } from '../core/ring/index.js';
import type { Ring } from '../core/ring/index.js';
import type { ClusterMeta } from '../core/node.js';
import { utf8 } from '../core/bytes.js';
import type { MemberState, MemberView, RingState, RingView } from './service.js';

/** What the API shows of the ring in force (and the document it came with). */
export function ringViewOf(ring: Ring, meta: ClusterMeta | undefined): RingView {
  return {
    ...(meta ? { clusterId: meta.clusterId, version: meta.version } : {}),
    partitionCount: ring.partitionCount,
    n: ring.n,
    owners: ring.owners,
    preferenceList: (p) => preferenceList(ring, p),
    partitionForKey: (key) => partitionForKey(ring, utf8(key)),
  };
}

/** How many bytes a plan would move, and how that figure was reached. */
export interface BytesEstimate {
  /** Estimated bytes streamed to new replicas; null when the node asked cannot tell. */
  readonly bytes: number | null;
  /** The node asked's stored bytes per partition it replicates (the unit of the estimate). */
  readonly perPartitionReplicaBytes: number | null;
  readonly basis: string;
}

/** A node's answer to an operator: the core's result, plans with a byte estimate. */
export type AdminReply = AdminResult & { readonly estimate?: BytesEstimate };

/** Runs an operator's op in the core (a bug answers `unavailable`, never takes the node down). */
export function runAdmin(node: Node, op: AdminOp, engine: StorageEngine, logger: Logger): AdminReply {
  try {
    return withEstimate(node.admin(op), node, engine);
  } catch (e) {
    logger.error('an admin operation could not be handled', { op: op.op, error: String(e) });
    return { ok: false, error: 'unavailable', message: `the node could not handle ${op.op}: ${String(e)}` };
  }
}

/** Bytes the engine holds (tables and memtables), when it reports them. */
export function storedBytes(engine: StorageEngine): number | null {
  const stats = (engine as { stats?: () => Record<string, unknown> }).stats;
  if (typeof stats !== 'function') return null;
  const s = stats.call(engine);
  const t = typeof s['tableBytes'] === 'number' ? s['tableBytes'] : null;
  const m = typeof s['memtableBytes'] === 'number' ? s['memtableBytes'] : 0;
  return t === null ? null : t + m;
}

/**
 * Adds the byte estimate to a plan or a commit: every replica that moves is assumed to carry
 * what the node asked stores per partition it replicates (keys spread evenly over partitions).
 */
export function withEstimate(result: AdminResult, node: Node, engine: StorageEngine): AdminReply {
  if (!result.ok || (result.op !== 'plan' && result.op !== 'commit')) return result;
  const moves = result.plan.replicaMoves.length;
  const load = storedBytes(engine);
  const ring = node.hasRing() ? node.currentRing : undefined;
  let replicated = 0;
  if (ring) for (let p = 0; p < ring.partitionCount; p++) if (ring.preferenceList(p).includes(node.id)) replicated++;
  if (load === null || replicated === 0) {
    return { ...result, estimate: { bytes: null, perPartitionReplicaBytes: null, basis: 'the node asked reports no stored bytes or replicates no partition: ask a member with data' } };
  }
  const per = load / replicated;
  return {
    ...result,
    estimate: {
      bytes: Math.round(per * moves), perPartitionReplicaBytes: Math.round(per),
      basis: `${moves} replica moves × the stored bytes per partition replica of ${node.id} (${load} bytes over ${replicated} partitions)`,
    },
  };
}

/** The document's version, staged changes and transition, for `/ring` and `/cluster`. */
export function ringStateOf(node: Node): RingState | undefined {
  const meta = node.clusterMeta();
  if (!meta) return undefined;
  const next = transitionRing(meta);
  const t = meta.transition;
  const view = transitionView(meta);
  return {
    clusterId: meta.clusterId, version: meta.version, staged: meta.staged ?? [],
    ...(t && next && view ? {
      transition: {
        members: view.members, owners: t.owners, done: t.done, moving: view.moving, preferenceList: (p: number) => next.preferenceList(p),
      },
    } : {}),
  };
}

/**
 * The members as this node sees them: ring members (`leaving` when the transition drops them),
 * joiners of the transition, and members that left while this node watched (`left`, itself
 * included when it was removed), until it restarts or forgets the oldest.
 */
export function memberViews(
  node: Node, self: PeerInfo, httpOf: (id: string) => string | undefined, gossip: ReadonlyMap<string, MemberSnapshot>,
): MemberView[] {
  const meta = node.clusterMeta();
  if (!meta || !node.hasRing()) return [];
  const share = ownership(node.currentRing);
  const next = transitionRing(meta);
  const nextShare = next ? ownership(next) : undefined;
  const after = new Set(meta.transition?.members.map((m) => m.nodeId) ?? []);
  const seen = new Set<string>();
  const liveness = (id: string): MemberState => (id === self.nodeId ? 'alive' : gossip.get(id)?.status ?? 'alive');
  const view = (m: MemberInfo, state: MemberState, extra: Partial<MemberView> = {}): MemberView => {
    seen.add(m.nodeId);
    const http = m.nodeId === self.nodeId ? self.http : httpOf(m.nodeId);
    return {
      nodeId: m.nodeId, address: m.address, ...(http !== undefined ? { http } : {}), dc: m.dc, rack: m.rack, weight: m.weight,
      state, heartbeat: gossip.get(m.nodeId)?.heartbeat ?? 0, ownership: share.get(m.nodeId) ?? 0,
      ...(nextShare ? { nextOwnership: nextShare.get(m.nodeId) ?? 0 } : {}), ...extra,
    };
  };
  const out = meta.members.map((m) => view(m, meta.transition && !after.has(m.nodeId) ? 'leaving' : liveness(m.nodeId)));
  const members = new Set(meta.members.map((m) => m.nodeId));
  for (const m of meta.transition?.members ?? []) if (!members.has(m.nodeId)) out.push(view(m, liveness(m.nodeId), { joining: true }));
  for (const m of node.ringAdmin.departed()) if (!seen.has(m.nodeId)) out.push(view(m, 'left', { ownership: 0 }));
  // Nodes that adopted the document without owning partitions, known through gossip.
  for (const m of gossip.values()) if (!seen.has(m.nodeId) && (m.generation > 0 || m.nodeId === self.nodeId)) out.push(view(m, liveness(m.nodeId)));
  return out;
}
