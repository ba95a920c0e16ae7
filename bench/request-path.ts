/**
 * The request path's own cost (issue 17, item 1): one node (N=1) in this process on the memory
 * engine (so storage is out of the picture), driven from outside by wrk (HTTP PUT/GET, 1 KB
 * values, 50 connections) and redis-benchmark (RESP SET/GET, 50 clients, -P 1). Reports the
 * node's **CPU microseconds per request** (process.cpuUsage over the phase / requests answered)
 * beside the throughput: on a shared machine the CPU per request is the steadier figure, and it
 * is what a cut of the request path lowers.
 *
 *   npm run bench -- request-path                       (BENCH_RP_SECONDS=8, BENCH_RP_RESP_N=50000, BENCH_RP_ENGINE=lsm,
 *                                                        BENCH_RP_VARIANTS=unbatched,turn,batched BENCH_RP_ROUNDS=2,
 *                                                        BENCH_RP_ONLY='http get,resp get' picks phases)
 *   node --cpu-prof --import tsx bench/request-path.ts  (a profile of the node and its drivers' waits)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startNode } from '../src/cli/node-main.js';
import { loadConfig } from '../src/cli/config.js';
import { freePorts } from '../test/cluster/helpers.js';
import { wrkScript } from './peers-lua.js';
import { preload } from './peers-systems.js';
import { parseRedisBenchmark, parseWrkResult } from './peers-report.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

export interface PathFigure { variant: string; what: string; requests: number; perSec: number; cpuUsPerRequest: number; p99Ms: number }

/** The builds of the node a run compares (BENCH_RP_VARIANTS): `batched` is production's. */
const VARIANTS: Record<string, { batchReadys: 'callback' | 'turn' | '0' }> = {
  batched: { batchReadys: 'callback' },
  turn: { batchReadys: 'turn' },
  unbatched: { batchReadys: '0' },
};

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Runs `cmd` without blocking this process's event loop (the node under test lives here). */
function runAsync(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return import('node:child_process').then(({ spawn }) => new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('error', reject);
    p.on('exit', () => resolve(out));
  }));
}

export async function measureRequestPath(
  seconds = Number(process.env.BENCH_RP_SECONDS ?? 8), respN = Number(process.env.BENCH_RP_RESP_N ?? 50_000),
  variant = 'batched',
): Promise<PathFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'gossamer-rp-'));
  const [listen, http, resp] = await freePorts(3);
  const { config } = loadConfig({ flags: { listen: `127.0.0.1:${listen}`, http: `127.0.0.1:${http}`, resp: `127.0.0.1:${resp}`, nodeId: 'rp', n: '1' }, env: {} });
  config.dataDir = join(dir, 'data');
  // BENCH_RP_ENGINE=lsm: the real engine (group commit, fsync) instead of the memory one.
  const node = await startNode(config, { memory: process.env.BENCH_RP_ENGINE !== 'lsm', logger: silent, sighup: false, ...VARIANTS[variant] });
  const out: PathFigure[] = [];
  try {
    const sys = { dialect: 'gossamer' as const, endpoints: [`127.0.0.1:${node.httpPort}`], writeQuery: 'supersede=local', config: '', stop: async () => {} };
    await preload(sys, 10_000, 1024);
    const hasWrk = spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0;
    const only = (process.env.BENCH_RP_ONLY ?? 'http put,http get,resp set,resp get').split(',');
    for (const phase of hasWrk ? (['put', 'get'] as const).filter((p) => only.includes(`http ${p}`)) : []) {
      const script = join(dir, `${phase}.lua`);
      writeFileSync(script, wrkScript({ dialect: 'gossamer', phase, records: 10_000, valueBytes: 1024, writeQuery: 'supersede=local' }));
      const c0 = cpuUs();
      const text = await runAsync('wrk', ['-t1', '-c50', `-d${seconds}s`, '-s', script, `http://127.0.0.1:${node.httpPort}`], { PEERS_SEED: '1', PEERS_TAG: phase });
      const cpu = cpuUs() - c0;
      const r = parseWrkResult(text);
      out.push({ variant, what: `http ${phase}`, requests: r.requests, perSec: Math.round(r.requests / r.durationS), cpuUsPerRequest: Math.round((cpu / r.requests) * 10) / 10, p99Ms: r.p99Ms });
    }
    const hasRb = spawnSync('sh', ['-c', 'command -v redis-benchmark'], { stdio: 'ignore' }).status === 0;
    for (const t of hasRb ? ['set', 'get'].filter((x) => only.includes(`resp ${x}`)) : []) {
      const c0 = cpuUs();
      const text = await runAsync('redis-benchmark', ['-p', String(node.respPort), '-t', t, '-n', String(respN), '-c', '50', '-P', '1', '-r', '10000', '-d', '1024']);
      const cpu = cpuUs() - c0;
      const r = parseRedisBenchmark(text)[0];
      if (r) out.push({ variant, what: `resp ${t}`, requests: respN, perSec: r.requestsPerSec, cpuUsPerRequest: Math.round((cpu / respN) * 10) / 10, p99Ms: r.p99Ms });
    }
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export async function runRequestPathBench(): Promise<void> {
  const variants = (process.env.BENCH_RP_VARIANTS ?? 'batched').split(',').filter((v) => v in VARIANTS);
  const rows: PathFigure[] = [];
  // Alternated, twice when comparing, so drifting load on a shared machine falls on every variant.
  const rounds = variants.length > 1 ? Number(process.env.BENCH_RP_ROUNDS ?? 2) : 1;
  for (let i = 0; i < rounds; i++) for (const v of variants) rows.push(...await measureRequestPath(undefined, undefined, v));
  console.log(`request path: one node (N=1, ${process.env.BENCH_RP_ENGINE === 'lsm' ? 'LSM engine, group commit' : 'memory engine'}) in this process; CPU of this process per request`);
  for (const r of rows) console.log(`  ${r.variant.padEnd(10)} ${r.what.padEnd(9)} ${String(r.perSec).padStart(7)} req/s  ${String(r.cpuUsPerRequest).padStart(6)} µs CPU/request  p99 ${r.p99Ms} ms  (${r.requests} requests)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runRequestPathBench();
}
