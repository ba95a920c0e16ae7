/**
 * A minimal `/metrics` in the Prometheus text format: request counters by route, method and
 * status. The full metrics set (with a registry) is a later issue; the labels here are bounded
 * (routes are a fixed set, methods outside the known ones are folded into "other").
 */
import type { StorageEngineStats } from '../../ports/storage.js';
import type { RouteName } from './router.js';

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS']);

/** The storage engine's background work (issue 16): stalls, slowdowns, debt, pending bytes. */
export function renderStorageMetrics(s: StorageEngineStats): string[] {
  const out: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, value: number, labels = ''): void => {
    out.push(`# HELP gossamer_storage_${name} ${help}`, `# TYPE gossamer_storage_${name} ${type}`, `gossamer_storage_${name}${labels} ${value}`);
  };
  metric('stalls_total', 'counter', 'Writes whose acknowledgement waited for a flush or a compaction.', s.stalls);
  metric('stall_seconds_total', 'counter', 'Time those writes waited, summed.', s.stallMs / 1000);
  metric('delayed_writes_total', 'counter', 'Writes the write-rate controller delayed (gradual slowdown).', s.delayedWrites);
  metric('delay_seconds_total', 'counter', 'Delay added by the write-rate controller, summed.', s.delayMs / 1000);
  metric('compaction_debt_bytes', 'gauge', 'Input bytes of the merges compaction would run now.', s.compactionDebtBytes);
  metric('pending_flush_bytes', 'gauge', 'Bytes in frozen memtables waiting for their flush.', s.pendingFlushBytes);
  metric('write_amplification', 'gauge', 'Bytes written to disk per user byte.', s.writeAmplification);
  metric('settled_tables', 'gauge', 'Tables past the merge cap (never merged again).', s.settledTables);
  out.push('# HELP gossamer_storage_tables Tables per size tier.', '# TYPE gossamer_storage_tables gauge');
  s.tablesPerTier.forEach((n, tier) => out.push(`gossamer_storage_tables{tier="${tier}"} ${n}`));
  return out;
}

export class HttpMetrics {
  private readonly counts = new Map<string, number>();
  /** Where the storage figures come from (the composition root sets it). */
  storageStats: (() => StorageEngineStats | undefined) | undefined;

  count(route: RouteName, method: string, status: number): void {
    const m = METHODS.has(method) ? method : 'other';
    const k = `route="${route}",method="${m}",status="${status}"`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }

  render(): string {
    const lines = [
      '# HELP gossamer_http_requests_total HTTP requests answered, by route, method and status.',
      '# TYPE gossamer_http_requests_total counter',
    ];
    for (const k of [...this.counts.keys()].sort()) lines.push(`gossamer_http_requests_total{${k}} ${this.counts.get(k)}`);
    const storage = this.storageStats?.();
    if (storage) lines.push(...renderStorageMetrics(storage));
    return lines.join('\n') + '\n';
  }
}
