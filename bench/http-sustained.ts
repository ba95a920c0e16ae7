/**
 * Sustained HTTP put bench (issue 16): one node (N=1, group commit) over HTTP under one load
 * generator (`wrk -t1 -c50`) for a long while — PUTs of fresh keys with incompressible 1 KiB
 * bodies — in back-to-back rounds (one minute each by default), printing per round the puts/s,
 * p99, error responses (non-2xx and socket errors), the node's RSS, its unsettled tables (the
 * tables compaction still has to merge: the LSM's "L0"), stall and slowdown time, compaction debt
 * and the node's event-loop delay (p99, max; measured inside the node by bench/loop-probe.ts).
 *
 *   npm run bench -- http-sustained                 10 minutes (or: node --import tsx bench/http-sustained.ts)
 *   npm run bench -- http-sustained --minutes 1     a 1-minute validation
 *   --round-s 15                                    shorter rounds (per-round p99 instead of per-minute)
 *
 * The node runs from the TypeScript sources (tsx) in its own process, on free ports. Goal: the
 * last minute at ≥ 0.7× the first, no error responses, RSS bounded.
 * Results: bench/results/http-sustained.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePortRange, sleep } from '../test/cluster/helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** `--name N` or `--name=N` from the command line, else the default. */
function flag(name: string, fallback: number): number {
  const args = process.argv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = a === `--${name}` ? args[i + 1] : a.startsWith(`--${name}=`) ? a.slice(name.length + 3) : undefined;
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`http-sustained: --${name} wants a positive number, got ${JSON.stringify(v)}`);
    return n;
  }
  return fallback;
}

const MINUTES = flag('minutes', 10);
const ROUND_S = flag('round-s', 60);
const TOTAL_S = MINUTES * 60;
const CONNECTIONS = 50;

interface Engine { tables: number; settled: number; stallS: number; delayS: number; debtMB: number; stalls: number }
interface Loop { p50Ms: number; p99Ms: number; maxMs: number }
interface Round {
  index: number; startS: number; putsPerSec: number; requests: number; errors: number; p99Ms: number; rssMB: number;
  /** Unsettled tables at the end of the round (tables still to be merged). */
  unsettledTables: number;
  /** Time acknowledgements waited in stalls / in the write controller's slowdown during the round. */
  stallS: number; delayS: number; debtMB: number;
  loop: Loop;
}

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

/** The storage lines of the node's /metrics (gossamer_storage_*). */
async function engineState(port: number): Promise<Engine> {
  const text = await getText(port, '/metrics');
  const v = (name: string): number => Number(new RegExp(`^gossamer_storage_${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    tables: v('sstables'), settled: v('settled_tables'), stallS: v('stall_seconds_total'), delayS: v('delay_seconds_total'),
    debtMB: v('compaction_debt_bytes') / 1048576, stalls: v('stalls_total'),
  };
}

/** Asks the node's loop probe for the delay since the last ask; waits for its line. */
async function loopSince(pid: number, file: string, lines: number): Promise<Loop> {
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 200; i++) {
    const all = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
    if (all.length > lines && all[lines]) return JSON.parse(all[lines]) as Loop;
    await sleep(25);
  }
  throw new Error('the node\'s loop probe did not answer');
}

function startNode(base: number, dir: string, probeFile: string): ChildProcess {
  const probe = pathToFileURL(path.join(ROOT, 'bench', 'loop-probe.ts')).href;
  return spawn(process.execPath, ['--import', 'tsx', '--import', probe, path.join(ROOT, 'src', 'cli', 'main.ts'), 'start',
    '--node-id', 'n1', '--data', dir, '--listen', `127.0.0.1:${base}`, '--http', `127.0.0.1:${base + 1}`,
    '--resp', `127.0.0.1:${base + 2}`, '--n', '1', '--commitlog-sync', 'group'],
  { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, GOSSAMER_LOOP_PROBE_FILE: probeFile } });
}

function minuteRate(rounds: Round[], fromEnd: boolean): number {
  const n = Math.max(1, Math.round(60 / ROUND_S));
  const pick = fromEnd ? rounds.slice(-n) : rounds.slice(0, n);
  const req = pick.reduce((s, r) => s + r.requests, 0);
  return req / (pick.length * ROUND_S);
}

function printRound(r: Round): void {
  console.log(`  ${String(r.startS).padStart(4)} s  ${r.putsPerSec.toFixed(0).padStart(6)} puts/s  p99 ${r.p99Ms.toFixed(1).padStart(7)} ms  errors ${r.errors}  ` +
    `RSS ${r.rssMB.toFixed(0)} MB  unsettled tables ${r.unsettledTables}  stall ${r.stallS.toFixed(2)} s  slowdown ${r.delayS.toFixed(2)} s  ` +
    `debt ${r.debtMB.toFixed(0)} MB  loop lag p99 ${r.loop.p99Ms.toFixed(1)} ms max ${r.loop.maxMs.toFixed(1)} ms`);
}

async function runRounds(node: ChildProcess, port: number, script: string, probeFile: string): Promise<Round[]> {
  const rounds: Round[] = [];
  let before = await engineState(port);
  await loopSince(node.pid!, probeFile, 0); // the period starts with the load
  for (let i = 0; i * ROUND_S < TOTAL_S; i++) {
    const r = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${ROUND_S}s`, '--latency', '-s', script, `http://127.0.0.1:${port}`],
      { env: { ...process.env, GOSSAMER_ROUND: String(i) }, encoding: 'utf8' });
    const loop = await loopSince(node.pid!, probeFile, i + 1);
    const w = parseWrk(r.stdout);
    const after = await engineState(port);
    const round: Round = {
      index: i, startS: i * ROUND_S, putsPerSec: w.requests / ROUND_S, requests: w.requests, errors: w.errors, p99Ms: w.p99Ms,
      rssMB: rssMB(node.pid!).rss, unsettledTables: after.tables - after.settled, stallS: after.stallS - before.stallS,
      delayS: after.delayS - before.delayS, debtMB: after.debtMB, loop,
    };
    before = after;
    rounds.push(round);
    printRound(round);
  }
  return rounds;
}

export async function runSustainedHttpBench(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0) {
    console.log('http-sustained: wrk is not installed (Debian package wrk); skipped');
    return;
  }
  const base = await freePortRange(3);
  const dir = mkdtempSync(path.join(tmpdir(), 'gossamer-bench-http-sustained-'));
  const script = path.join(dir, 'put.lua');
  const probeFile = path.join(dir, 'loop.jsonl');
  writeFileSync(script, LUA);
  const node = startNode(base, path.join(dir, 'data'), probeFile);
  const loadBefore = loadavg();
  try {
    for (let i = 0; !(await healthy(base + 1)); i++) {
      if (i > 300 || node.exitCode !== null) throw new Error('the node did not become healthy');
      await sleep(100);
    }
    console.log(`http-sustained: one node (N=1, group commit), wrk ${CONNECTIONS} connections, 1 KiB incompressible PUTs of fresh keys, ${MINUTES} min in rounds of ${ROUND_S} s`);
    const rounds = await runRounds(node, base + 1, script, probeFile);
    const storageMetrics = (await getText(base + 1, '/metrics')).split('\n').filter((l) => l.startsWith('gossamer_storage_'));
    console.log(`node's storage metrics at the end: ${storageMetrics.join('; ')}`);
    const first = minuteRate(rounds, false);
    const last = minuteRate(rounds, true);
    const peak = rssMB(node.pid!).hwm;
    const errors = rounds.reduce((s, r) => s + r.errors, 0);
    const stallS = rounds.reduce((s, r) => s + r.stallS, 0);
    const loopMaxMs = Math.max(...rounds.map((r) => r.loop.maxMs));
    const loopP99Ms = Math.max(...rounds.map((r) => r.loop.p99Ms));
    console.log(`first minute ${first.toFixed(0)} puts/s, last minute ${last.toFixed(0)} puts/s: ${(last / first).toFixed(2)}× (goal ≥ 0.7); errors ${errors} (goal 0); ` +
      `node peak RSS ${peak.toFixed(0)} MB; stall time ${stallS.toFixed(2)} s; event-loop delay: worst round p99 ${loopP99Ms.toFixed(1)} ms, max ${loopMaxMs.toFixed(1)} ms`);
    console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const outDir = path.join(import.meta.dirname, 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'http-sustained.json'), `${JSON.stringify({
      suite: 'http-sustained', command: `npm run bench -- http-sustained --minutes ${MINUTES} --round-s ${ROUND_S}`, date: new Date().toISOString(),
      loadAverage: { before: loadBefore, after: loadavg() }, config: { minutes: MINUTES, roundS: ROUND_S, connections: CONNECTIONS },
      rounds, storageMetrics, firstMinutePerSec: first, lastMinutePerSec: last, lastOverFirst: last / first, errors, peakRssMB: peak,
      stallS, loopP99MsWorstRound: loopP99Ms, loopMaxMs,
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
