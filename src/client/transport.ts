/** One HTTP(S) exchange with a node over a keep-alive agent (node:http: fetch refuses some ports). */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/** https: the CA that signs the nodes' certificates (PEM), when not a public one. */
export interface ClientTls {
  ca?: string | Buffer;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface ExchangeOptions {
  body?: Uint8Array;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/** Network failures (no answer at all) are thrown as NetworkError; any answer resolves. */
export class NetworkError extends Error {
  constructor(readonly endpoint: string, readonly reason: string) {
    super(`cannot reach ${endpoint}: ${reason}`);
    this.name = 'NetworkError';
  }
}

/**
 * https.Agent's sockets come from tls.connect, which leaves Nagle's algorithm on (Node 20; plain
 * http turns it off): a write made while an earlier one is unacknowledged would wait for the
 * server's delayed ACK, up to 40 ms. Turned off once, where each socket is made.
 */
class NoDelayHttpsAgent extends https.Agent {
  override createConnection(...args: Parameters<https.Agent['createConnection']>): ReturnType<https.Agent['createConnection']> {
    const socket = super.createConnection(...args);
    if (socket instanceof net.Socket) socket.setNoDelay(true);
    return socket;
  }
}

export class HttpTransport {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly maxSocketsPerNode: number, private readonly tls?: ClientTls) {}

  private agent(endpoint: string): http.Agent {
    let a = this.agents.get(endpoint);
    if (!a) {
      const opts = { keepAlive: true, maxSockets: this.maxSocketsPerNode };
      a = this.tls ? new NoDelayHttpsAgent({ ...opts, ...this.tls }) : new http.Agent(opts);
      this.agents.set(endpoint, a);
    }
    return a;
  }

  exchange(endpoint: string, method: string, path: string, opts: ExchangeOptions): Promise<Answer> {
    const colon = endpoint.lastIndexOf(':');
    const host = endpoint.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(endpoint.slice(colon + 1));
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...opts.headers };
      if (opts.body !== undefined) headers['Content-Length'] = opts.body.length;
      const req = (this.tls ? https : http).request({ host, port, method, path, headers, agent: this.agent(endpoint) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new NetworkError(endpoint, e.message)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.setTimeout(opts.timeoutMs, () => req.destroy(new NetworkError(endpoint, `no answer within ${opts.timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof NetworkError ? e : new NetworkError(endpoint, e.code ?? e.message)));
      req.end(opts.body);
    });
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
