/**
 * How the bench driver reaches the store. Pluggable: HTTP (the API of API.md, with contexts)
 * and RESP (GET/SET, any Redis-protocol server: Gossamer's front end or a redis-server for a
 * reference figure). A transport only reads and writes; read-modify-write and the context cache
 * live in the driver.
 */
import http from 'node:http';
import net from 'node:net';

export type ReadStatus = 'ok' | 'not_found' | 'error';

export interface ReadResult {
  status: ReadStatus;
  value?: Uint8Array;
  /** The causal context to send back with a write that supersedes what was read (HTTP only). */
  context?: string;
  /** For errors: the HTTP status or error code, a bounded label for the summary. */
  detail?: string;
}

export interface WriteResult {
  status: 'ok' | 'error';
  context?: string;
  detail?: string;
}

export interface BenchTransport {
  readonly name: string;
  read(key: string): Promise<ReadResult>;
  write(key: string, value: Uint8Array, context?: string): Promise<WriteResult>;
  close(): Promise<void>;
}

export interface HostPort {
  host: string;
  port: number;
}

const CONTEXT_HEADER = 'x-gossamer-context';

/** Gossamer's HTTP API over kept-alive connections (one per client at most), requests spread over the nodes given. */
export class HttpTransport implements BenchTransport {
  readonly name = 'http';
  private readonly nodes: { target: HostPort; agent: http.Agent }[];
  private next = 0;

  constructor(targets: readonly HostPort[], connections: number, private readonly timeoutMs = 10_000) {
    const perNode = Math.max(1, Math.ceil(connections / targets.length));
    this.nodes = targets.map((target) => ({ target, agent: new http.Agent({ keepAlive: true, maxSockets: perNode, maxFreeSockets: perNode }) }));
  }

  private request(method: string, key: string, body?: Uint8Array, context?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    const node = this.nodes[this.next]!;
    this.next = (this.next + 1) % this.nodes.length;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {};
      if (body) {
        headers['Content-Length'] = body.length;
        headers['Content-Type'] = 'application/octet-stream';
      }
      if (context) headers['X-Gossamer-Context'] = context;
      const req = http.request({
        host: node.target.host, port: node.target.port, method, path: `/kv/${encodeURIComponent(key)}`, headers, agent: node.agent,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  }

  async read(key: string): Promise<ReadResult> {
    try {
      const a = await this.request('GET', key);
      const context = headerOf(a.headers, CONTEXT_HEADER);
      if (a.status === 200) return { status: 'ok', value: a.body, ...(context ? { context } : {}) };
      if (a.status === 300) {
        // Siblings: take the newest as the value read (the bench does not merge), keep the context covering all.
        const doc = JSON.parse(a.body.toString('utf8')) as { siblings: { value: string | null; lastModified: string }[] };
        const live = doc.siblings.filter((s) => s.value !== null).sort((x, y) => (x.lastModified < y.lastModified ? 1 : -1));
        const value = live[0] ? Buffer.from(live[0].value!, 'base64') : undefined;
        return { status: 'ok', ...(value ? { value } : {}), ...(context ? { context } : {}) };
      }
      if (a.status === 404) return { status: 'not_found', ...(context ? { context } : {}) };
      return { status: 'error', detail: String(a.status) };
    } catch (e) {
      return { status: 'error', detail: errorLabel(e) };
    }
  }

  async write(key: string, value: Uint8Array, context?: string): Promise<WriteResult> {
    try {
      const a = await this.request('PUT', key, value, context);
      if (a.status === 204) {
        const ctx = headerOf(a.headers, CONTEXT_HEADER);
        return { status: 'ok', ...(ctx ? { context: ctx } : {}) };
      }
      return { status: 'error', detail: String(a.status) };
    } catch (e) {
      return { status: 'error', detail: errorLabel(e) };
    }
  }

  close(): Promise<void> {
    for (const n of this.nodes) n.agent.destroy();
    return Promise.resolve();
  }
}

function headerOf(h: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function errorLabel(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code ?? (e instanceof Error ? e.message.slice(0, 40) : 'error');
}

export type RespReply = string | number | Buffer | null | Error | RespReply[];

/**
 * A minimal RESP2 client: one connection, commands answered in order (pipelining-safe), replies
 * parsed incrementally. Enough for GET and SET; not a general Redis client.
 */
export class RespConnection {
  private readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: { resolve: (r: RespReply) => void; reject: (e: Error) => void }[] = [];
  private failed: Error | undefined;
  readonly ready: Promise<void>;

  constructor(target: HostPort) {
    this.socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
  }

  command(...args: (string | Uint8Array)[]): Promise<RespReply> {
    if (this.failed) return Promise.reject(this.failed);
    const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const b = typeof a === 'string' ? Buffer.from(a) : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(Buffer.concat(parts));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    while (this.waiting.length > 0) {
      const parsed = parseReply(this.buf, 0);
      if (!parsed) return;
      this.buf = this.buf.subarray(parsed.end);
      this.waiting.shift()!.resolve(parsed.value);
    }
  }
}

/** Parses one reply at `at`; undefined when the buffer does not hold all of it yet. */
export function parseReply(buf: Buffer, at: number): { value: RespReply; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return { value: line, end: next };
    case '-': return { value: new Error(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return undefined;
      return { value: buf.subarray(next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: RespReply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default: throw new Error(`not a RESP reply (byte ${buf[at]})`);
  }
}

/** GET and SET over RESP, one connection per client (`connections`, spread over the nodes given), used round-robin. */
export class RespTransport implements BenchTransport {
  readonly name = 'resp';
  private readonly conns: RespConnection[];
  private next = 0;

  constructor(targets: readonly HostPort[], connections: number) {
    this.conns = Array.from({ length: Math.max(connections, targets.length) }, (_, i) => new RespConnection(targets[i % targets.length]!));
  }

  async connect(): Promise<void> {
    await Promise.all(this.conns.map((c) => c.ready));
  }

  private conn(): RespConnection {
    const c = this.conns[this.next]!;
    this.next = (this.next + 1) % this.conns.length;
    return c;
  }

  async read(key: string): Promise<ReadResult> {
    try {
      const r = await this.conn().command('GET', key);
      if (r instanceof Error) return { status: 'error', detail: r.message.split(' ')[0] ?? 'ERR' };
      if (r === null) return { status: 'not_found' };
      return Buffer.isBuffer(r) ? { status: 'ok', value: r } : { status: 'error', detail: 'unexpected reply' };
    } catch (e) {
      return { status: 'error', detail: errorLabel(e) };
    }
  }

  async write(key: string, value: Uint8Array): Promise<WriteResult> {
    try {
      const r = await this.conn().command('SET', key, value);
      if (r === 'OK') return { status: 'ok' };
      return { status: 'error', detail: r instanceof Error ? (r.message.split(' ')[0] ?? 'ERR') : 'unexpected reply' };
    } catch (e) {
      return { status: 'error', detail: errorLabel(e) };
    }
  }

  close(): Promise<void> {
    for (const c of this.conns) c.close();
    return Promise.resolve();
  }
}
