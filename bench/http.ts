/**
 * HTTP throughput and latency of a 3-node dev cluster (N=3, R=W=2): 1 KB puts, then gets of
 * the written keys, from 50 closed-loop clients over keep-alive connections spread across the
 * three nodes, each phase bounded in time. Reference: redis-benchmark against a redis-server
 * started here (SET/GET -d 1024 -c 50), when both are installed; the ratio is what to read.
 *
 *   npm run build && node --import tsx bench/http.ts
 *   GOSSAMER_BENCH_SECONDS=5 node --import tsx bench/http.ts       (shorter phases)
 *
 * Writes bench/results/http.json and docs/http.md.
 */
import { freePortRange, sleep } from '../test/cluster/helpers.js';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface PhaseResult {
  op: 'put' | 'get';
  requests: number;
  errors: number;
  seconds: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
}

export interface RedisResult {
  op: 'SET' | 'GET';
  perSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface HttpBenchResult {
  date: string;
  machine: { cpus: number; node: string; platform: string; loadAvgAtStart: number[] };
  settings: { nodes: number; n: number; r: number; w: number; clients: number; valueBytes: number; seconds: number; keys: number; commitlogSync: string };
  gossamer: PhaseResult[];
  redis: RedisResult[] | null;
  redisNote?: string;
  ratios: { put: number | null; get: number | null };
  command: string;
}

export interface HttpBenchOptions {
  seconds?: number;
  clients?: number;
  valueBytes?: number;
  keys?: number;
  write?: boolean;
}

const PRESERVED_SECTION = '## Where the time goes';


function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i]! * 1000) / 1000;
}

function once(agent: http.Agent, port: number, method: string, path: string, body: Buffer | undefined): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: body ? { 'Content-Length': body.length } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(-1));
    });
    req.on('error', () => resolve(-1));
    req.end(body);
  });
}

/**
 * A closed loop: each client sends its next request when the previous one is answered. Puts
 * write fresh keys `<prefix><n>` (each key once, so every key holds one version, as a Redis SET
 * leaves one value); gets read random keys among the first `keys` of that prefix.
 */
async function runPhase(op: 'put' | 'get', ports: number[], clients: number, seconds: number, keys: number, value: Buffer, prefix: string): Promise<PhaseResult> {
  const agents = ports.map(() => new http.Agent({ keepAlive: true, maxSockets: clients }));
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let seq = 0;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const node = c % ports.length;
    while (performance.now() < end) {
      const k = op === 'put' ? seq++ : Math.floor(Math.random() * keys);
      const p = `/kv/${prefix}${k}?${op === 'put' ? 'w=2' : 'r=2'}`;
      const t0 = performance.now();
      const status = await once(agents[node]!, ports[node]!, op === 'put' ? 'PUT' : 'GET', p, op === 'put' ? value : undefined);
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
      const ok = op === 'put' ? status === 204 : status === 200;
      if (!ok) errors++;
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  for (const a of agents) a.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    op, requests: latencies.length, errors, seconds: Math.round(elapsed * 100) / 100,
    perSec: Math.round(latencies.length / elapsed),
    p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: percentile(sorted, 100), statuses,
  };
}

async function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

function startDevCluster(base: number, dataDir: string, commitlogSync: string): ChildProcess {
  const entry = existsSync(CLI) ? [CLI] : ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts')];
  return spawn(process.execPath, [...entry, 'dev', '--nodes', '3', '--data', dataDir, '--n', '3',
    '--listen-port', String(base), '--http-port', String(base + 3), '--resp-port', String(base + 6),
    '--commitlog-sync', commitlogSync, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Parses redis-benchmark --csv (Redis 7: "test","rps","avg_latency_ms","min","p50","p95","p99","max"). */
function parseRedisCsv(text: string): RedisResult[] {
  const out: RedisResult[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/"/g, '').trim());
    const name = cells[0];
    if (name !== 'SET' && name !== 'GET') continue;
    const num = (i: number): number | null => (cells[i] !== undefined && cells[i] !== '' && !Number.isNaN(Number(cells[i])) ? Number(cells[i]) : null);
    out.push({ op: name, perSec: Math.round(num(1) ?? 0), p50Ms: num(4), p99Ms: num(6) });
  }
  return out;
}

async function runRedis(clients: number, valueBytes: number, seconds: number, approxOps: number): Promise<{ results: RedisResult[] | null; note?: string }> {
  if (!which('redis-server') || !which('redis-benchmark')) return { results: null, note: 'redis-server or redis-benchmark not installed' };
  const port = await freePortRange(1);
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      if (ok) break;
      await sleep(50);
    }
    // Size the run to take about as long as a Gossamer phase at Redis's usual rate.
    const n = Math.max(10_000, Math.min(2_000_000, approxOps));
    const r = spawnSync('redis-benchmark', ['-p', String(port), '-t', 'set,get', '-d', String(valueBytes), '-c', String(clients),
      '-n', String(n), '-r', '10000', '--csv', '-q'], { encoding: 'utf8', timeout: (seconds * 6 + 60) * 1000 });
    const results = parseRedisCsv(r.stdout ?? '');
    return results.length > 0 ? { results } : { results: null, note: `redis-benchmark gave no results: ${(r.stderr ?? '').slice(0, 200)}` };
  } finally {
    server.kill('SIGTERM');
  }
}

function toMarkdown(r: HttpBenchResult): string {
  const g = (op: 'put' | 'get'): PhaseResult | undefined => r.gossamer.find((x) => x.op === op);
  const red = (op: 'SET' | 'GET'): RedisResult | undefined => r.redis?.find((x) => x.op === op);
  const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : String(v));
  const lines = [
    '# HTTP API benchmark',
    '',
    `Measured ${r.date} on ${r.machine.cpus} CPUs (${r.machine.platform}, Node ${r.machine.node}; load average`,
    `${r.machine.loadAvgAtStart[0] ?? '?'} when the run began). The cluster, the load generator and Redis all share this machine,`,
    'so absolute figures are low and noisy (±30% between runs); read the ratio to Redis measured in the same run.',
    '',
    `Workload: a ${r.settings.nodes}-node \`gossamer dev\` cluster (N=${r.settings.n}, W=${r.settings.w} for puts, R=${r.settings.r} for gets,`,
    `commit log \`${r.settings.commitlogSync}\`), ${r.settings.clients} closed-loop clients over keep-alive HTTP/1.1`,
    `connections spread evenly over the nodes, ${r.settings.valueBytes}-byte values, ${r.settings.seconds} s per phase: puts first, each to a fresh`,
    `key (so every key holds one version), then gets of random keys among the first ${r.settings.keys} written (each answers 200 with`,
    'one value). Redis: `redis-benchmark -t set,get -d 1024 -c 50` against a',
    '`redis-server` started by the bench (no persistence, no pipelining), over the same number of clients.',
    '',
    '| operation | Gossamer req/s | p50 ms | p99 ms | errors | Redis req/s | Redis p50 ms | Redis p99 ms | Gossamer / Redis |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [op, rop] of [['put', 'SET'], ['get', 'GET']] as const) {
    const x = g(op);
    const y = red(rop);
    const ratio = r.ratios[op];
    lines.push(`| ${op} 1 KB (${rop}) | ${fmt(x?.perSec)} | ${fmt(x?.p50Ms)} | ${fmt(x?.p99Ms)} | ${fmt(x?.errors)} | ${fmt(y?.perSec)} | ${fmt(y?.p50Ms)} | ${fmt(y?.p99Ms)} | ${ratio === null ? '–' : ratio.toFixed(3)} |`);
  }
  if (r.redisNote) lines.push('', `Redis: ${r.redisNote}.`);
  lines.push(
    '',
    'Why the gap: every Gossamer put is replicated to three nodes over TCP and acknowledged after two of them',
    'made it durable (group-committed fsync), every get reads two replicas and reconciles their versions, and',
    'each HTTP request is parsed and answered by JavaScript; Redis answers from one process\'s memory. On two',
    'cores the three nodes and the load generator also compete for the same CPUs.',
    '',
    'Reproduce:',
    '',
    '```',
    r.command,
    '```',
    '',
    'Raw figures: `bench/results/http.json`.',
    '',
  );
  return lines.join('\n');
}

/** Measures, prints, writes the JSON and docs/http.md; returns the figures. */
export async function measureHttpBench(opts: HttpBenchOptions = {}): Promise<HttpBenchResult> {
  const seconds = opts.seconds ?? Number(process.env.GOSSAMER_BENCH_SECONDS ?? 10);
  const clients = opts.clients ?? 50;
  const valueBytes = opts.valueBytes ?? 1024;
  const keys = opts.keys ?? 10_000;
  const commitlogSync = 'group';
  const loadAvgAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  if (!existsSync(CLI)) console.error(`(note: ${CLI} missing; running the CLI through tsx — run \`npm run build\` for representative figures)`);

  const base = await freePortRange(9);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gossamer-bench-http-'));
  const dev = startDevCluster(base, dataDir, commitlogSync);
  const ports = [base + 3, base + 4, base + 5];
  let gossamer: PhaseResult[];
  try {
    const deadline = Date.now() + 60_000;
    while (!(await Promise.all(ports.map(healthy))).every(Boolean)) {
      if (Date.now() > deadline || dev.exitCode !== null) throw new Error('the dev cluster did not become healthy');
      await sleep(100);
    }
    const value = Buffer.alloc(valueBytes, 'x');
    await runPhase('put', ports, clients, Math.min(2, seconds), keys, value, 'warm-'); // warm-up: JIT, connections
    const put = await runPhase('put', ports, clients, seconds, keys, value, 'bench-');
    console.log(`gossamer put: ${put.perSec} req/s, p50 ${put.p50Ms} ms, p99 ${put.p99Ms} ms, errors ${put.errors}`);
    const get = await runPhase('get', ports, clients, seconds, Math.min(keys, put.requests - put.errors), value, 'bench-');
    console.log(`gossamer get: ${get.perSec} req/s, p50 ${get.p50Ms} ms, p99 ${get.p99Ms} ms, errors ${get.errors}`);
    gossamer = [put, get];
  } finally {
    dev.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      if (dev.exitCode !== null || dev.signalCode !== null) resolve();
      else dev.on('exit', () => resolve());
    });
    rmSync(dataDir, { recursive: true, force: true });
  }

  const redis = await runRedis(clients, valueBytes, seconds, 40_000 * seconds);
  if (redis.results) for (const x of redis.results) console.log(`redis ${x.op}: ${x.perSec} req/s, p50 ${x.p50Ms ?? '?'} ms, p99 ${x.p99Ms ?? '?'} ms`);
  else console.log(`redis: skipped (${redis.note ?? ''})`);
  const ratio = (op: 'put' | 'get', rop: 'SET' | 'GET'): number | null => {
    const a = gossamer.find((x) => x.op === op)?.perSec;
    const b = redis.results?.find((x) => x.op === rop)?.perSec;
    return a !== undefined && b ? Math.round((a / b) * 1000) / 1000 : null;
  };

  const result: HttpBenchResult = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}`, loadAvgAtStart },
    settings: { nodes: 3, n: 3, r: 2, w: 2, clients, valueBytes, seconds, keys, commitlogSync },
    gossamer,
    redis: redis.results,
    ...(redis.note !== undefined ? { redisNote: redis.note } : {}),
    ratios: { put: ratio('put', 'SET'), get: ratio('get', 'GET') },
    command: 'npm run build && node --import tsx bench/http.ts    # or: npm run bench -- http',
  };
  console.log(`ratio to Redis: put/SET ${result.ratios.put ?? '–'}, get/GET ${result.ratios.get ?? '–'}`);
  if (opts.write ?? true) {
    mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(path.join(ROOT, 'bench', 'results', 'http.json'), JSON.stringify(result, null, 2) + '\n');
    mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
    const docPath = path.join(ROOT, 'docs', 'http.md');
    // Hand-written analysis (profiles) below PRESERVED_SECTION survives a rerun.
    const previous = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
    const at = previous.indexOf(PRESERVED_SECTION);
    writeFileSync(docPath, toMarkdown(result) + (at >= 0 ? '\n' + previous.slice(at) : ''));
  }
  return result;
}

/** The suite entry of bench/main.ts (`npm run bench -- http`). */
export async function runHttpBench(opts: HttpBenchOptions = {}): Promise<void> {
  await measureHttpBench(opts);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runHttpBench();
}
