/**
 * YCSB core workloads A, B, C, F and D (E needs range scans: not offered) through `gossamer bench`'s
 * driver against a 3-node `gossamer dev` cluster (N=3, quorum R and W) over HTTP, requests spread
 * over the three nodes, and, as the
 * reference on the same machine in the same run, the same driver and workloads over RESP
 * against a redis-server started here (no persistence). The ratio is what to read.
 *
 *   npm run build && npm run bench -- ycsb
 *   GOSSAMER_YCSB_RECORDS=1000 GOSSAMER_YCSB_OPERATIONS=2000 npm run bench -- ycsb   (a short run)
 *
 * Writes bench/results/ycsb.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePortRange, freePorts, sleep } from '../test/cluster/helpers.js';
import { formatReport, runBench } from '../src/cli/bench/command.js';
import type { BenchReport, BenchSettings } from '../src/cli/bench/command.js';
import { RespConnection } from '../src/cli/bench/transports.js';
import type { WorkloadName } from '../src/cli/bench/workload.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** Load with A first; D last, since its inserts grow the key space the others draw from. */
const ORDER: WorkloadName[] = ['a', 'b', 'c', 'f', 'd'];

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  return v !== undefined && /^[1-9][0-9]*$/.test(v) ? Number(v) : fallback;
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up`);
    await sleep(100);
  }
}

function stopped(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.on('exit', () => resolve())));
}

async function runAll(base: Omit<BenchSettings, 'workload' | 'load'>): Promise<BenchReport[]> {
  const out: BenchReport[] = [];
  for (const w of ORDER) {
    const rep = await runBench({ ...base, workload: w, load: w === 'a' }, { progressStream: process.stderr, colour: false });
    process.stdout.write(formatReport(rep, false) + '\n');
    out.push(rep);
  }
  return out;
}

export async function runYcsbBench(): Promise<void> {
  const recordCount = envInt('GOSSAMER_YCSB_RECORDS', 10_000);
  const operationCount = envInt('GOSSAMER_YCSB_OPERATIONS', 20_000);
  const clients = envInt('GOSSAMER_YCSB_CLIENTS', 32);
  const common = { recordCount, operationCount, clients, targetPerSec: 0, distribution: undefined, seed: 1, fieldLengthBytes: 100, json: false };
  const loadAvgAtStart = os.loadavg();

  const portBase = await freePortRange(9);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gossamer-ycsb-'));
  const dev = spawn(process.execPath, [CLI, 'dev', '--nodes', '3', '--data', dataDir, '--n', '3', '--listen-port', String(portBase),
    '--http-port', String(portBase + 3), '--resp-port', String(portBase + 6), '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  let gossamer: BenchReport[];
  try {
    await until('the dev cluster', async () => (await Promise.all([0, 1, 2].map((i) => healthy(portBase + 3 + i)))).every(Boolean));
    console.log(`Gossamer: 3-node dev cluster, N=3, over HTTP, clients spread over the three nodes`);
    gossamer = await runAll({ ...common, transport: 'http', targets: [0, 1, 2].map((i) => ({ host: '127.0.0.1', port: portBase + 3 + i })) });
  } finally {
    dev.kill('SIGTERM');
    await stopped(dev);
    rmSync(dataDir, { recursive: true, force: true });
  }

  let redis: BenchReport[] | null = null;
  let redisNote: string | undefined;
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0) {
    const [port] = (await freePorts(1)) as [number];
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      await until('redis-server', async () => {
        const c = new RespConnection({ host: '127.0.0.1', port });
        try { await c.ready; return true; } catch { return false; } finally { c.close(); }
      });
      console.log(`\nReference: redis-server on 127.0.0.1:${port}, the same driver over RESP`);
      redis = await runAll({ ...common, transport: 'resp', targets: [{ host: '127.0.0.1', port }] });
    } finally {
      server.kill('SIGKILL');
      await stopped(server);
    }
  } else redisNote = 'redis-server not installed: no reference';

  const ratios = Object.fromEntries(gossamer.map((g, i) => [g.workload, redis ? Math.round((g.run.throughputPerSec / redis[i]!.run.throughputPerSec) * 1000) / 1000 : null]));
  console.log('\nthroughput ratio Gossamer (3 nodes, N=3, HTTP) / Redis (1 process, RESP), same driver:');
  for (const [w, r] of Object.entries(ratios)) console.log(`  ${w}: ${r ?? '-'}`);
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench', 'results', 'ycsb.json'), JSON.stringify({
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, loadAvgAtStart },
    settings: { recordCount, operationCount, clients, nodes: 3, n: 3 },
    gossamer, redis, ...(redisNote ? { redisNote } : {}), ratios,
    command: 'npm run build && npm run bench -- ycsb',
  }, null, 2) + '\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await runYcsbBench();
