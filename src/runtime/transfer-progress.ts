/**
 * Views of partition transfer for the runtime's users: the log line when this node's place in
 * the ring changes, and the figures `/metrics` and `GET /admin/transition` show
 * (`NodeRuntime.transferProgress()` gives the core's `TransferProgress`).
 */
import type { ClusterMeta } from '../core/membership/index.js';
import type { TransferProgress, TransferStats } from '../core/transfer/index.js';

type Role = 'member' | 'joining' | 'leaving' | 'left' | 'none';

function roleIn(meta: ClusterMeta | undefined, self: string): Role {
  if (!meta) return 'none';
  const now = meta.members.some((m) => m.nodeId === self);
  const next = meta.transition ? meta.transition.members.some((m) => m.nodeId === self) : now;
  return now && next ? 'member' : next ? 'joining' : now ? 'leaving' : 'left';
}

/** The log line for this node's new place in the ring, when it changed (`left the cluster`, ...). */
export function roleChange(prev: ClusterMeta | undefined, next: ClusterMeta, self: string): string | undefined {
  const before = roleIn(prev, self);
  const after = roleIn(next, self);
  if (before === after || prev === undefined) return undefined;
  switch (after) {
    case 'left': return 'left the cluster: this node replicates nothing now (it may still coordinate requests)';
    case 'leaving': return 'leaving the cluster: handing its partitions over';
    case 'joining': return 'joining the cluster: receiving its partitions';
    case 'member': return before === 'joining' ? 'joined the cluster' : 'a member of the cluster again';
    default: return undefined;
  }
}

/** Partitions this node receives, by state (the gauge `gossamer_transfer_partitions{state}`). */
export function partitionsByState(p: TransferProgress | undefined): Record<'pending' | 'streaming' | 'done', number> {
  const out = { pending: 0, streaming: 0, done: 0 };
  for (const x of p?.partitions ?? []) out[x.state]++;
  return out;
}

/** The metric lines' values: partitions by state, keys and bytes received since the node started. */
export function transferFigures(stats: TransferStats | undefined, progress: TransferProgress | undefined): {
  partitions: Record<'pending' | 'streaming' | 'done', number>; keysTotal: number; bytesTotal: number;
} {
  return { partitions: partitionsByState(progress), keysTotal: stats?.keysTotal ?? 0, bytesTotal: stats?.bytesTotal ?? 0 };
}
