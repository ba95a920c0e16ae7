/**
 * The node's hinted-handoff and read-repair counters in the Prometheus text format, for
 * `/metrics` to append until the metrics registry lands (the lead moves these lines into it).
 */
import type { NodeStats } from '../core/node.js';

const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderNodeStats(stats: NodeStats | undefined): string {
  if (!stats) return '';
  const h = stats.hints;
  const lines = [
    '# HELP gossamer_hints_stored_total Hints this node accepted as a stand-in.',
    '# TYPE gossamer_hints_stored_total counter',
    `gossamer_hints_stored_total ${h.stored}`,
    '# HELP gossamer_hints_delivered_total Hints delivered to their target and deleted.',
    '# TYPE gossamer_hints_delivered_total counter',
    `gossamer_hints_delivered_total ${h.delivered}`,
    '# HELP gossamer_hints_dropped_total Hints dropped at the bounds (full, expired or damaged).',
    '# TYPE gossamer_hints_dropped_total counter',
    `gossamer_hints_dropped_total ${h.dropped}`,
    '# HELP gossamer_hints_pending Hints held for delivery, by target node.',
    '# TYPE gossamer_hints_pending gauge',
    ...Object.entries(h.pending).map(([t, n]) => `gossamer_hints_pending{target="${esc(t)}"} ${n}`),
    '# HELP gossamer_hints_pending_bytes Bytes of hint records held for delivery.',
    '# TYPE gossamer_hints_pending_bytes gauge',
    `gossamer_hints_pending_bytes ${h.bytesPending}`,
    '# HELP gossamer_read_repairs_total Read-repair writes sent to stale replicas.',
    '# TYPE gossamer_read_repairs_total counter',
    `gossamer_read_repairs_total ${stats.readRepairs}`,
    ...antiEntropyLines(stats),
    ...transferLines(stats),
  ];
  return lines.join('\n') + '\n';
}

function antiEntropyLines(stats: NodeStats): string[] {
  const a = stats.antiEntropy;
  const counter = (name: string, help: string, v: number): string[] => [
    `# HELP gossamer_antientropy_${name} ${help}`, `# TYPE gossamer_antientropy_${name} counter`, `gossamer_antientropy_${name} ${v}`,
  ];
  const gauge = (name: string, help: string, v: number): string[] => [
    `# HELP gossamer_antientropy_${name} ${help}`, `# TYPE gossamer_antientropy_${name} gauge`, `gossamer_antientropy_${name} ${v}`,
  ];
  const last = Object.entries(a.lastFullRepairMs);
  return [
    ...counter('exchanges_total', 'Anti-entropy exchanges this node drove to the end.', a.exchanges),
    ...counter('exchanges_failed_total', 'Anti-entropy exchanges that timed out or found the peer busy.', a.exchangesFailed),
    ...counter('keys_compared_total', 'Keys whose hashes an exchange compared.', a.keysCompared),
    ...counter('keys_repaired_total', 'Keys whose local state an exchange changed (either side).', a.keysRepaired),
    ...counter('bytes_sent_total', 'Bytes of anti-entropy messages sent (approximate wire size).', a.bytesSent),
    ...counter('tombstones_purged_total', 'Tombstones purged after every replica confirmed them.', a.tombstonesPurged),
    ...gauge('rate_bytes_per_second', 'The adaptive ceiling on anti-entropy bytes per second.', a.bytesPerSecond),
    ...gauge('tree_keys', 'Keys in this node\'s Merkle trees.', a.treeKeys),
    ...gauge('rebuilding', '1 while the trees are rebuilt from storage at start-up.', a.rebuilding ? 1 : 0),
    '# HELP gossamer_antientropy_last_full_repair_seconds When an exchange last found this node equal to every fellow replica, by partition (Unix seconds).',
    '# TYPE gossamer_antientropy_last_full_repair_seconds gauge',
    ...last.map(([p, ms]) => `gossamer_antientropy_last_full_repair_seconds{partition="${p}"} ${Math.floor(ms / 1000)}`),
  ];
}

/** Partition transfer: this node's moving partitions by state, and what it received and served. */
function transferLines(stats: NodeStats): string[] {
  const t = stats.transfer;
  const counter = (name: string, help: string, v: number): string[] => [
    `# HELP gossamer_transfer_${name} ${help}`, `# TYPE gossamer_transfer_${name} counter`, `gossamer_transfer_${name} ${v}`,
  ];
  return [
    '# HELP gossamer_transfer_partitions Moving partitions this node receives in the ring change under way, by state.',
    '# TYPE gossamer_transfer_partitions gauge',
    ...(['pending', 'streaming', 'done'] as const).map((st) => `gossamer_transfer_partitions{state="${st}"} ${t.partitions[st]}`),
    ...counter('keys_total', 'Keys this node received by partition transfer since it started.', t.keysTotal),
    ...counter('bytes_total', 'Key and state bytes this node received by partition transfer since it started.', t.bytesTotal),
    ...counter('bytes_served_total', 'Key and state bytes this node served to new replicas as a source.', t.bytesServedTotal),
    ...counter('source_failovers_total', 'Pulls that timed out or were refused, so the next source was tried.', t.sourceFailovers),
    ...counter('chunks_rejected_total', 'Chunks (or documents) refused as malformed.', t.chunksRejected),
    ...counter('keys_dropped_total', 'Keys of partitions this node no longer replicates, dropped after a ring change.', t.keysDroppedTotal),
  ];
}
