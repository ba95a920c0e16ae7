/**
 * What the secure settings cost on the peer benchmark's workload (issue 19: at most 20% of
 * throughput): the same 3-node cluster (`gossamer start` ×3, N=3, R=W=2, group commit), the same
 * wrk scripts as `npm run bench -- peers` (bench/peers-lua.ts: fresh-key puts, uniform gets, YCSB
 * A; 1 KB values; one wrk per node, keep-alive connections) in three modes, in one run:
 *
 *   - plain:  HTTP, clear-text inter-node transport
 *   - tls:    HTTPS, mutual TLS between the nodes (every replica write and ack is encrypted)
 *   - secure: tls + a cluster secret + a bearer token on every request (what `gossamer dev --secure` runs)
 *
 * The three clusters run side by side (each idle while another is measured) and every phase runs
 * mode after mode, round after round, so a change of load on a shared machine hits the modes
 * alike. Each mode's cost is the median over rounds of 1 - mode/plain, both measured back to back
 * in the same round (paired); the median throughputs are shown beside it. BENCH_SEC_PROFILE=<dir>
 * writes CPU profiles (`--cpu-prof`) of each mode's first node under <dir>/<mode>/ (summarise the
 * main thread's with bench/profile-summary.ts).
 *
 *   npm run build && npm run bench -- security-cluster [--seconds 8] [--rounds 3] [--records 5000] [--connections 48]
 *
 * Prints a table and writes bench/results/security-cluster.json.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDevCertificates } from '../src/api/auth/dev-certs.js';
import { freePortRange, sleep } from '../test/cluster/helpers.js';
import { requestsPerOp, wrkScript } from './peers-lua.js';
import { mergeRuns, parseWrkResult } from './peers-report.js';
import type { PhaseFigures, PhaseName } from './peers-report.js';
import { cliEntry } from './peers-systems.js';
import { cpuSeconds } from './proc-cpu.js';

export const MODES = ['plain', 'tls', 'secure'] as const;
export type Mode = (typeof MODES)[number];
const PHASES: PhaseName[] = ['put', 'get', 'ycsb-a'];
const TOKEN = 'bench-admin-token-0123456789abcdef';
const VALUE_BYTES = 1024;

export interface ClusterBenchOptions { seconds: number; rounds: number; records: number; connections: number }

interface Cluster { endpoints: string[]; ca: string | undefined; token: string | undefined; pids: number[]; stop(): Promise<void> }

function flag(argv: readonly string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number (got "${argv[i + 1]}")`);
  return v;
}

export function parseClusterArgs(argv: readonly string[]): ClusterBenchOptions {
  return { seconds: flag(argv, 'seconds', 8), rounds: flag(argv, 'rounds', 3), records: flag(argv, 'records', 5000), connections: flag(argv, 'connections', 48) };
}

/** The mode's files: a config with TLS (mutual) and, for `secure`, a cluster secret and tokens. */
function securityConfig(mode: Mode, dir: string): { args: string[]; ca?: string } {
  if (mode === 'plain') return { args: [] };
  const certs = generateDevCertificates();
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  const tls = { cert: file('node.pem', certs.cert), key: file('node-key.pem', certs.key), ca: file('ca.pem', certs.caCert), mutual: true };
  const extra = mode === 'secure'
    ? { clusterSecretFile: file('secret', 'bench-cluster-secret-0123456789abcdef'), tokensFile: file('tokens.json', JSON.stringify([{ token: TOKEN, permissions: ['read', 'write', 'admin'] }])) }
    : {};
  return { args: ['--config', file('secure.json', JSON.stringify({ tls, ...extra }))], ca: certs.caCert };
}

function get(port: number, ca: string | undefined, p: string): Promise<number> {
  return new Promise((resolve) => {
    const req = (ca ? https : http).request({ host: '127.0.0.1', port, path: p, agent: false, timeout: 1000, ...(ca ? { ca } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => { req.destroy(); resolve(0); });
    req.end();
  });
}

async function startCluster(mode: Mode, root: string): Promise<Cluster> {
  const dir = path.join(root, mode);
  mkdirSync(dir, { recursive: true });
  const sec = securityConfig(mode, dir);
  const base = await freePortRange(9);
  const seeds = [0, 1, 2].map((i) => `127.0.0.1:${base + i}`).join(',');
  const profileDir = process.env['BENCH_SEC_PROFILE'];
  // One directory per mode: each thread of the node (main, workers) writes its own profile there.
  const profile = (i: number): string[] => (profileDir && i === 0 ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir, mode)] : []);
  const procs: ChildProcess[] = [0, 1, 2].map((i) => spawn(process.execPath, [...profile(i), ...cliEntry(), 'start', '--node-id', `${mode[0]}${i}`,
    '--listen', `127.0.0.1:${base + i}`, '--http', `127.0.0.1:${base + 3 + i}`, '--resp', `127.0.0.1:${base + 6 + i}`, '--seeds', seeds,
    '--data', path.join(dir, `n${i}`), '--n', '3', '--commitlog-sync', 'group', '--log-level', 'warn', '--parent-pid', String(process.pid), ...sec.args],
  { stdio: ['ignore', 'ignore', 'inherit'] }));
  const stop = (): Promise<void> => Promise.all(procs.map((p) => new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  }))).then(() => undefined);
  const ports = [0, 1, 2].map((i) => base + 3 + i);
  const deadline = Date.now() + 60_000;
  while (!(await Promise.all(ports.map((p) => get(p, sec.ca, '/health')))).every((s) => s === 200)) {
    if (Date.now() > deadline || procs.some((p) => p.exitCode !== null)) {
      await stop();
      throw new Error(`the ${mode} cluster did not become healthy`);
    }
    await sleep(100);
  }
  return { endpoints: ports.map((p) => `127.0.0.1:${p}`), ca: sec.ca, token: mode === 'secure' ? TOKEN : undefined, pids: procs.map((p) => p.pid ?? 0), stop };
}

/** user0 .. user<records-1>, spread over the nodes, keep-alive, as the peer benchmark's preload. */
async function preload(c: Cluster, records: number, concurrency = 32): Promise<void> {
  const values = Array.from({ length: 64 }, () => randomBytes(VALUE_BYTES));
  const agents = c.endpoints.map(() => (c.ca ? new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: c.ca }) : new http.Agent({ keepAlive: true, maxSockets: concurrency })));
  const headers = c.token ? { Authorization: `Bearer ${c.token}` } : {};
  let next = 0;
  let failures = 0;
  const one = (i: number): Promise<boolean> => new Promise((resolve) => {
    const e = i % c.endpoints.length;
    const req = (c.ca ? https : http).request({ host: '127.0.0.1', port: Number(c.endpoints[e]!.split(':')[1]), method: 'PUT',
      path: `/kv/user${i}?w=2&supersede=local`, agent: agents[e], headers }, (res) => {
      res.resume();
      res.on('end', () => resolve((res.statusCode ?? 0) < 300));
    });
    req.on('error', () => resolve(false));
    req.end(values[i % values.length]);
  });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < records) {
      const i = next++;
      if (!(await one(i)) && !(await one(i))) failures++;
    }
  }));
  for (const a of agents) a.destroy();
  if (failures > 0) throw new Error(`preload: ${failures} of ${records} records failed twice`);
}

function wrk(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('wrk', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${err.slice(0, 300)}`))));
  });
}

/** One wrk per node side by side (1 thread each), merged; https and the token header when the mode has them. */
async function phase(c: Cluster, name: PhaseName, seconds: number, o: ClusterBenchOptions, dir: string, tag: string): Promise<PhaseFigures & { cpuUsPerOp: number }> {
  const script = path.join(dir, `${name}.lua`);
  writeFileSync(script, wrkScript({ dialect: 'gossamer', phase: name, records: o.records, valueBytes: VALUE_BYTES, readQuery: 'r=2', writeQuery: 'w=2&supersede=local' }));
  const conns = Math.max(1, Math.round(o.connections / c.endpoints.length));
  const auth = c.token ? ['-H', `Authorization: Bearer ${c.token}`] : [];
  const cpu0 = cpuSeconds(c.pids);
  const outs = await Promise.all(c.endpoints.map((e, i) => wrk(['-t1', `-c${conns}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '5s', ...auth, '-s', script,
    `${c.ca ? 'https' : 'http'}://${e}`], { PEERS_SEED: String(i + 1), PEERS_TAG: tag })));
  const cpu = cpuSeconds(c.pids) - cpu0;
  const f = mergeRuns(outs.map(parseWrkResult), requestsPerOp(name));
  // The three nodes' CPU per operation: what each mode costs the servers, less swayed than throughput by the machine's other load.
  return { ...f, cpuUsPerOp: f.opsPerSec > 0 ? Math.round((1e6 * cpu) / (f.opsPerSec * seconds)) : NaN };
}

export type ClusterRow = { mode: Mode; round: number; phase: PhaseName; cpuUsPerOp: number } & PhaseFigures;

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Per phase and mode: the median throughput over rounds, and the cost against plain: the median
 * over rounds of 1 - mode/plain, the two measured back to back in the same round.
 */
export function summarize(rows: readonly ClusterRow[]): { phase: PhaseName; mode: Mode; opsPerSec: number; costPct: number; cpuUsPerOp: number; cpuCostPct: number }[] {
  const ops = (mode: Mode, p: PhaseName, round: number): number | undefined => rows.find((r) => r.mode === mode && r.phase === p && r.round === round)?.opsPerSec;
  const rounds = [...new Set(rows.map((r) => r.round))];
  return PHASES.flatMap((p) => MODES.map((mode) => {
    const costs = rounds.flatMap((round) => {
      const plain = ops('plain', p, round);
      const mine = ops(mode, p, round);
      return plain !== undefined && mine !== undefined && plain > 0 ? [1 - mine / plain] : [];
    });
    const cpuCosts = rounds.flatMap((round) => {
      const plain = rows.find((r) => r.mode === 'plain' && r.phase === p && r.round === round)?.cpuUsPerOp;
      const mine = rows.find((r) => r.mode === mode && r.phase === p && r.round === round)?.cpuUsPerOp;
      return plain !== undefined && mine !== undefined && plain > 0 ? [mine / plain - 1] : [];
    });
    const mine = rows.filter((r) => r.mode === mode && r.phase === p);
    return {
      phase: p, mode, opsPerSec: Math.round(median(mine.map((r) => r.opsPerSec))), costPct: Math.round(1000 * median(costs)) / 10,
      cpuUsPerOp: Math.round(median(mine.map((r) => r.cpuUsPerOp))), cpuCostPct: Math.round(1000 * median(cpuCosts)) / 10,
    };
  }));
}

const load = (): string => os.loadavg().map((l) => l.toFixed(1)).join(' ');

/** The three clusters side by side (idle while another is measured); each phase runs mode after mode, round after round. */
async function measure(o: ClusterBenchOptions, root: string): Promise<ClusterRow[]> {
  const clusters = new Map<Mode, Cluster>();
  try {
    for (const mode of MODES) clusters.set(mode, await startCluster(mode, root));
    for (const [mode, c] of clusters) {
      await preload(c, o.records);
      await phase(c, 'ycsb-a', Math.min(5, o.seconds), o, root, `w${mode}`); // warm-up: JIT, connections, TLS paths
    }
    const rows: ClusterRow[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      for (const name of PHASES) {
        for (const [mode, c] of clusters) {
          const f = await phase(c, name, o.seconds, o, root, `${round}${mode}${name}`);
          if (f.errors > 0) throw new Error(`${mode} ${name}: ${f.errors} errors (non-2xx or socket errors): the bench is broken`);
          rows.push({ mode, round, phase: name, ...f });
          console.log(`  round ${round} ${name.padEnd(7)} ${mode.padEnd(6)} ${String(f.opsPerSec).padStart(7)} ops/s  ${f.cpuUsPerOp} CPU µs/op  p50 ${f.p50Ms} ms  p99 ${f.p99Ms} ms  (load ${load()})`);
        }
      }
    }
    return rows;
  } finally {
    await Promise.all([...clusters.values()].map((c) => c.stop()));
  }
}

export async function runSecurityClusterBench(argv: readonly string[]): Promise<void> {
  const o = parseClusterArgs(argv);
  const root = mkdtempSync(path.join(os.tmpdir(), 'gossamer-bench-seccl-'));
  console.log(`security-cluster: 3 nodes per mode (N=3, R=W=2, group commit), ${o.connections} connections, ${o.seconds} s per phase, ${o.rounds} round(s), load ${load()}`);
  let rows: ClusterRow[];
  try {
    rows = await measure(o, root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const summary = summarize(rows);
  console.log('median over rounds (throughput cost = 1 - mode/plain; CPU per op = the three nodes\' CPU / ops; both paired within a round):');
  for (const s of summary) {
    const cost = s.mode === 'plain' ? '' : `  throughput cost ${s.costPct}%, CPU per op +${s.cpuCostPct}%`;
    console.log(`  ${s.phase.padEnd(7)} ${s.mode.padEnd(6)} ${String(s.opsPerSec).padStart(7)} ops/s  ${String(s.cpuUsPerOp).padStart(5)} CPU µs/op${cost}`);
  }
  console.log(`load after: ${load()}`);
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'security-cluster.json'), JSON.stringify({ options: o, node: process.version, loadAfter: os.loadavg(), rows, summary }, null, 2));
}
