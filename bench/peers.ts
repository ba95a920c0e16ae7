/**
 * `npm run bench -- peers` (issue 17): Gossamer beside the systems people would pick instead,
 * all on this machine in one run, one load generator for every HTTP system (wrk from Debian,
 * scripts from bench/peers-lua.ts):
 *
 *   - Gossamer 1 node (N=1) and 3 nodes (N=3, R=W=2), group commit
 *   - etcd 3.4, 3 members, default fsync, through its v3 JSON gateway
 *   - a bare node:http server answering the same requests (the 1-node ceiling)
 *   - redis-server (the in-memory upper bound) through redis-benchmark: wrk does not speak RESP
 *
 * Phases: pure puts (fresh keys), pure gets (uniform over the records), YCSB A, B, C and F
 * (1 KB records, scrambled zipfian 0.99), each `--seconds` long (30 by default) after a warm-up.
 *
 *   npm run build && npm run bench -- peers                 # full run, ~25 minutes
 *   npm run bench -- peers --quick                          # smoke test: 3 s phases, 1,000 records
 *   npm run bench -- peers --seconds 10 --systems gossamer-3,etcd-3
 *   npm run bench -- peers --systems redis --merge          # rerun one system, keep the others' figures
 *
 * Writes bench/results/peers.json, docs/peers-*.svg and the marked section of docs/benchmarks.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { requestsPerOp, wrkScript } from './peers-lua.js';
import { PHASES, SYSTEMS, mergeRedis, mergeRuns, parseRedisBenchmark, parseWrkResult, replaceMarked } from './peers-report.js';
import type { GenRun, PhaseFigures, PhaseName, RedisBenchFigures, Results, SystemName } from './peers-report.js';
import { peersMarkdown, peersCharts } from './peers-markdown.js';
import type { PeersRun } from './peers-markdown.js';
import { preload, preloadRedis, startBareHttp, startEtcdThree, startGossamerOne, startGossamerThree, startRedis } from './peers-systems.js';
import type { HttpSystem } from './peers-systems.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BEGIN = '<!-- peers:begin (written by `npm run bench -- peers`) -->';
export const END = '<!-- peers:end -->';

export interface PeersOptions { seconds: number; warmupSeconds: number; records: number; connections: number; valueBytes: number; systems: SystemName[]; quick: boolean }

export function parsePeersArgs(argv: readonly string[]): PeersOptions {
  const quick = argv.includes('--quick');
  const value = (name: string): string | undefined => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const a = argv[i]!;
    return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
  };
  const num = (name: string, dflt: number): number => {
    const raw = value(name);
    if (raw === undefined) return dflt;
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number (got "${raw}")`);
    return v;
  };
  const systemsRaw = value('systems');
  const systems = systemsRaw === undefined ? [...SYSTEMS] : systemsRaw.split(',').map((s) => s.trim());
  for (const s of systems) if (!(SYSTEMS as readonly string[]).includes(s)) throw new Error(`unknown system "${s}" (known: ${SYSTEMS.join(', ')})`);
  const seconds = num('seconds', quick ? 3 : 30);
  return {
    seconds, warmupSeconds: num('warmup', quick ? 1 : Math.min(10, Math.max(2, Math.round(seconds / 3)))),
    records: num('records', quick ? 1000 : 10_000), connections: num('connections', 50), valueBytes: 1024,
    systems: systems as SystemName[], quick,
  };
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(0, 300)} ${out.slice(0, 300)}`))));
  });
}

/** One wrk per endpoint side by side (1 thread each; the connections split evenly), merged. */
async function wrkPhase(sys: HttpSystem, phase: PhaseName, seconds: number, o: PeersOptions, dir: string, tag: string): Promise<PhaseFigures> {
  const script = path.join(dir, `${sys.dialect}-${phase}.lua`);
  writeFileSync(script, wrkScript({ dialect: sys.dialect, phase, records: o.records, valueBytes: o.valueBytes,
    ...(sys.readQuery !== undefined ? { readQuery: sys.readQuery } : {}), ...(sys.writeQuery !== undefined ? { writeQuery: sys.writeQuery } : {}) }));
  const conns = Math.max(1, Math.round(o.connections / sys.endpoints.length));
  const once = (attempt: number): Promise<string[]> => Promise.all(sys.endpoints.map((e, i) => run('wrk', ['-t1', `-c${conns}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '5s', '-s', script, `http://${e}`],
    { PEERS_SEED: String(i + 1), PEERS_TAG: `${tag}${attempt}` })));
  // A wrk that fails outright (seen once on the loaded machine, with nothing on stderr) gets one more try.
  const outs = await once(0).catch((e: unknown) => {
    console.log(`${sys.dialect} ${phase}: ${String(e).slice(0, 200)}; retrying once`);
    return once(1);
  });
  const runs: GenRun[] = outs.map(parseWrkResult);
  return mergeRuns(runs, requestsPerOp(phase));
}

async function runHttpSystem(name: SystemName, start: (dir: string) => Promise<HttpSystem>, o: PeersOptions, dir: string): Promise<{ figures: Partial<Record<PhaseName, PhaseFigures>>; config: string }> {
  const sys = await start(dir);
  const figures: Partial<Record<PhaseName, PhaseFigures>> = {};
  try {
    const t0 = Date.now();
    await preload(sys, o.records, o.valueBytes);
    console.log(`${name}: ${o.records} records loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await wrkPhase(sys, 'ycsb-a', o.warmupSeconds, o, dir, 'w'); // warm-up (JIT, connections), not reported
    for (const phase of PHASES) {
      const f = await wrkPhase(sys, phase, o.seconds, o, dir, phase);
      figures[phase] = f;
      console.log(`${name} ${phase}: ${f.opsPerSec} ops/s (${f.requestsPerSec} req/s), p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, p99.9 ${f.p999Ms} ms, errors ${f.errors}`);
    }
  } finally {
    await sys.stop();
  }
  return { figures, config: sys.config };
}

/** Redis: redis-benchmark, the op mixes as side-by-side processes with the clients split by the mix. */
const REDIS_MIX: Record<PhaseName, { get: number; set: number }> = {
  put: { get: 0, set: 1 }, get: { get: 1, set: 0 }, 'ycsb-a': { get: 0.5, set: 0.5 }, 'ycsb-b': { get: 0.95, set: 0.05 },
  'ycsb-c': { get: 1, set: 0 }, 'ycsb-f': { get: 2 / 3, set: 1 / 3 },
};

async function redisBench(port: number, test: 'get' | 'set', clients: number, n: number, keyspace: number, o: PeersOptions): Promise<RedisBenchFigures> {
  const out = await run('redis-benchmark', ['-p', String(port), '-t', test, '-c', String(clients), '-n', String(requestCount(n)),
    '-d', String(o.valueBytes), '-r', String(keyspace)]);
  const parsed = parseRedisBenchmark(out);
  if (parsed.length === 0) throw new Error(`redis-benchmark printed no result: ${out.slice(0, 300)}`);
  return parsed[0]!;
}

const requestCount = (n: number): number => Math.max(1000, Math.round(n));

async function runRedis(o: PeersOptions, dir: string): Promise<Partial<Record<PhaseName, PhaseFigures>>> {
  const server = await startRedis(dir);
  const figures: Partial<Record<PhaseName, PhaseFigures>> = {};
  try {
    await preloadRedis(server.port, o.records, o.valueBytes);
    // Calibrate: redis-benchmark runs a number of requests, not a time; size each phase from this.
    const cal = await redisBench(server.port, 'get', o.connections, 20_000, o.records, o);
    for (const phase of PHASES) {
      const mix = REDIS_MIX[phase];
      const parts: Promise<RedisBenchFigures>[] = [];
      let requests = 0;
      const t0 = performance.now();
      for (const test of ['get', 'set'] as const) {
        const share = mix[test];
        if (share === 0) continue;
        const clients = Math.max(1, Math.round(o.connections * share));
        // Fresh keys for the put phase: a keyspace far larger than the requests.
        const keyspace = phase === 'put' ? 1_000_000_000 : o.records;
        const n = cal.requestsPerSec * share * o.seconds;
        requests += requestCount(n);
        parts.push(redisBench(server.port, test, clients, n, keyspace, o));
      }
      const done = await Promise.all(parts);
      // Side by side, one process may finish first and the other then runs alone: the rate is
      // all requests over the wall time of the pair, not the sum of each one's own rate.
      const wallS = (performance.now() - t0) / 1000;
      const f = { ...mergeRedis(done, requestsPerOp(phase)), ...(done.length > 1 ? { requestsPerSec: Math.round(requests / wallS), opsPerSec: Math.round(requests / wallS / requestsPerOp(phase)) } : {}) };
      figures[phase] = f;
      console.log(`redis ${phase}: ${f.opsPerSec} ops/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, p99.9 ${f.p999Ms} ms`);
    }
  } finally {
    await server.stop();
  }
  return figures;
}

const STARTERS: Record<Exclude<SystemName, 'redis'>, (dir: string) => Promise<HttpSystem>> = {
  'gossamer-1': startGossamerOne, 'gossamer-3': startGossamerThree, 'etcd-3': startEtcdThree, 'node-http': () => startBareHttp(),
};

const NEEDS: Record<SystemName, string[]> = {
  'gossamer-1': ['wrk'], 'gossamer-3': ['wrk'], 'etcd-3': ['wrk', 'etcd'], 'node-http': ['wrk'], redis: ['redis-server', 'redis-benchmark'],
};

export async function runPeersBench(argv: readonly string[] = process.argv.slice(2)): Promise<PeersRun> {
  const o = parsePeersArgs(argv);
  const resultsPath = path.join(ROOT, 'bench', 'results', 'peers.json');
  // --merge: start from the previous run's figures and replace only the systems run now.
  const previous = argv.includes('--merge') && existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) as PeersRun : undefined;
  const results: Results = { ...(previous?.results ?? {}) };
  const configs: Partial<Record<SystemName, string>> = { ...(previous?.configs ?? {}) };
  const skipped: string[] = [];
  const loadAvgAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gossamer-peers-'));
  try {
    for (const name of o.systems) {
      const missing = NEEDS[name].filter((c) => !which(c));
      if (missing.length > 0) { skipped.push(`${name} (missing: ${missing.join(', ')})`); console.log(`${name}: skipped, ${missing.join(', ')} not installed`); continue; }
      if (name === 'redis') {
        results.redis = await runRedis(o, dir);
        configs.redis = 'redis-server 7.0 (Debian), no persistence (`--save "" --appendonly no`), driven by `redis-benchmark -c 50 -d 1024 -r <records>` (RESP, not HTTP: wrk does not speak it); YCSB mixes as GET and SET processes side by side with the 50 clients split by the mix (uniform keys: redis-benchmark has no zipfian; F\'s read and write of a key are not chained)';
        continue;
      }
      const r = await runHttpSystem(name, STARTERS[name], o, dir);
      results[name] = r.figures;
      configs[name] = r.config;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const runInfo: PeersRun = {
    date: new Date().toISOString(), loadAvgAtStart, loadAvgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
    cpus: os.cpus().length, node: process.version, options: o, results, configs, skipped,
    command: (previous ? `${previous.command}\n# then, replacing ${o.systems.join(', ')} (${new Date().toISOString()}):\n` : '')
      + `npm run build && npm run bench -- peers${o.quick ? ' --quick' : ''}${argv.filter((a) => a !== 'peers' && a !== '--quick').length > 0 ? ' ' + argv.filter((a) => a !== 'peers' && a !== '--quick').join(' ') : ''}`,
  };
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(resultsPath, JSON.stringify(runInfo, null, 2) + '\n');
  if (o.quick) {
    console.log('peers: --quick run, docs/benchmarks.md left as it is (bench/results/peers.json written)');
    return runInfo;
  }
  for (const [file, svg] of Object.entries(peersCharts(runInfo))) writeFileSync(path.join(ROOT, 'docs', file), svg);
  const docPath = path.join(ROOT, 'docs', 'benchmarks.md');
  writeFileSync(docPath, replaceMarked(readFileSync(docPath, 'utf8'), peersMarkdown(runInfo), BEGIN, END, '## Ring'));
  console.log('peers: docs/benchmarks.md (marked section) and docs/peers-*.svg written');
  return runInfo;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runPeersBench();
}
