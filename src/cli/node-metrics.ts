/**
 * Everything a node reports about itself, wired at the composition root: the metrics registry
 * the HTTP server serves on /metrics, the runtime's wire observer (replica RPC latencies),
 * collectors for membership, storage and the event loop, and the dashboard's data source.
 * Registration points for what other parts add later: `setHintsSource` (hinted handoff) and
 * `metrics.registry` / `metrics.onCollect` (rate limiter, repair, anything else).
 */
import { monitorEventLoopDelay, performance as perf } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';
import type { Message } from '../core/types.js';
import type { StorageEngine } from '../ports/index.js';
import type { NodeService } from '../runtime/service.js';
import { LATENCY_BUCKETS_S, NodeMetrics } from '../api/http/metrics.js';
import type { UiSource } from '../api/http/ui/index.js';

/** Requests awaiting a reply that the RPC timer remembers; past it the oldest count as unanswered. */
export const RPC_PENDING_MAX = 16_384;
/** A request unanswered this long is given up on (counted as unanswered). */
export const RPC_GIVE_UP_MS = 60_000;

const REPLY_OF: Record<string, string> = { 'replica-put-ack': 'replica-put', 'replica-get-reply': 'replica-get', 'forward-reply': 'forward' };
const TIMED = new Set(['replica-put', 'replica-get', 'forward']);

/** A request's id (the timed families all carry one; others, e.g. `ring-push`, do not). */
const idOf = (msg: object): string => String((msg as { id?: unknown }).id ?? '');
const STATES = ['alive', 'suspect', 'faulty', 'leaving', 'left'] as const;

export interface WireObserver {
  sent(to: string, msg: Message): void;
  received(from: string, msg: Message): void;
}

export interface NodeObservability {
  readonly metrics: NodeMetrics;
  readonly wire: WireObserver;
  readonly ui: UiSource;
  /** Starts the collectors that read the running node. */
  attach(service: NodeService & { inFlight(): number }): void;
  /** Hinted handoff registers how many hints wait for delivery (until then: not reported). */
  setHintsSource(pending: () => number): void;
  close(): void;
}

/** A numeric field of the engine's stats() and the metric it feeds. */
interface StorageField { field: string; name: string; help: string; kind: 'gauge' | 'counter' }

/** Read from whatever `stats()` the engine has; fields it lacks are simply not exported. */
export const STORAGE_FIELDS: readonly StorageField[] = [
  { field: 'memtableBytes', name: 'gossamer_storage_memtable_bytes', help: 'Bytes in memtables (active and frozen).', kind: 'gauge' },
  { field: 'tables', name: 'gossamer_storage_sstables', help: 'SSTables live.', kind: 'gauge' },
  { field: 'tableBytes', name: 'gossamer_storage_sstable_bytes', help: 'Bytes in live SSTables.', kind: 'gauge' },
  { field: 'blockCacheBytes', name: 'gossamer_storage_block_cache_bytes', help: 'Bytes held by the block cache.', kind: 'gauge' },
  { field: 'flushes', name: 'gossamer_storage_flushes_total', help: 'Memtables flushed to SSTables.', kind: 'counter' },
  { field: 'compactions', name: 'gossamer_storage_compactions_total', help: 'Compactions completed.', kind: 'counter' },
  { field: 'bytesCompacted', name: 'gossamer_storage_compacted_bytes_total', help: 'Bytes written by compactions.', kind: 'counter' },
  { field: 'logSyncs', name: 'gossamer_storage_commitlog_syncs_total', help: 'Commit log fsyncs.', kind: 'counter' },
  { field: 'blockCacheHits', name: 'gossamer_storage_block_cache_hits_total', help: 'Block reads served by the cache.', kind: 'counter' },
  { field: 'blockCacheMisses', name: 'gossamer_storage_block_cache_misses_total', help: 'Block reads that went to disk.', kind: 'counter' },
  { field: 'bloomUseful', name: 'gossamer_storage_bloom_useful_total', help: 'Table lookups a bloom filter skipped.', kind: 'counter' },
  { field: 'bloomFalsePositives', name: 'gossamer_storage_bloom_false_positives_total', help: 'Table lookups a bloom filter let through for an absent key.', kind: 'counter' },
];

type StatsFn = () => Record<string, unknown>;

function statsOf(engine: StorageEngine): StatsFn | undefined {
  const s = (engine as { stats?: unknown }).stats;
  return typeof s === 'function' ? () => (s as () => Record<string, unknown>).call(engine) : undefined;
}

function registerStorage(metrics: NodeMetrics, stats: StatsFn): void {
  const first = stats();
  const registers = [metrics.registry];
  for (const f of STORAGE_FIELDS) {
    if (typeof first[f.field] !== 'number') continue;
    const read = (): number => { const v = stats()[f.field]; return typeof v === 'number' ? v : 0; };
    if (f.kind === 'gauge') {
      new Gauge({ name: f.name, help: f.help, registers, collect() { this.set(read()); } });
    } else {
      let last = 0;
      new Counter({ name: f.name, help: f.help, registers, collect() {
        const v = read();
        if (v > last) this.inc(v - last);
        last = Math.max(last, v);
      } });
    }
  }
  if (Array.isArray(first.corruptions)) {
    new Gauge({ name: 'gossamer_storage_corruptions', help: 'Corruptions the engine detected since it opened.', registers,
      collect() { const c = stats().corruptions; this.set(Array.isArray(c) ? c.length : 0); } });
  }
}

/** Times each replica RPC from its request to its reply, bounded in memory. */
function rpcTimer(metrics: NodeMetrics, now: () => number): WireObserver & { sweep(): void } {
  const registers = [metrics.registry];
  const duration = new Histogram({
    name: 'gossamer_replica_rpc_duration_seconds', help: 'Replica RPCs this node coordinated: request to reply, by type and peer.',
    labelNames: ['type', 'peer'], buckets: LATENCY_BUCKETS_S, registers,
  });
  const unanswered = new Counter({
    name: 'gossamer_replica_rpc_unanswered_total', help: `Replica RPCs without a reply within ${RPC_GIVE_UP_MS / 1000} s (or forgotten past ${RPC_PENDING_MAX} pending).`,
    labelNames: ['type'], registers,
  });
  const sentTotal = new Counter({ name: 'gossamer_messages_sent_total', help: 'Inter-node messages sent, by type.', labelNames: ['type'], registers });
  const receivedTotal = new Counter({ name: 'gossamer_messages_received_total', help: 'Inter-node messages received, by type.', labelNames: ['type'], registers });
  const pending = new Map<string, { t0: number; type: string }>();
  return {
    sent(to, msg) {
      sentTotal.inc({ type: msg.type });
      if (!TIMED.has(msg.type)) return;
      pending.set(`${to}\u0000${idOf(msg)}`, { t0: now(), type: msg.type });
      if (pending.size > RPC_PENDING_MAX) {
        const [k, v] = pending.entries().next().value!;
        pending.delete(k);
        unanswered.inc({ type: v.type });
      }
    },
    received(from, msg) {
      receivedTotal.inc({ type: msg.type });
      const reqType = REPLY_OF[msg.type];
      if (!reqType) return;
      const k = `${from}\u0000${idOf(msg)}`;
      const p = pending.get(k);
      if (!p || p.type !== reqType) return;
      pending.delete(k);
      duration.observe({ type: reqType, peer: from }, (now() - p.t0) / 1000);
    },
    sweep() {
      const cutoff = now() - RPC_GIVE_UP_MS;
      for (const [k, v] of pending) {
        if (v.t0 >= cutoff) break; // insertion order is send order
        pending.delete(k);
        unanswered.inc({ type: v.type });
      }
    },
  };
}

/** Gossip's counters: rounds run and member state changes, as running totals from the node's stats. */
function registerMembership(registers: NodeMetrics['registry'][], s: NodeService): void {
  new Counter({
    name: 'gossamer_gossip_rounds_total', help: 'Membership gossip rounds this node ran.', registers,
    collect() { this.reset(); this.inc(s.stats?.()?.membership?.rounds ?? 0); },
  });
  new Counter({
    name: 'gossamer_member_state_transitions_total', help: 'Member state changes this node concluded, by the state entered.',
    labelNames: ['to'], registers,
    collect() {
      this.reset();
      const t = s.stats?.()?.membership?.transitions;
      for (const to of ['alive', 'suspect', 'faulty'] as const) this.inc({ to }, t?.[to] ?? 0);
    },
  });
}

/** The event loop's delay (perf_hooks.monitorEventLoopDelay) as a cumulative Prometheus histogram. */
const LOOP_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** The sampling timer's period: each sample is this period plus the delay, so it is subtracted. */
const LOOP_RESOLUTION_MS = 10;

function eventLoopHistogram(): { render(): string; close(): void } {
  const h = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const resNs = LOOP_RESOLUTION_MS * 1e6;
  h.enable();
  const name = 'gossamer_event_loop_delay_seconds';
  return {
    render(): string {
      const count = h.count;
      const lines = [`# HELP ${name} Event-loop delay sampled every 10 ms since the node started (buckets from its percentiles).`, `# TYPE ${name} histogram`];
      const pcts = [...h.percentiles.entries()].sort((a, b) => a[0] - b[0]);
      for (const b of LOOP_BUCKETS_S) {
        let below = 0;
        for (const [p, ns] of pcts) if (ns - resNs <= b * 1e9) below = p;
        const cum = h.max - resNs <= b * 1e9 ? count : Math.round((below / 100) * count);
        lines.push(`${name}_bucket{le="${b}"} ${cum}`);
      }
      lines.push(`${name}_bucket{le="+Inf"} ${count}`, `${name}_sum ${count > 0 ? (Math.max(0, h.mean - resNs) * count) / 1e9 : 0}`, `${name}_count ${count}`);
      return lines.join('\n') + '\n';
    },
    close(): void { h.disable(); },
  };
}

/**
 * The share of wall time the event loop spent running code (not waiting in the poll phase),
 * from `performance.eventLoopUtilization`: over the interval since the previous scrape (since the
 * node started for the first one), so a scraper sees the recent load, not a lifetime average.
 */
function eventLoopUtilization(): () => string {
  let last = perf.eventLoopUtilization();
  const name = 'gossamer_event_loop_utilization';
  return () => {
    const now = perf.eventLoopUtilization();
    const delta = perf.eventLoopUtilization(now, last);
    last = now;
    const value = Number.isFinite(delta.utilization) ? delta.utilization : 0;
    return [
      `# HELP ${name} Share of wall time the event loop was busy (0..1) since the previous scrape.`,
      `# TYPE ${name} gauge`,
      `${name} ${value}`,
    ].join('\n') + '\n';
  };
}

export function createNodeObservability(engine: StorageEngine, opts: { defaultMetrics?: boolean; now?: () => number } = {}): NodeObservability {
  const now = opts.now ?? (() => performance.now());
  const metrics = new NodeMetrics();
  const registers = [metrics.registry];
  const rpc = rpcTimer(metrics, now);
  const loop = eventLoopHistogram();
  metrics.addRawCollector(() => loop.render());
  metrics.addRawCollector(eventLoopUtilization());
  metrics.onCollect(() => rpc.sweep());
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: metrics.registry, prefix: 'gossamer_' });
  const stats = statsOf(engine);
  if (stats) registerStorage(metrics, stats);
  let hints: (() => number) | undefined;
  let service: (NodeService & { inFlight(): number }) | undefined;

  const loadBytes = (): number | null => {
    if (!stats) return null;
    const s = stats();
    const t = typeof s.tableBytes === 'number' ? s.tableBytes : 0;
    const m = typeof s.memtableBytes === 'number' ? s.memtableBytes : 0;
    return t + m;
  };

  return {
    metrics,
    wire: rpc,
    ui: {
      self: () => ({ nodeId: service?.nodeId ?? '', loadBytes: loadBytes() }),
      hintsPending: () => (hints ? hints() : null),
      series: () => metrics.recent.points(),
    },
    attach(s) {
      service = s;
      registerMembership(registers, s);
      new Gauge({ name: 'gossamer_members', help: 'Members (of the ring, or known by gossip) as this node sees them, by state.', labelNames: ['state'], registers, collect() {
        const counts = new Map<string, number>(STATES.map((st) => [st, 0]));
        for (const m of s.members()) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      } });
      new Gauge({ name: 'gossamer_node_serving', help: '1 when this node serves requests with a known ring.', registers, collect() { this.set(s.isServing() ? 1 : 0); } });
      new Gauge({ name: 'gossamer_requests_in_flight', help: 'Client requests waiting for their replies.', registers, collect() { this.set(s.inFlight()); } });
      new Gauge({ name: 'gossamer_partitions_owned', help: 'Ring partitions this node owns.', registers, collect() {
        this.set(s.ring()?.owners.filter((o) => o === s.nodeId).length ?? 0);
      } });
    },
    setHintsSource(pending) {
      // The dashboard's figure; the gossamer_hints_* metrics come from the node's stats.
      hints = pending;
    },
    close() {
      loop.close();
    },
  };
}
