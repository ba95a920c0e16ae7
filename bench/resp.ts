/**
 * RESP throughput: redis-benchmark (50 clients, SET and GET, `-P 1` and `-P 16`, random keys
 * among 10 000) against one Gossamer node (N=1, group commit) and against a redis-server this
 * bench starts on a spare loopback port, in the same run; prints both and the ratio.
 * Goal (issue 14): Gossamer ≥ 0.5× Redis at `-P 1`.
 *
 *   npm run build && npm run bench -- resp
 *   GOSSAMER_BENCH_RESP_N=20000 npm run bench -- resp          (a shorter run)
 *
 * Writes bench/results/resp.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePortRange, sleep } from '../test/cluster/helpers.js';
import { cpuSeconds } from './proc-cpu.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** GOSSAMER_BENCH_CLI runs another build (an A/B of two builds of the node). */
const CLI = process.env.GOSSAMER_BENCH_CLI ? path.resolve(process.env.GOSSAMER_BENCH_CLI) : path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const CLIENTS = 50;
const PIPELINES = [1, 16] as const;

interface Row {
  target: 'gossamer' | 'redis';
  pipeline: number;
  op: 'SET' | 'GET';
  perSec: number;
  p50Ms: number | null;
  /** The server process's CPU (user + system) per request: steadier than req/s on a shared machine. */
  cpuUsPerRequest: number | null;
}

export interface RespBenchResult {
  date: string;
  machine: { cpus: number; node: string; loadAvgAtStart: number[] };
  settings: { clients: number; requests: number; randomKeys: number; gossamer: string };
  rows: Row[];
  ratios: { pipeline: number; op: string; ratio: number | null }[];
  command: string;
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

async function waitPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port} after ${ms} ms`);
}

/** Redis 7 `--csv`: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",... */
function bench(port: number, pipeline: number, requests: number, op: 'SET' | 'GET'): { op: 'SET' | 'GET'; perSec: number; p50Ms: number | null } {
  const r = spawnSync('redis-benchmark', ['-p', String(port), '-c', String(CLIENTS), '-t', op.toLowerCase(), '-n', String(requests),
    '-r', '10000', '-P', String(pipeline), '--csv'], { encoding: 'utf8', timeout: 600_000 });
  const out: { op: 'SET' | 'GET'; perSec: number; p50Ms: number | null }[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/"/g, '').trim());
    if (cells[0] !== 'SET' && cells[0] !== 'GET') continue;
    out.push({ op: cells[0], perSec: Math.round(Number(cells[1])), p50Ms: cells[4] ? Number(cells[4]) : null });
  }
  if (out.length !== 1) throw new Error(`redis-benchmark on ${port} gave no figures: ${(r.stderr ?? '').slice(0, 300)}`);
  return out[0]!;
}

function stop(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.on('exit', () => resolve());
    p.kill('SIGTERM');
  });
}

/** Requests per op and server before the measured runs. */
const WARMUP_REQUESTS = 40_000;

export async function runRespBench(): Promise<RespBenchResult | undefined> {
  if (!which('redis-benchmark') || !which('redis-server')) {
    console.log('resp bench skipped: redis-benchmark and redis-server are needed (apt-get install redis-server redis-tools)');
    return undefined;
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const requests = Number(process.env.GOSSAMER_BENCH_RESP_N ?? 100_000);
  const loadAvgAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const base = await freePortRange(4);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gossamer-bench-resp-'));
  const node = spawn(process.execPath, [CLI, 'start', '--node-id', 'bench', '--listen', `127.0.0.1:${base}`, '--http', `127.0.0.1:${base + 1}`,
    '--resp', `127.0.0.1:${base + 2}`, '--data', dataDir, '--n', '1', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const redis = spawn('redis-server', ['--port', String(base + 3), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--protected-mode', 'no'], { stdio: 'ignore' });
  const rows: Row[] = [];
  try {
    await Promise.all([waitPort(base + 2, 30_000), waitPort(base + 3, 30_000)]);
    // Warm-up, not reported, for both servers alike: the JIT (each op's path), connections, the
    // memtable. Gossamer's GET path takes a few seconds to reach its steady rate (V8's tiers).
    for (const port of [base + 2, base + 3]) for (const op of ['SET', 'GET'] as const) bench(port, 1, WARMUP_REQUESTS, op);
    for (const pipeline of PIPELINES) {
      for (const [target, port, pid] of [['gossamer', base + 2, node.pid], ['redis', base + 3, redis.pid]] as const) {
        // One op per redis-benchmark run, so each gets its own CPU reading.
        for (const op of ['SET', 'GET'] as const) {
          const cpu0 = cpuSeconds([pid]);
          const r = bench(port, pipeline, requests, op);
          const cpu = cpuSeconds([pid]) - cpu0;
          const cpuUsPerRequest = Number.isFinite(cpu) ? Math.round((cpu * 1e6) / requests * 10) / 10 : null;
          rows.push({ target, pipeline, ...r, cpuUsPerRequest });
          console.log(`${target.padEnd(8)} -P ${String(pipeline).padEnd(2)} ${r.op}: ${r.perSec} req/s, p50 ${r.p50Ms ?? '?'} ms, ${cpuUsPerRequest ?? '?'} CPU µs/request`);
        }
      }
    }
  } finally {
    await Promise.all([stop(node), stop(redis)]);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const ratios = PIPELINES.flatMap((pipeline) => (['SET', 'GET'] as const).map((op) => {
    const g = rows.find((r) => r.target === 'gossamer' && r.pipeline === pipeline && r.op === op);
    const rd = rows.find((r) => r.target === 'redis' && r.pipeline === pipeline && r.op === op);
    return { pipeline, op, ratio: g && rd && rd.perSec > 0 ? Math.round((g.perSec / rd.perSec) * 1000) / 1000 : null };
  }));
  console.log('\n| pipeline | op | Gossamer req/s | Redis req/s | Gossamer / Redis | CPU µs/request: Gossamer / Redis |\n|---|---|---|---|---|---|');
  for (const x of ratios) {
    const g = rows.find((r) => r.target === 'gossamer' && r.pipeline === x.pipeline && r.op === x.op)!;
    const rd = rows.find((r) => r.target === 'redis' && r.pipeline === x.pipeline && r.op === x.op)!;
    console.log(`| -P ${x.pipeline} | ${x.op} | ${g.perSec} | ${rd.perSec} | ${x.ratio ?? '–'} | ${g.cpuUsPerRequest ?? '?'} / ${rd.cpuUsPerRequest ?? '?'} |`);
  }
  const result: RespBenchResult = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, loadAvgAtStart },
    settings: { clients: CLIENTS, requests, randomKeys: 10_000, gossamer: 'one node, N=1, commit log group' },
    rows, ratios,
    command: `npm run build && GOSSAMER_BENCH_RESP_N=${requests} npm run bench -- resp`,
  };
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench', 'results', 'resp.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}
