/**
 * The TypeScript client of Gossamer (`import { GossamerClient } from 'gossamer/client'`): get,
 * put, delete and a read-modify-write `update`, with the causal contexts carried for you, a
 * resolver for siblings, requests sent straight to a replica of the key, failover across nodes,
 * and retries with jittered back-off that honour `Retry-After`. See docs/client.md.
 */
import { GossamerError, errorFromAnswer } from './errors.js';
import { HttpTransport, NetworkError } from './transport.js';
import type { Answer, ClientTls } from './transport.js';
import { Routing } from './routing.js';
import type { ClusterDoc, RingDoc } from './routing.js';

export interface Sibling {
  /** null for a deleted sibling (a tombstone). */
  readonly value: Buffer | null;
  readonly contentType: string;
  readonly lastModified: Date;
}

/** Picks (or merges) the value to see when a key has several siblings; null means "deleted". */
export type Resolver = (siblings: readonly Sibling[], key: string) => Buffer | Uint8Array | string | null;

export type Level = number | 'one' | 'quorum' | 'all';

export interface ClientOptions {
  /** Node HTTP addresses, `host:port` (at least one). */
  endpoints: readonly string[];
  resolver?: Resolver;
  r?: Level;
  w?: Level;
  /** Per attempt; the node is asked to answer within it too. Default 5000. */
  timeoutMs?: number;
  /** Attempts per request, the first included (default 4). */
  attempts?: number;
  /** Back-off before retry k is a random time up to min(backoffMaxMs, backoffBaseMs · 2^k). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How often the ring is fetched again in the background (default 10 s; 0: never). */
  ringRefreshMs?: number;
  /** Send requests straight to a replica of the key (default true). */
  routeByRing?: boolean;
  /** A node that failed is tried last for this long (default 2 s). */
  downMs?: number;
  /** Contexts remembered per key (least recently used forgotten first; default 10 000). */
  contextCacheMax?: number;
  /** Keep-alive sockets per node (default 32). */
  maxSocketsPerNode?: number;
  /** API token, sent as `Authorization: Bearer <token>` (nodes with a tokens file need one). */
  token?: string;
  /** Speak https; `ca` verifies the nodes' certificates when they are not signed by a public CA. */
  tls?: ClientTls;
}

export interface ReadResult {
  readonly key: string;
  /** Whether a live value was read (after resolving siblings). */
  readonly found: boolean;
  /** The value (resolved when there were siblings); null when absent or deleted. */
  readonly value: Buffer | null;
  readonly contentType: string | undefined;
  /** Covers every sibling read: a write with it supersedes them all. */
  readonly context: string | undefined;
  readonly siblings: readonly Sibling[];
}

export interface WriteOptions {
  w?: Level;
  /** Supersede exactly what this context covers (default: the context last seen for the key). */
  context?: string;
  /** Write without any context (a sibling of whatever is stored). */
  blind?: boolean;
  contentType?: string;
}

const CONTEXT_HEADER = 'x-gossamer-context';

/** The default resolver: the newest live sibling by its timestamp (null when all are deleted). */
export const newestSibling: Resolver = (siblings) => {
  let best: Sibling | undefined;
  for (const s of siblings) if (s.value !== null && (best === undefined || s.lastModified >= best.lastModified)) best = s;
  return best?.value ?? null;
};

function toBuffer(v: Buffer | Uint8Array | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export class GossamerClient {
  private readonly opts: Required<Omit<ClientOptions, 'r' | 'w' | 'token' | 'tls'>> & Pick<ClientOptions, 'r' | 'w' | 'token' | 'tls'>;
  private readonly transport: HttpTransport;
  private readonly routing: Routing;
  private readonly contexts = new Map<string, string>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private closed = false;

  constructor(options: ClientOptions) {
    if (!Array.isArray(options.endpoints) || options.endpoints.length === 0) throw new TypeError('GossamerClient needs at least one endpoint (host:port)');
    for (const e of options.endpoints) {
      if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/.test(e)) throw new TypeError(`endpoint "${e}" is not host:port`);
    }
    this.opts = {
      resolver: newestSibling, timeoutMs: 5000, attempts: 4, backoffBaseMs: 25, backoffMaxMs: 2000, ringRefreshMs: 10_000,
      routeByRing: true, downMs: 2000, contextCacheMax: 10_000, maxSocketsPerNode: 32, ...options,
    };
    if (options.token !== undefined && !/^[\x21-\x7e]{1,512}$/.test(options.token)) throw new TypeError('token must be 1..512 printable characters without spaces');
    this.transport = new HttpTransport(this.opts.maxSocketsPerNode, options.tls);
    this.routing = new Routing(options.endpoints, this.opts.downMs);
    if (this.opts.routeByRing && this.opts.ringRefreshMs > 0) {
      this.refreshTimer = setInterval(() => { void this.refreshRing().catch(() => {}); }, this.opts.ringRefreshMs);
      this.refreshTimer.unref();
      void this.refreshRing().catch(() => {});
    }
  }

  /** Fetches the ring and the members' HTTP addresses now (the client also does it in the background). */
  refreshRing(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const ring = await this.call(undefined, 'GET', '/ring', {});
        const cluster = await this.call(undefined, 'GET', '/cluster', {});
        if (ring.status !== 200 || cluster.status !== 200) return;
        this.routing.install(JSON.parse(ring.body.toString('utf8')) as RingDoc, JSON.parse(cluster.body.toString('utf8')) as ClusterDoc);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Whether requests are routed by a fetched ring yet. */
  get routesByRing(): boolean {
    return this.routing.hasRing;
  }

  async get(key: string, opts: { r?: Level; resolver?: Resolver } = {}): Promise<ReadResult> {
    const a = await this.call(key, 'GET', this.kvPath(key, { r: opts.r ?? this.opts.r }), {});
    const context = headerOf(a, CONTEXT_HEADER);
    if (context !== undefined) this.remember(key, context);
    if (a.status === 404) return { key, found: false, value: null, contentType: undefined, context, siblings: [] };
    if (a.status === 200) {
      const contentType = headerOf(a, 'content-type') ?? 'application/octet-stream';
      const lm = headerOf(a, 'last-modified');
      const sibling: Sibling = { value: a.body, contentType, lastModified: lm ? new Date(lm) : new Date(0) };
      return { key, found: true, value: a.body, contentType, context, siblings: [sibling] };
    }
    if (a.status !== 300) throw new GossamerError('bad_response', `unexpected status ${a.status} for GET`, { status: a.status });
    const doc = JSON.parse(a.body.toString('utf8')) as { context: string; siblings: { value: string | null; contentType: string; lastModified: string }[] };
    const siblings: Sibling[] = doc.siblings.map((s) => ({
      value: s.value === null ? null : Buffer.from(s.value, 'base64'), contentType: s.contentType, lastModified: new Date(s.lastModified),
    }));
    this.remember(key, doc.context);
    const resolved = (opts.resolver ?? this.opts.resolver)(siblings, key);
    const value = resolved === null ? null : toBuffer(resolved);
    const contentType = value === null ? undefined : siblings.find((s) => s.value !== null && s.value.equals(value))?.contentType;
    return { key, found: value !== null, value, contentType, context: doc.context, siblings };
  }

  /**
   * Writes `value`, superseding the versions of the context given, else of the context last seen
   * for the key; when the client has seen none it reads the key first (unless `blind`).
   */
  async put(key: string, value: Buffer | Uint8Array | string, opts: WriteOptions = {}): Promise<{ context: string | undefined }> {
    const context = await this.contextFor(key, opts);
    const headers: Record<string, string> = { 'Content-Type': opts.contentType ?? (typeof value === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream') };
    if (context !== undefined) headers[CONTEXT_HEADER] = context;
    const a = await this.call(key, 'PUT', this.kvPath(key, { w: opts.w ?? this.opts.w }), { body: toBuffer(value), headers });
    if (a.status !== 204) throw new GossamerError('bad_response', `unexpected status ${a.status} for PUT`, { status: a.status });
    const next = headerOf(a, CONTEXT_HEADER);
    if (next !== undefined) this.remember(key, next);
    return { context: next };
  }

  /** Deletes what the context given (or last seen) covers; with none, what the node reads at R. */
  async delete(key: string, opts: Omit<WriteOptions, 'contentType'> = {}): Promise<{ context: string | undefined }> {
    const context = opts.context ?? (opts.blind ? 'AQAA' : this.contexts.get(key));
    const headers: Record<string, string> = context !== undefined ? { [CONTEXT_HEADER]: context } : {};
    const a = await this.call(key, 'DELETE', this.kvPath(key, { w: opts.w ?? this.opts.w }), { headers });
    if (a.status !== 204) throw new GossamerError('bad_response', `unexpected status ${a.status} for DELETE`, { status: a.status });
    const next = headerOf(a, CONTEXT_HEADER);
    if (next !== undefined) this.remember(key, next);
    return { context: next };
  }

  /**
   * Read-modify-write (Voldemort's applyUpdate): reads the key (siblings through the resolver),
   * applies `fn`, writes the result with the context read — superseding exactly what was read —
   * and starts over from a fresh read when the write fails in a way worth retrying. `fn` returns
   * the new value, null to delete, or undefined to leave the key as it is. Concurrent updates
   * that race become siblings, which the next read hands to the resolver: with a value the
   * resolver can merge (a set, a per-writer counter), no update is lost.
   */
  async update(key: string, fn: (current: Buffer | null, read: ReadResult) => Buffer | Uint8Array | string | null | undefined,
    opts: { attempts?: number; r?: Level; w?: Level; resolver?: Resolver } = {}): Promise<ReadResult> {
    const attempts = opts.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      const read = await this.get(key, { ...(opts.r !== undefined ? { r: opts.r } : {}), ...(opts.resolver ? { resolver: opts.resolver } : {}) });
      const next = fn(read.value, read);
      if (next === undefined) return read;
      try {
        const ctx = read.context ?? 'AQAA';
        const w = opts.w !== undefined ? { w: opts.w } : {};
        const out = next === null ? await this.delete(key, { context: ctx, ...w }) : await this.put(key, next, { context: ctx, ...w });
        const value = next === null ? null : toBuffer(next);
        return { key, found: value !== null, value, contentType: read.contentType, context: out.context, siblings: [] };
      } catch (e) {
        if (!(e instanceof GossamerError) || !e.retryable || attempt >= attempts) throw e;
        await this.sleep(this.backoffMs(attempt, e.retryAfterMs));
      }
    }
  }

  /** Forgets cached contexts and stops the background ring refresh; idle sockets close. */
  close(): void {
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.transport.close();
    this.contexts.clear();
  }

  // --- internals -----------------------------------------------------------------------------

  private async contextFor(key: string, opts: WriteOptions): Promise<string | undefined> {
    if (opts.context !== undefined) return opts.context;
    if (opts.blind) return undefined;
    const known = this.contexts.get(key);
    if (known !== undefined) return known;
    return (await this.get(key)).context;
  }

  private remember(key: string, context: string): void {
    this.contexts.delete(key);
    this.contexts.set(key, context);
    if (this.contexts.size > this.opts.contextCacheMax) this.contexts.delete(this.contexts.keys().next().value!);
  }

  private kvPath(key: string, params: { r?: Level | undefined; w?: Level | undefined }): string {
    if (typeof key !== 'string' || key.length === 0) throw new GossamerError('bad_request', 'the key must be a non-empty string');
    const q = new URLSearchParams();
    if (params.r !== undefined) q.set('r', String(params.r));
    if (params.w !== undefined) q.set('w', String(params.w));
    q.set('timeout', String(this.opts.timeoutMs));
    return `/kv/${encodeURIComponent(key)}?${q.toString()}`;
  }

  private backoffMs(retry: number, retryAfterMs: number | undefined): number {
    const cap = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** retry);
    const jittered = Math.random() * cap;
    return Math.max(jittered, retryAfterMs ?? 0);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /**
   * One request with failover and retries: each attempt goes to the best candidate node not yet
   * tried in this round (the key's replicas first). An answer other than 429/503 is returned;
   * 429/503 and network failures are retried after a jittered back-off (at least `Retry-After`).
   */
  private async call(key: string | undefined, method: string, path: string, init: { body?: Uint8Array; headers?: Record<string, string> }): Promise<Answer> {
    if (this.closed) throw new GossamerError('unavailable', 'the client is closed');
    let last: GossamerError | undefined;
    const tried = new Set<string>();
    for (let attempt = 0; attempt < this.opts.attempts; attempt++) {
      if (attempt > 0) await this.sleep(this.backoffMs(attempt, last?.retryAfterMs));
      const candidates = this.routing.candidates(this.opts.routeByRing ? key : undefined, Date.now());
      const endpoint = candidates.find((e) => !tried.has(e)) ?? candidates[0]!;
      tried.add(endpoint);
      try {
        const headers = this.opts.token !== undefined ? { ...init.headers, Authorization: `Bearer ${this.opts.token}` } : init.headers;
        const a = await this.transport.exchange(endpoint, method, path, { ...init, ...(headers ? { headers } : {}), timeoutMs: this.opts.timeoutMs + 1000 });
        this.routing.markUp(endpoint);
        if (a.status < 400 || a.status === 404 && a.body.length === 0) return a;
        const err = errorFromAnswer(a.status, a.body, headerOf(a, 'retry-after'), endpoint);
        if (!err.retryable) throw err;
        if (err.code === 'unavailable') this.routing.markDown(endpoint, Date.now());
        last = err;
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        this.routing.markDown(endpoint, Date.now());
        last = new GossamerError('unreachable', e.message, { endpoint });
      }
    }
    throw last ?? new GossamerError('unreachable', 'no node could be tried');
  }
}

function headerOf(a: Answer, name: string): string | undefined {
  const v = a.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
