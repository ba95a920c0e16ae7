/**
 * Sustained HTTP put bench (issue 16): one node (N=1, group commit) over HTTP under `wrk` for
 * a long while — incompressible 1 KiB values, fresh keys, 50 connections — in back-to-back
 * rounds, printing per round the puts/s, p99, error responses and the node's RSS.
 *
 *   npm run bench -- http-sustained        (or: node --import tsx bench/http-sustained.ts)
 *   BENCH_HTTP_SUSTAINED_S=600             total duration (default 10 minutes)
 *   BENCH_HTTP_SUSTAINED_ROUND_S=15        round length
 *
 * The node runs from the TypeScript sources (tsx) in its own process. Goal: the last minute at
 * ≥ 0.7× the first, no error responses, RSS bounded. Results: bench/results/http-sustained.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePortRange, sleep } from '../test/cluster/helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOTAL_S = Number(process.env.BENCH_HTTP_SUSTAINED_S ?? 600);
const ROUND_S = Number(process.env.BENCH_HTTP_SUSTAINED_ROUND_S ?? 15);
const CONNECTIONS = 50;

interface Round { index: number; startS: number; putsPerSec: number; requests: number; errors: number; p99Ms: number; rssMB: number }

const LUA = `
local counter = 0
local bodies = {}
local round = os.getenv("GOSSAMER_ROUND") or "0"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  math.randomseed(tid * 7919 + tonumber(round) * 104729)
  for i = 1, 256 do
    local t = {}
    for j = 1, 1024 do t[j] = string.char(math.random(0, 255)) end
    bodies[i] = table.concat(t)
  end
end
function request()
  counter = counter + 1
  return wrk.format("PUT", "/kv/r" .. round .. "-t" .. tid .. "-" .. counter, nil, bodies[(counter % 256) + 1])
end
`;

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

function getText(port: number, urlPath: string): Promise<string> {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve(body));
    }).on('error', () => resolve(''));
  });
}

function rssMB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(/(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(name)) ?? '')?.[1] ?? 0);
  return { rss: kb('VmRSS:') / 1024, hwm: kb('VmHWM:') / 1024 };
}

/** Parses wrk's summary: requests, non-2xx/3xx and socket errors, and the 99th percentile. */
function parseWrk(out: string): { requests: number; errors: number; p99Ms: number } {
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((s, x) => s + Number(x), 0) : 0;
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const scale = m?.[2] === 'us' ? 0.001 : m?.[2] === 's' ? 1000 : 1;
  return { requests, errors: non2xx + socketErrors, p99Ms: m ? Number(m[1]) * scale : 0 };
}

function startNode(base: number, dir: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'start',
    '--node-id', 'n1', '--data', dir, '--listen', `127.0.0.1:${base}`, '--http', `127.0.0.1:${base + 1}`,
    '--resp', `127.0.0.1:${base + 2}`, '--n', '1', '--commitlog-sync', 'group'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function minuteRate(rounds: Round[], fromEnd: boolean): number {
  const n = Math.max(1, Math.round(60 / ROUND_S));
  const pick = fromEnd ? rounds.slice(-n) : rounds.slice(0, n);
  const req = pick.reduce((s, r) => s + r.requests, 0);
  return req / (pick.length * ROUND_S);
}

export async function runSustainedHttpBench(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0) {
    console.log('http-sustained: wrk is not installed (Debian package wrk); skipped');
    return;
  }
  const base = await freePortRange(3);
  const dir = mkdtempSync(path.join(tmpdir(), 'gossamer-bench-http-sustained-'));
  const script = path.join(dir, 'put.lua');
  writeFileSync(script, LUA);
  const node = startNode(base, path.join(dir, 'data'));
  const loadBefore = loadavg();
  try {
    for (let i = 0; !(await healthy(base + 1)); i++) {
      if (i > 300 || node.exitCode !== null) throw new Error('the node did not become healthy');
      await sleep(100);
    }
    console.log(`http-sustained: one node (N=1, group commit), wrk ${CONNECTIONS} connections, 1 KiB incompressible PUTs of fresh keys, ${TOTAL_S} s in rounds of ${ROUND_S} s`);
    const rounds: Round[] = [];
    for (let i = 0; i * ROUND_S < TOTAL_S; i++) {
      const r = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${ROUND_S}s`, '--latency', '-s', script, `http://127.0.0.1:${base + 1}`],
        { env: { ...process.env, GOSSAMER_ROUND: String(i) }, encoding: 'utf8' });
      const w = parseWrk(r.stdout);
      const round: Round = { index: i, startS: i * ROUND_S, putsPerSec: w.requests / ROUND_S, requests: w.requests, errors: w.errors, p99Ms: w.p99Ms, rssMB: rssMB(node.pid!).rss };
      rounds.push(round);
      console.log(`  ${String(round.startS).padStart(4)} s  ${round.putsPerSec.toFixed(0).padStart(6)} puts/s  p99 ${round.p99Ms.toFixed(1).padStart(7)} ms  errors ${round.errors}  RSS ${round.rssMB.toFixed(0)} MB`);
    }
    const storageMetrics = (await getText(base + 1, '/metrics')).split('\n').filter((l) => l.startsWith('gossamer_storage_'));
    console.log(`node's storage metrics at the end: ${storageMetrics.join('; ')}`);
    const first = minuteRate(rounds, false);
    const last = minuteRate(rounds, true);
    const peak = rssMB(node.pid!).hwm;
    const errors = rounds.reduce((s, r) => s + r.errors, 0);
    console.log(`first minute ${first.toFixed(0)} puts/s, last minute ${last.toFixed(0)} puts/s: ${(last / first).toFixed(2)}× (goal ≥ 0.7); errors ${errors} (goal 0); node peak RSS ${peak.toFixed(0)} MB`);
    console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const outDir = path.join(import.meta.dirname, 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'http-sustained.json'), `${JSON.stringify({
      suite: 'http-sustained', command: `BENCH_HTTP_SUSTAINED_S=${TOTAL_S} npm run bench -- http-sustained`, date: new Date().toISOString(),
      loadAverage: { before: loadBefore, after: loadavg() }, config: { totalS: TOTAL_S, roundS: ROUND_S, connections: CONNECTIONS },
      rounds, storageMetrics, firstMinutePerSec: first, lastMinutePerSec: last, lastOverFirst: last / first, errors, peakRssMB: peak,
    }, null, 2)}\n`);
    console.log('wrote bench/results/http-sustained.json');
  } finally {
    node.kill('SIGTERM');
    await new Promise((r) => node.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runSustainedHttpBench();
}
