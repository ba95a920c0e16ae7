/**
 * From two scrapes of a node's /metrics to the figures the autoscale policy reads: client
 * requests per second, event-loop busy share, p99 latency over the interval (from the latency
 * histogram's bucket deltas), stored bytes, write stalls per second. A node's first scrape gives
 * no rates (the policy holds with `no_data` until every node has two).
 */
import type { NodeSample } from '../core/autoscale/index.js';

/** One scrape: every sample line summed by metric name, histogram buckets by `le`. */
export interface Scrape {
  atMs: number;
  totals: Map<string, number>;
  /** `le` → cumulative count, summed over label sets, for the client latency histogram. */
  latencyBuckets: Map<number, number>;
}

/** Series bounded to what the policy reads; a line longer than this is skipped. */
const LINE_CHARS_MAX = 4096;
const LATENCY = 'gossamer_client_request_duration_seconds_bucket';
const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/;

export const WANTED = [
  'gossamer_client_requests_total', 'gossamer_event_loop_busy_seconds_total', 'gossamer_process_cpu_seconds_total',
  'gossamer_storage_sstable_bytes', 'gossamer_storage_memtable_bytes', 'gossamer_storage_stalls_total',
] as const;

/** Prometheus text format 0.0.4, only the series listed in WANTED and the latency buckets. */
export function parseMetrics(text: string, atMs: number): Scrape {
  const totals = new Map<string, number>();
  const latencyBuckets = new Map<number, number>();
  const wanted = new Set<string>(WANTED);
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#') || line.length > LINE_CHARS_MAX) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const name = m[1]!;
    if (wanted.has(name)) totals.set(name, (totals.get(name) ?? 0) + value);
    else if (name === LATENCY) {
      const le = /le="([^"]+)"/.exec(m[2] ?? '')?.[1];
      const bound = le === '+Inf' ? Infinity : Number(le);
      if (le !== undefined && !Number.isNaN(bound)) latencyBuckets.set(bound, (latencyBuckets.get(bound) ?? 0) + value);
    }
  }
  return { atMs, totals, latencyBuckets };
}

/** A counter's increase; a counter that went down (the node restarted) counts from zero. */
function increase(now: number | undefined, before: number | undefined): number {
  const a = now ?? 0;
  const b = before ?? 0;
  return a >= b ? a - b : a;
}

/** The smallest bucket bound holding 99% of the interval's requests, in ms (0 with none). */
export function p99FromBuckets(now: Map<number, number>, before: Map<number, number>): number {
  const bounds = [...now.keys()].sort((a, b) => a - b);
  const total = increase(now.get(Infinity), before.get(Infinity));
  if (total <= 0) return 0;
  let lastFinite = 0;
  for (const b of bounds) {
    if (Number.isFinite(b)) lastFinite = b;
    if (increase(now.get(b), before.get(b)) >= 0.99 * total) return (Number.isFinite(b) ? b : lastFinite) * 1000;
  }
  return lastFinite * 1000;
}

/** The node's figures between two scrapes; undefined when the interval is empty. */
export function sampleBetween(nodeId: string, dc: string, before: Scrape, now: Scrape): NodeSample | undefined {
  const seconds = (now.atMs - before.atMs) / 1000;
  if (!(seconds > 0)) return undefined;
  const t = (name: string): number => increase(now.totals.get(name), before.totals.get(name));
  // The event loop's busy time where the node exports it, else the process's CPU time (a proxy).
  const busy = now.totals.has('gossamer_event_loop_busy_seconds_total') ? t('gossamer_event_loop_busy_seconds_total') : t('gossamer_process_cpu_seconds_total');
  return {
    nodeId, dc,
    requestsPerSec: t('gossamer_client_requests_total') / seconds,
    eventLoopUtilization: Math.min(1, Math.max(0, busy / seconds)),
    p99LatencyMs: p99FromBuckets(now.latencyBuckets, before.latencyBuckets),
    storedBytes: (now.totals.get('gossamer_storage_sstable_bytes') ?? 0) + (now.totals.get('gossamer_storage_memtable_bytes') ?? 0),
    stallsPerSec: t('gossamer_storage_stalls_total') / seconds,
  };
}
