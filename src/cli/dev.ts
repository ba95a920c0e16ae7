/**
 * `gossamer dev`: a whole local cluster, one child process per node (`gossamer start`), with
 * the default ports of API.md (node i: inter-node 7000+i, HTTP 8000+i, RESP 6380+i). Each
 * child's log lines are prefixed with its node id. Children get `--parent-pid` and stop by
 * themselves if this process dies, so nothing is left behind even after a SIGKILL.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { usage } from './errors.js';
import { healthyTls, secureBanner, writeDevSecurity } from './dev-secure.js';
import { startDevAutoscale } from './autoscale-dev.js';

export interface DevOptions {
  nodes?: string;
  data?: string;
  listenPort?: string;
  httpPort?: string;
  respPort?: string;
  n?: string;
  partitions?: string;
  commitlogSync?: string;
  logLevel?: string;
  readyTimeoutMs?: string;
  /** TLS, a cluster secret and an admin token, generated (dev-secure.ts). */
  secure?: boolean;
  /** `MIN..MAX`: the cluster grows and shrinks with its load (autoscale-dev.ts). */
  autoscale?: string;
  /** JSON overrides of the autoscale policy's thresholds and timings. */
  autoscaleConfig?: string;
  autoscaleIntervalMs?: string;
  /** Port of the actuator's own /metrics (default: the HTTP base port + 32; 0: not served). */
  autoscaleMetricsPort?: string;
}

export interface DevIo {
  out(s: string): void;
  err(s: string): void;
}

interface Child {
  nodeId: string;
  http: string;
  resp: string;
  listen: string;
  proc: ChildProcess;
  exited: boolean;
  exitCode: number | null;
  /** Stopped on purpose by the autoscaler: its exit is expected. */
  retiring?: boolean;
}

function intOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw usage(`--${name} must be a whole number ${min}..${max} (got "${raw}")`);
  return Number(raw);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function healthy(http: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${http}/health`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

interface DevPlan {
  count: number;
  ports: { listen: number; http: number; resp: number };
  readyTimeoutMs: number;
  dataRoot: string;
  secure: ReturnType<typeof writeDevSecurity> | undefined;
}

/** Runs the cluster until SIGINT/SIGTERM; resolves with the exit status. */
export async function runDev(opts: DevOptions, io: DevIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const autoscale = opts.autoscale === undefined ? undefined : startDevAutoscale.prepare(opts);
  const count = autoscale?.initialNodes ?? intOption('nodes', opts.nodes, 3, 1, 32);
  const most = autoscale?.config.maxNodes ?? count;
  const dataRoot = path.resolve(opts.data ?? env.GOSSAMER_DEV_DATA ?? path.join('data', 'dev'));
  const plan: DevPlan = {
    count,
    ports: {
      listen: intOption('listen-port', opts.listenPort ?? env.GOSSAMER_DEV_LISTEN_PORT, 7000, 1, 65535 - most),
      http: intOption('http-port', opts.httpPort ?? env.GOSSAMER_DEV_HTTP_PORT, 8000, 1, 65535 - most),
      resp: intOption('resp-port', opts.respPort ?? env.GOSSAMER_DEV_RESP_PORT, 6380, 1, 65535 - most),
    },
    readyTimeoutMs: intOption('ready-timeout-ms', opts.readyTimeoutMs, 60_000, 1, 3_600_000),
    dataRoot,
    secure: opts.secure ? writeDevSecurity(dataRoot) : undefined,
  };
  const cluster = new DevCluster(io);
  for (let i = 0; i < count; i++) cluster.spawn(childSpec(opts, plan, i, env));

  let scaler: { stop(): void } | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    scaler?.stop();
    void cluster.stopAll(`${sig} received`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  await cluster.waitReady(plan);
  if (!cluster.stopping) printBanner(io, cluster.children, plan);
  if (autoscale && !cluster.stopping) scaler = startDevAutoscale.run(autoscale, cluster, (i, extra) => childSpec(opts, plan, i, env, extra), io, plan.ports.http);
  const code = await cluster.done;
  scaler?.stop();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  return cluster.failed ? 1 : code;
}

export interface ChildSpec { nodeId: string; listen: string; http: string; resp: string; args: string[]; env: NodeJS.ProcessEnv }

function childSpec(opts: DevOptions, plan: DevPlan, i: number, env: NodeJS.ProcessEnv, extra: readonly string[] = []): ChildSpec {
  const host = '127.0.0.1';
  const seeds = Array.from({ length: plan.count }, (_, j) => `${host}:${plan.ports.listen + j}`).join(',');
  // Under tsx (`node --import tsx src/cli/main.ts`) the children run main.ts with the same loader
  // (process.execArgv carries it); compiled, they run main.js.
  const here = fileURLToPath(import.meta.url);
  const entry = path.join(path.dirname(here), here.endsWith('.ts') ? 'main.ts' : 'main.js');
  const nodeId = `node-${i}`;
  const listen = `${host}:${plan.ports.listen + i}`;
  const http = `${host}:${plan.ports.http + i}`;
  const resp = `${host}:${plan.ports.resp + i}`;
  const args = [
    ...process.execArgv, entry, 'start',
    '--node-id', nodeId, '--listen', listen, '--http', http, '--resp', resp, '--seeds', seeds,
    '--data', path.join(plan.dataRoot, nodeId), '--parent-pid', String(process.pid), ...extra,
  ];
  if (opts.n !== undefined) args.push('--n', opts.n);
  if (opts.partitions !== undefined) args.push('--partitions', opts.partitions);
  if (opts.commitlogSync !== undefined) args.push('--commitlog-sync', opts.commitlogSync);
  if (opts.logLevel !== undefined) args.push('--log-level', opts.logLevel);
  if (plan.secure) args.push('--config', plan.secure.configFile);
  // Children log JSON off a terminal; when dev itself prints to one, keep their lines readable.
  const childEnv = env.GOSSAMER_LOG_FORMAT || !process.stderr.isTTY ? env : { ...env, GOSSAMER_LOG_FORMAT: 'text' };
  return { nodeId, listen, http, resp, args, env: childEnv };
}

/** The children: started, watched, and stopped together. */
export class DevCluster {
  readonly children: Child[] = [];
  stopping = false;
  failed = false;
  readonly done: Promise<number>;
  private resolveDone: (code: number) => void = () => {};

  constructor(private readonly io: DevIo) {
    this.done = new Promise<number>((r) => { this.resolveDone = r; });
  }

  spawn(spec: ChildSpec): void {
    const io = this.io;
    const proc = spawn(process.execPath, spec.args, { stdio: ['ignore', 'pipe', 'pipe'], env: spec.env });
    const child: Child = { nodeId: spec.nodeId, http: spec.http, resp: spec.resp, listen: spec.listen, proc, exited: false, exitCode: null };
    this.children.push(child);
    pipeLines(proc.stdout, spec.nodeId, io.out);
    pipeLines(proc.stderr, spec.nodeId, io.err);
    proc.on('error', (e) => io.err(`gossamer dev: ${spec.nodeId} failed to start: ${e.message}\n`));
    proc.on('exit', (code, signal) => {
      child.exited = true;
      child.exitCode = code;
      if (child.retiring) io.out(`gossamer dev: ${spec.nodeId} stopped (${signal ?? `status ${code}`})\n`);
      else if (!this.stopping) io.err(`gossamer dev: ${spec.nodeId} (pid ${proc.pid ?? '?'}) exited (${signal ?? `status ${code}`})\n`);
      if (!this.children.every((c) => c.exited)) return;
      if (this.stopping) this.resolveDone(0);
      else {
        io.err('gossamer dev: every node has exited\n');
        this.resolveDone(1);
      }
    });
  }

  /** Stops one child on purpose (SIGTERM): the autoscaler's scale-in. */
  retire(nodeId: string): void {
    const c = this.children.find((x) => x.nodeId === nodeId && !x.exited);
    if (!c) return;
    c.retiring = true;
    c.proc.kill('SIGTERM');
  }

  async stopAll(why: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.io.out(`gossamer dev: ${why}; stopping ${this.children.filter((c) => !c.exited).length} node(s)\n`);
    for (const c of this.children) if (!c.exited) c.proc.kill('SIGTERM');
    const deadline = Date.now() + 15_000;
    while (this.children.some((c) => !c.exited) && Date.now() < deadline) await sleep(50);
    for (const c of this.children) {
      if (!c.exited) {
        this.io.err(`gossamer dev: ${c.nodeId} did not stop in time; killing it\n`);
        c.proc.kill('SIGKILL');
      }
    }
    if (this.children.every((c) => c.exited)) this.resolveDone(0);
  }

  /** Until every node serves, one of them exits, or the time runs out. */
  async waitReady(plan: DevPlan): Promise<void> {
    const deadline = Date.now() + plan.readyTimeoutMs;
    const pending = new Set(this.children);
    while (pending.size > 0 && !this.stopping) {
      for (const c of [...pending]) {
        if (c.exited) {
          this.io.err(`gossamer dev: ${c.nodeId} exited before it was ready (is port ${c.listen} or ${c.http} in use?)\n`);
          this.failed = true;
          await this.stopAll('a node failed to start');
          break;
        }
        if (await (plan.secure ? healthyTls(c.http, plan.secure.caCert) : healthy(c.http))) pending.delete(c);
      }
      if (pending.size === 0 || this.stopping) break;
      if (Date.now() > deadline) {
        this.io.err(`gossamer dev: nodes not ready after ${plan.readyTimeoutMs} ms: ${[...pending].map((c) => c.nodeId).join(', ')}\n`);
        this.failed = true;
        await this.stopAll('start-up timed out');
        break;
      }
      await sleep(100);
    }
  }
}

function pipeLines(stream: NodeJS.ReadableStream | null, nodeId: string, write: (s: string) => void): void {
  if (!stream) return;
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  rl.on('line', (line) => write(`[${nodeId}] ${line}\n`));
}

/** Only what is served: HTTP (with /ui and /metrics) and RESP. */
function printBanner(io: DevIo, children: readonly Child[], plan: DevPlan): void {
  const secure = plan.secure;
  io.out(`\nGossamer dev cluster: ${plan.count} node(s), data in ${plan.dataRoot}\n`);
  for (const c of children) {
    io.out(`  ${c.nodeId}  HTTP http${secure ? 's' : ''}://${c.http}  RESP redis${secure ? 's' : ''}://${c.resp}  pid=${c.proc.pid ?? '?'}\n`);
  }
  const first = children[0]!;
  const [respHost, respPort] = [first.resp.slice(0, first.resp.lastIndexOf(':')), first.resp.slice(first.resp.lastIndexOf(':') + 1)];
  if (secure) io.out(secureBanner(secure, first.http, respHost, respPort));
  else io.out(`\nTry:  curl -X PUT --data-binary 'hello' http://${first.http}/kv/greeting\n`
    + `      curl -i http://${first.http}/kv/greeting\n`
    + `      redis-cli -h ${respHost} -p ${respPort} set a 1   (any Redis client works: RESP2)\n`
    + `      open http://${first.http}/ui   (the dashboard: members, ring, traffic; every node serves it)\n`
    + 'Press Ctrl-C to stop the cluster.\n');
}
