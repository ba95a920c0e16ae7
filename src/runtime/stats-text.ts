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
  ];
  return lines.join('\n') + '\n';
}
