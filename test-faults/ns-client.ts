/**
 * How the suite's clients reach the nodes. On loopback: straight from this process. On separate
 * hosts: through the client agent (ns-agent.mjs) that runs inside the clients' namespace, over
 * its stdin/stdout — this process never sends a packet to a namespace address itself.
 *
 * Both answer like test/api/http-client.ts: a thrown error carries `code` (ECONNREFUSED, ...), and
 * a client-side timeout's message starts with `timeout:`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from '../test/api/http-client.js';

export interface HttpAnswer {
  status: number;
  /** The X-Gossamer-Context header, if any. */
  context?: string;
  text: string;
}

export interface HttpOptions {
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export type HttpFn = (host: string, port: number, method: string, path: string, opts?: HttpOptions) => Promise<HttpAnswer>;

export const loopbackHttp: HttpFn = async (host, port, method, p, opts = {}) => {
  const a = await request(port, method, p, { ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.body !== undefined ? { body: opts.body } : {}),
    timeoutMs: opts.timeoutMs ?? 10_000 }, host);
  const ctx = a.headers['x-gossamer-context'];
  return { status: a.status, text: a.text, ...(typeof ctx === 'string' ? { context: ctx } : {}) };
};

interface Reply { id: number; ready?: boolean; status?: number; context?: string; text?: string; error?: { code: string; message: string } }

const AGENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ns-agent.mjs');

/** The client agent in namespace `ns`: one process, many requests in flight. */
export class NsClient {
  private readonly proc: ChildProcess;
  private readonly pending = new Map<number, { resolve: (a: HttpAnswer) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private readonly ready: Promise<void>;
  private exited = false;

  constructor(execPrefix: string[]) {
    this.proc = spawn(execPrefix[0]!, [...execPrefix.slice(1), process.execPath, AGENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    let ready: () => void = () => {};
    this.ready = new Promise((r) => { ready = r; });
    readline.createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as Reply;
      if (m.ready) { ready(); return; }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else p.resolve({ status: m.status ?? 0, text: m.text ?? '', ...(m.context !== undefined ? { context: m.context } : {}) });
    });
    this.proc.on('exit', () => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(Object.assign(new Error('the client agent exited'), { code: 'EAGENT' }));
      this.pending.clear();
    });
  }

  async start(): Promise<void> {
    await Promise.race([this.ready, new Promise((_, reject) => setTimeout(() => reject(new Error('the client agent did not start within 20 s')), 20_000).unref())]);
  }

  readonly http: HttpFn = (host, port, method, p, opts = {}) => new Promise((resolve, reject) => {
    if (this.exited) { reject(Object.assign(new Error('the client agent exited'), { code: 'EAGENT' })); return; }
    const id = this.nextId++;
    this.pending.set(id, { resolve, reject });
    this.proc.stdin!.write(`${JSON.stringify({ id, host, port, method, path: p, headers: opts.headers, body: opts.body, timeoutMs: opts.timeoutMs ?? 10_000 })}\n`);
  });

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.stdin!.end();
      setTimeout(() => this.proc.kill('SIGKILL'), 5000).unref();
    });
  }
}
