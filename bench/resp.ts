/**
 * RESP throughput: redis-benchmark (50 clients, SET and GET, `-P 1` and `-P 16`, random keys
 * among 10 000) against one Gossamer node (N=1, group commit) and against a redis-server this
 * bench starts on a spare loopback port, in the same run; prints both and the ratio.
 * Goal (issue 14): Gossamer ≥ 0.5× Redis at `-P 1`.
 *
 * Two more servers, measured in the same run, say where the floor of a durable SET lies on this
 * machine: Redis made durable (`--appendonly yes --appendfsync always`: every write fsynced
 * before its answer) and bench/resp-floor.ts, the least a durable key-value server in Node.js
 * does (a Map, a log, group-committed fdatasync). Each is reported as a ratio to Redis.
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

type Target = 'gossamer' | 'redis' | 'redis-fsync-always' | 'node-floor';

interface Row {
  target: Target;
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
  /** Each server's req/s over Redis's (`ratio`: Gossamer's, the goal's figure). */
  ratios: { pipeline: number; op: string; ratio: number | null; redisFsyncAlways: number | null; nodeFloor: number | null }[];
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
  const base = await freePortRange(6);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gossamer-bench-resp-'));
  const node = spawn(process.execPath, [CLI, 'start', '--node-id', 'bench', '--listen', `127.0.0.1:${base}`, '--http', `127.0.0.1:${base + 1}`,
    '--resp', `127.0.0.1:${base + 2}`, '--data', dataDir, '--n', '1', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const redis = spawn('redis-server', ['--port', String(base + 3), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--protected-mode', 'no'], { stdio: 'ignore' });
  const redisFsync = spawn('redis-server', ['--port', String(base + 4), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes',
    '--appendfsync', 'always', '--dir', dataDir, '--protected-mode', 'no'], { stdio: 'ignore' });
  const floor = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'resp-floor.ts'), String(base + 5), path.join(dataDir, 'floor.log')],
    { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT });
  const targets: [Target, number, number | undefined][] = [['gossamer', base + 2, node.pid], ['redis', base + 3, redis.pid],
    ['redis-fsync-always', base + 4, redisFsync.pid], ['node-floor', base + 5, floor.pid]];
  const rows: Row[] = [];
  try {
    await Promise.all(targets.map(([, port]) => waitPort(port, 30_000)));
    // Warm-up, not reported, for every server alike: the JIT (each op's path), connections, the
    // memtable. Gossamer's GET path takes a few seconds to reach its steady rate (V8's tiers).
    for (const [, port] of targets) for (const op of ['SET', 'GET'] as const) bench(port, 1, WARMUP_REQUESTS, op);
    for (const pipeline of PIPELINES) {
      for (const [target, port, pid] of targets) {
        // One op per redis-benchmark run, so each gets its own CPU reading.
        for (const op of ['SET', 'GET'] as const) {
          const cpu0 = cpuSeconds([pid]);
          const r = bench(port, pipeline, requests, op);
          const cpu = cpuSeconds([pid]) - cpu0;
          const cpuUsPerRequest = Number.isFinite(cpu) ? Math.round((cpu * 1e6) / requests * 10) / 10 : null;
          rows.push({ target, pipeline, ...r, cpuUsPerRequest });
          console.log(`${target.padEnd(18)} -P ${String(pipeline).padEnd(2)} ${r.op}: ${r.perSec} req/s, p50 ${r.p50Ms ?? '?'} ms, ${cpuUsPerRequest ?? '?'} CPU µs/request`);
        }
      }
    }
  } finally {
    await Promise.all([stop(node), stop(redis), stop(redisFsync), stop(floor)]);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const find = (target: Target, pipeline: number, op: string): Row | undefined => rows.find((r) => r.target === target && r.pipeline === pipeline && r.op === op);
  const ratioOf = (target: Target, pipeline: number, op: string): number | null => {
    const t = find(target, pipeline, op);
    const rd = find('redis', pipeline, op);
    return t && rd && rd.perSec > 0 ? Math.round((t.perSec / rd.perSec) * 1000) / 1000 : null;
  };
  const ratios = PIPELINES.flatMap((pipeline) => (['SET', 'GET'] as const).map((op) => ({
    pipeline, op, ratio: ratioOf('gossamer', pipeline, op),
    redisFsyncAlways: ratioOf('redis-fsync-always', pipeline, op), nodeFloor: ratioOf('node-floor', pipeline, op),
  })));
  console.log('\nreq/s (ratio to Redis) and server CPU µs per request');
  console.log('| pipeline | op | Redis | Gossamer | Redis, appendfsync always | Node floor (resp-floor.ts) |\n|---|---|---|---|---|---|');
  for (const x of ratios) {
    const cell = (t: Target, ratio: number | null): string => {
      const r = find(t, x.pipeline, x.op)!;
      return `${r.perSec}${ratio === null ? '' : ` (${ratio}×)`}, ${r.cpuUsPerRequest ?? '?'} µs`;
    };
    console.log(`| -P ${x.pipeline} | ${x.op} | ${cell('redis', null)} | ${cell('gossamer', x.ratio)} | ${cell('redis-fsync-always', x.redisFsyncAlways)} | ${cell('node-floor', x.nodeFloor)} |`);
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
