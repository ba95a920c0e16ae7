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

/** Runs the cluster until SIGINT/SIGTERM; resolves with the exit status. */
export async function runDev(opts: DevOptions, io: DevIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const count = intOption('nodes', opts.nodes, 3, 1, 32);
  const listenBase = intOption('listen-port', opts.listenPort ?? env.GOSSAMER_DEV_LISTEN_PORT, 7000, 1, 65535 - count);
  const httpBase = intOption('http-port', opts.httpPort ?? env.GOSSAMER_DEV_HTTP_PORT, 8000, 1, 65535 - count);
  const respBase = intOption('resp-port', opts.respPort ?? env.GOSSAMER_DEV_RESP_PORT, 6380, 1, 65535 - count);
  const readyTimeoutMs = intOption('ready-timeout-ms', opts.readyTimeoutMs, 60_000, 1, 3_600_000);
  const dataRoot = path.resolve(opts.data ?? env.GOSSAMER_DEV_DATA ?? path.join('data', 'dev'));
  const secure = opts.secure ? writeDevSecurity(dataRoot) : undefined;

  const host = '127.0.0.1';
  const seeds = Array.from({ length: count }, (_, i) => `${host}:${listenBase + i}`).join(',');
  // Under tsx (`node --import tsx src/cli/main.ts`) the children run main.ts with the same loader
  // (process.execArgv carries it); compiled, they run main.js.
  const here = fileURLToPath(import.meta.url);
  const entry = path.join(path.dirname(here), here.endsWith('.ts') ? 'main.ts' : 'main.js');

  const children: Child[] = [];
  let stopping = false;
  let failed = false;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((r) => { resolveDone = r; });

  const pipeLines = (stream: NodeJS.ReadableStream | null, nodeId: string, write: (s: string) => void): void => {
    if (!stream) return;
    const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', (line) => write(`[${nodeId}] ${line}\n`));
  };

  for (let i = 0; i < count; i++) {
    const nodeId = `node-${i}`;
    const listen = `${host}:${listenBase + i}`;
    const http = `${host}:${httpBase + i}`;
    const resp = `${host}:${respBase + i}`;
    const args = [
      ...process.execArgv, entry, 'start',
      '--node-id', nodeId, '--listen', listen, '--http', http, '--resp', resp, '--seeds', seeds,
      '--data', path.join(dataRoot, nodeId), '--parent-pid', String(process.pid),
    ];
    if (opts.n !== undefined) args.push('--n', opts.n);
    if (opts.partitions !== undefined) args.push('--partitions', opts.partitions);
    if (opts.commitlogSync !== undefined) args.push('--commitlog-sync', opts.commitlogSync);
    if (opts.logLevel !== undefined) args.push('--log-level', opts.logLevel);
    if (secure) args.push('--config', secure.configFile);
    // Children log JSON off a terminal; when dev itself prints to one, keep their lines readable.
    const childEnv = env.GOSSAMER_LOG_FORMAT || !process.stderr.isTTY ? env : { ...env, GOSSAMER_LOG_FORMAT: 'text' };
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    const child: Child = { nodeId, http, resp, listen, proc, exited: false, exitCode: null };
    children.push(child);
    pipeLines(proc.stdout, nodeId, io.out);
    pipeLines(proc.stderr, nodeId, io.err);
    proc.on('error', (e) => io.err(`gossamer dev: ${nodeId} failed to start: ${e.message}\n`));
    proc.on('exit', (code, signal) => {
      child.exited = true;
      child.exitCode = code;
      if (!stopping) io.err(`gossamer dev: ${nodeId} (pid ${proc.pid ?? '?'}) exited (${signal ?? `status ${code}`})\n`);
      if (children.every((c) => c.exited)) {
        if (stopping) resolveDone(0);
        else {
          io.err('gossamer dev: every node has exited\n');
          resolveDone(1);
        }
      }
    });
  }

  const stopAll = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    io.out(`gossamer dev: ${why}; stopping ${children.filter((c) => !c.exited).length} node(s)\n`);
    for (const c of children) if (!c.exited) c.proc.kill('SIGTERM');
    const deadline = Date.now() + 15_000;
    while (children.some((c) => !c.exited) && Date.now() < deadline) await sleep(50);
    for (const c of children) {
      if (!c.exited) {
        io.err(`gossamer dev: ${c.nodeId} did not stop in time; killing it\n`);
        c.proc.kill('SIGKILL');
      }
    }
    if (children.every((c) => c.exited)) resolveDone(0);
  };

  const onSignal = (sig: NodeJS.Signals): void => { void stopAll(`${sig} received`); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  // Wait for every node to serve.
  const deadline = Date.now() + readyTimeoutMs;
  const pending = new Set(children);
  while (pending.size > 0 && !stopping) {
    for (const c of [...pending]) {
      if (c.exited) {
        io.err(`gossamer dev: ${c.nodeId} exited before it was ready (is port ${c.listen} or ${c.http} in use?)\n`);
        failed = true;
        await stopAll('a node failed to start');
        break;
      }
      if (await (secure ? healthyTls(c.http, secure.caCert) : healthy(c.http))) pending.delete(c);
    }
    if (pending.size === 0 || stopping) break;
    if (Date.now() > deadline) {
      io.err(`gossamer dev: nodes not ready after ${readyTimeoutMs} ms: ${[...pending].map((c) => c.nodeId).join(', ')}\n`);
      failed = true;
      await stopAll('start-up timed out');
      break;
    }
    await sleep(100);
  }

  if (!stopping) {
    io.out(`\nGossamer dev cluster: ${count} node(s), data in ${dataRoot}\n`);
    // Only what is served: HTTP (with /ui and /metrics) and RESP.
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

  const code = await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  return failed ? 1 : code;
}
