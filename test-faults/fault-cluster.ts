/**
 * Real `gossamer start` processes that a nemesis kills (SIGKILL), pauses (SIGSTOP/SIGCONT) and
 * restarts on the same data directory and ports. Like test/cluster/helpers.ts's TestCluster, but
 * its ports come from below Linux's ephemeral range (`freePortRange`), so the many short client
 * connections cannot take a killed node's port before it restarts; and every exit is recorded,
 * so a node that dies without being killed is noticed.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, freePortRange, requireBuild, sleep } from '../test/cluster/helpers.js';
import type { NetHosts } from './netns.js';
import type { HttpAnswer, HttpFn, HttpOptions } from './ns-client.js';
import { loopbackHttp } from './ns-client.js';

export interface Exit { node: string; code: number | null; signal: NodeJS.Signals | null; expected: boolean }

export interface FaultNode {
  index: number;
  nodeId: string;
  /** The address its three listeners bind (127.0.0.1, or its namespace's own). */
  host: string;
  listenPort: number;
  httpPort: number;
  respPort: number;
  dataDir: string;
  proc: ChildProcess | undefined;
  running: boolean;
  stopped: boolean;
  expectExit: boolean;
  exit: Promise<Exit> | undefined;
  log: string[];
  /** Added to the environment of its next start only (faketime, a transport delay), then cleared. */
  nextEnv: Record<string, string>;
}

export interface FaultClusterOptions {
  /** Separate hosts: each node in its own namespace (see netns.ts); loopback when absent. */
  net?: NetHosts;
  /** How clients reach the nodes (through the client namespace's agent on separate hosts). */
  http?: HttpFn;
}

export class FaultCluster {
  readonly nodes: FaultNode[] = [];
  readonly exits: Exit[] = [];
  readonly dir = mkdtempSync(path.join(tmpdir(), 'gossamer-faults-'));
  private seeds = '';
  readonly httpFn: HttpFn;

  private constructor(private readonly extraArgs: string[], private readonly env: Record<string, string>, readonly net: NetHosts | undefined, http: HttpFn) {
    this.httpFn = http;
  }

  /** `env` is added to every node's environment (e.g. GOSSAMER_BUG for a build broken on purpose). */
  static async create(size: number, extraArgs: string[] = [], env: Record<string, string> = {}, opts: FaultClusterOptions = {}): Promise<FaultCluster> {
    requireBuild();
    const c = new FaultCluster(extraArgs, env, opts.net, opts.http ?? loopbackHttp);
    const net = opts.net;
    // On separate hosts every node has the same ports on its own address.
    const base = net ? 7000 : await freePortRange(size * 3);
    for (let i = 0; i < size; i++) {
      c.nodes.push({
        index: i, nodeId: `n${i}`, host: net ? net.nodeIp(i) : '127.0.0.1',
        listenPort: net ? 7000 : base + i, httpPort: net ? 8000 : base + size + i, respPort: net ? 6379 : base + 2 * size + i,
        dataDir: path.join(c.dir, `n${i}`), proc: undefined, running: false, stopped: false, expectExit: false, exit: undefined, log: [], nextEnv: {},
      });
    }
    c.seeds = c.nodes.map((n) => `${n.host}:${n.listenPort}`).join(',');
    return c;
  }

  /** One HTTP request to node `i`, from where the clients are. */
  http(i: number, method: string, p: string, opts?: HttpOptions): Promise<HttpAnswer> {
    const n = this.nodes[i]!;
    return this.httpFn(n.host, n.httpPort, method, p, opts);
  }

  start(i: number): void {
    const n = this.nodes[i]!;
    if (n.running) throw new Error(`${n.nodeId} is already running`);
    const args = [CLI, 'start', '--node-id', n.nodeId, '--listen', `${n.host}:${n.listenPort}`,
      '--http', `${n.host}:${n.httpPort}`, '--resp', `${n.host}:${n.respPort}`, '--seeds', this.seeds,
      '--data', n.dataDir, '--parent-pid', String(process.pid), ...this.extraArgs];
    const env = { ...process.env, GOSSAMER_LOG_LEVEL: 'info', ...this.env, ...n.nextEnv };
    n.nextEnv = {};
    // `ip netns exec` execs node in the namespace: the child's pid is the node's.
    const cmd = this.net ? [...this.net.exec(this.net.nodeNs(i)), process.execPath] : [process.execPath];
    const proc = spawn(cmd[0]!, [...cmd.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    n.proc = proc;
    n.running = true;
    n.stopped = false;
    n.expectExit = false;
    n.log.push(`=== start pid ${proc.pid} at ${new Date().toISOString()}\n`);
    const keep = (d: Buffer): void => {
      n.log.push(d.toString());
      if (n.log.length > 400) n.log.splice(0, n.log.length - 400);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    n.exit = new Promise((resolve) => proc.on('exit', (code, signal) => {
      const e = { node: n.nodeId, code, signal, expected: n.expectExit };
      n.log.push(`=== exit ${JSON.stringify(e)}\n`);
      if (n.proc === proc) n.running = false;
      this.exits.push(e);
      resolve(e);
    }));
  }

  /** Sends a signal that ends the process (SIGKILL, SIGTERM) and waits for the exit. */
  async stop(i: number, signal: 'SIGKILL' | 'SIGTERM'): Promise<Exit> {
    const n = this.nodes[i]!;
    n.expectExit = true;
    if (n.stopped && signal === 'SIGTERM') this.resume(i);
    n.proc!.kill(signal);
    return n.exit!;
  }

  pause(i: number): void {
    const n = this.nodes[i]!;
    n.proc!.kill('SIGSTOP');
    n.stopped = true;
  }

  resume(i: number): void {
    const n = this.nodes[i]!;
    n.proc!.kill('SIGCONT');
    n.stopped = false;
  }

  /** Polls node `i`'s /health until it answers 200 (bounded); the error carries the node's log. */
  async waitHealthy(i: number, timeoutMs = 30_000): Promise<void> {
    const n = this.nodes[i]!;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        if ((await this.http(i, 'GET', '/health', { timeoutMs: 1000 })).status === 200) return;
      } catch { /* not yet */ }
      await sleep(50);
    }
    throw new Error(`node ${n.nodeId} never became healthy; log:\n${n.log.join('')}`);
  }

  logs(): string {
    return this.nodes.map((n) => `--- ${n.nodeId}\n${n.log.join('')}`).join('\n');
  }

  /** Stops whatever still runs (SIGKILL: this is cleanup, not the clean-exit check) and removes the data. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map(async (n) => {
      if (!n.running) return;
      n.expectExit = true;
      n.proc!.kill('SIGCONT');
      n.proc!.kill('SIGKILL');
      await n.exit;
    }));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
