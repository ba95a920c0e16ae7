/**
 * Real `gossamer start` processes for multi-process tests: free ports on 127.0.0.1, temporary
 * data directories, logs kept for the failure message. Tests run the compiled CLI
 * (`npm test` builds first).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../api/http-client.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls a node's /health until it answers 200 (bounded); the error carries the node's log. */
export async function waitHealthy(n: { nodeId: string; httpPort: number; log: string[] }, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await request(n.httpPort, 'GET', '/health', { timeoutMs: 1000 })).status === 200) return;
    } catch { /* not yet */ }
    await sleep(50);
  }
  throw new Error(`node ${n.nodeId} never became healthy; log:\n${n.log.join('')}`);
}

/** `count` distinct free ports, found by binding port 0 (all held at once, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(s);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** A base port p such that p..p+count-1 are all free now (for `gossamer dev`). */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768+), so outgoing connections do not take them meanwhile.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const servers: net.Server[] = [];
    let ok = true;
    for (let i = 0; i < count && ok; i++) {
      const s = net.createServer();
      ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.listen(base + i, '127.0.0.1', () => resolve(true));
      });
      if (ok) servers.push(s);
    }
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (ok) return base;
  }
  throw new Error('no free port range');
}

export interface NodeProc {
  index: number;
  nodeId: string;
  listenPort: number;
  httpPort: number;
  respPort: number;
  dataDir: string;
  proc: ChildProcess | undefined;
  log: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
}

export interface ClusterOptions {
  size: number;
  extraArgs?: string[];
  /** Arguments for node i only (e.g. its `--dc`). */
  nodeArgs?: (i: number) => string[];
}

export class TestCluster {
  readonly nodes: NodeProc[] = [];
  readonly dir: string;
  private seeds = '';

  private constructor(private readonly opts: ClusterOptions) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'gossamer-cluster-'));
  }

  /** Allocates ports and data dirs; starts nothing yet. */
  static async create(opts: ClusterOptions): Promise<TestCluster> {
    requireBuild();
    const c = new TestCluster(opts);
    const ports = await freePorts(opts.size * 3);
    for (let i = 0; i < opts.size; i++) {
      c.nodes.push({
        index: i, nodeId: `n${i}`, listenPort: ports[i * 3]!, httpPort: ports[i * 3 + 1]!, respPort: ports[i * 3 + 2]!,
        dataDir: path.join(c.dir, `n${i}`), proc: undefined, log: [], exit: undefined,
      });
    }
    c.seeds = c.nodes.map((n) => `127.0.0.1:${n.listenPort}`).join(',');
    return c;
  }

  start(i: number): NodeProc {
    const n = this.nodes[i]!;
    const args = [CLI, 'start', '--node-id', n.nodeId, '--listen', `127.0.0.1:${n.listenPort}`,
      '--http', `127.0.0.1:${n.httpPort}`, '--resp', `127.0.0.1:${n.respPort}`, '--seeds', this.seeds,
      '--data', n.dataDir, '--parent-pid', String(process.pid), ...(this.opts.extraArgs ?? []), ...(this.opts.nodeArgs?.(i) ?? [])];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GOSSAMER_LOG_LEVEL: 'info' } });
    n.proc = proc;
    n.log = [];
    const keep = (d: Buffer): void => {
      n.log.push(d.toString());
      if (n.log.length > 500) n.log.splice(0, n.log.length - 500);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    n.exit = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    return n;
  }

  startAll(): void {
    for (let i = 0; i < this.nodes.length; i++) this.start(i);
  }

  /** Waits for `/health` to answer at all (any status). */
  async waitListening(i: number, timeoutMs = 20_000): Promise<number> {
    const n = this.nodes[i]!;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        return (await request(n.httpPort, 'GET', '/health', { timeoutMs: 1000 })).status;
      } catch {
        await sleep(50);
      }
    }
    throw new Error(`node ${n.nodeId} never listened on HTTP; log:\n${n.log.join('')}`);
  }

  async waitHealthy(i: number, timeoutMs = 30_000): Promise<void> {
    await waitHealthy(this.nodes[i]!, timeoutMs);
  }

  async waitAllHealthy(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.waitHealthy(i)));
  }

  kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const n = this.nodes[i]!;
    n.proc?.kill(signal);
    return n.exit!;
  }

  logs(): string {
    return this.nodes.map((n) => `--- ${n.nodeId}\n${n.log.join('')}`).join('\n');
  }

  /** Stops every node still running (SIGTERM, then SIGKILL after a bound) and removes the data. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map(async (n) => {
      if (!n.proc || n.proc.exitCode !== null || n.proc.signalCode !== null) return;
      n.proc.kill('SIGTERM');
      const t = setTimeout(() => n.proc?.kill('SIGKILL'), 10_000);
      await n.exit;
      clearTimeout(t);
    }));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs the compiled CLI to completion. */
export function runCli(args: string[], input?: string | Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input);
  });
}
