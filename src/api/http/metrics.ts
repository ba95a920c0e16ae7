/**
 * The node's metrics, in the Prometheus text format (prom-client), every name `gossamer_*`.
 * One registry per node (not prom-client's global one: tests run several nodes in a process).
 *
 * The HTTP server counts every response here (route, method, status, latency); the client
 * operations (get/put/delete) are also counted by API (`http`, `resp`) so the RESP front end can
 * record into the same series. Other subsystems add their own metrics to `registry` (prom-client
 * metrics with `registers: [metrics.registry]`) and refresh gauges before each scrape through
 * `onCollect`; hand-formatted families (e.g. the event-loop histogram) through `addRawCollector`.
 * See docs/metrics.md for the names.
 */
import { Counter, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';
import type { StorageEngineStats } from '../../ports/storage.js';
import type { RouteName } from './router.js';
import { RecentSeries } from './ui/series.js';

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS']);

/** Seconds; from a cached read (~0.1 ms) to a request timeout (~2 s) and beyond. */
export const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

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

export type ClientApi = 'http' | 'resp';
export type ClientOpName = 'get' | 'put' | 'delete' | 'other';

const KV_OPS: Record<string, ClientOpName> = { GET: 'get', HEAD: 'get', PUT: 'put', DELETE: 'delete' };

export class NodeMetrics {
  readonly registry = new Registry();
  /** Client requests over the last minutes, for the dashboard. */
  readonly recent: RecentSeries;
  private readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  private readonly httpDuration: FastHistogram;
  private readonly clientRequests: Counter<'api' | 'op' | 'status'>;
  private readonly clientDuration: FastHistogram;
  private readonly starts = new WeakMap<object, number>();
  private readonly collectors: (() => void)[] = [];
  private readonly rawCollectors: (() => string)[] = [];
  private totalCount = 0;
  private readonly now: () => number;
  /**
   * prom-client's label-bound children, cached by their label values: `inc({labels})` hashes the
   * label object on every call, `labels(...)` once per distinct combination (a handful).
   */
  private readonly children = new Map<string, { inc(): void } | ((v: number) => void)>();

  constructor(opts: { now?: () => number; wallNow?: () => number } = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.recent = new RecentSeries(opts.wallNow);
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'gossamer_http_requests_total', help: 'HTTP requests answered, by route, method and status.',
      labelNames: ['route', 'method', 'status'], registers,
    });
    // The two latency histograms every request feeds: observed cheaply (fast-histogram.ts), rendered after the registry.
    this.httpDuration = new FastHistogram('gossamer_http_request_duration_seconds',
      'Time from a request\'s headers to its response, by route and method.', ['route', 'method'], LATENCY_BUCKETS_S);
    this.clientRequests = new Counter({
      name: 'gossamer_client_requests_total', help: 'Client key-value operations answered, by API (http, resp), operation and status.',
      labelNames: ['api', 'op', 'status'], registers,
    });
    this.clientDuration = new FastHistogram('gossamer_client_request_duration_seconds',
      'Latency of client key-value operations, by API and operation.', ['api', 'op'], LATENCY_BUCKETS_S);
    this.rawCollectors.push(() => this.httpDuration.render(), () => this.clientDuration.render());
  }

  /** Marks when a request arrived (its latency runs from here to `count`). */
  begin(req: object): void {
    this.starts.set(req, this.now());
  }

  /** Counts one HTTP response; with the request given to `begin`, also its latency. */
  count(route: RouteName, method: string, status: number, req?: object): void {
    const m = METHODS.has(method) ? method : 'other';
    this.totalCount++;
    this.counterOf(this.httpRequests, 'h', route, m, String(status)).inc();
    const t0 = req ? this.starts.get(req) : undefined;
    const seconds = t0 === undefined ? undefined : (this.now() - t0) / 1000;
    if (seconds !== undefined) this.histogramOf(this.httpDuration, 'hd', route, m)(seconds);
    if (route === 'kv') this.recordClientRequest('http', KV_OPS[method] ?? 'other', String(status), seconds);
  }

  /**
   * One client operation of any API. `status`: the HTTP status, or for RESP `ok` / an error
   * code; 5xx (or `error`) counts as an error on the dashboard.
   */
  recordClientRequest(api: ClientApi, op: ClientOpName, status: string, seconds?: number): void {
    this.counterOf(this.clientRequests, 'c', api, op, status).inc();
    if (seconds === undefined) return;
    this.histogramOf(this.clientDuration, 'cd', api, op)(seconds);
    this.recent.record(seconds * 1000, status.startsWith('5') || status === 'error');
  }

  private counterOf<T extends string>(metric: Counter<T>, tag: string, ...values: string[]): { inc(): void } {
    const k = `${tag}\u0000${values.join('\u0000')}`;
    let child = this.children.get(k) as { inc(): void } | undefined;
    if (!child) {
      child = metric.labels(...values);
      this.children.set(k, child);
    }
    return child;
  }

  private histogramOf(metric: FastHistogram, tag: string, ...values: string[]): (v: number) => void {
    const k = `${tag}\u0000${values.join('\u0000')}`;
    let child = this.children.get(k) as ((v: number) => void) | undefined;
    if (!child) {
      child = metric.child(...values);
      this.children.set(k, child);
    }
    return child;
  }

  /** HTTP responses counted so far. */
  total(): number {
    return this.totalCount;
  }

  /** Runs `fn` before every scrape (refresh gauges from the state they describe). */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  /** Adds text in the exposition format (with its own HELP/TYPE lines) to every scrape. */
  addRawCollector(fn: () => string): void {
    this.rawCollectors.push(fn);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    for (const fn of this.collectors) fn();
    let text = await this.registry.metrics();
    for (const fn of this.rawCollectors) {
      const more = fn();
      if (more) text += (text.endsWith('\n') || text === '' ? '' : '\n') + more;
    }
    return text;
  }
}

/** The name the HTTP server has always used for it. */
export { NodeMetrics as HttpMetrics };
