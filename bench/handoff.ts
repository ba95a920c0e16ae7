/**
 * Hint replay rate: a stand-in holding 100k hinted 1 KB writes for one target hands them back
 * once the target is up, over the real TCP transport, each side on its real LSM engine (group
 * commit: a hint is deleted only after the target's merge is fsynced). The target runs in a
 * child process, as it would on its own machine (GOSSAMER_BENCH_HANDOFF_PROCESSES=1 runs both
 * nodes in this one process, sharing one event loop: the set-up of the figures before 2026-11-30).
 *
 *   npm run bench -- handoff
 *   GOSSAMER_BENCH_HINTS=20000 npm run bench -- handoff     (a shorter run)
 *   GOSSAMER_BENCH_PROFILE=/tmp/replay.cpuprofile npm run bench -- handoff
 *     (a CPU profile of the main thread during the replay alone, not the seeding or the load;
 *      summarise it with bench/profile-summary.ts)
 *
 * Reference: Cassandra's default hint throttle, hinted_handoff_throttle (1024 KiB/s per delivery
 * thread). Goal: at least 10× that. Results: bench/results/handoff.json.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts, sleep } from '../test/cluster/helpers.js';
import { createTcpTransport } from '../src/adapters/tcp-transport.js';
import { NodeFileSystem } from '../src/adapters/node-fs.js';
import { SystemClock } from '../src/adapters/system-clock.js';
import { openLsmEngine } from '../src/storage/lsm/index.js';
import { NodeRuntime } from '../src/runtime/node-runtime.js';
import { EMPTY_STATE, applyWrite, encodeState } from '../src/core/clock/state.js';
import { EMPTY_CONTEXT } from '../src/core/clock/context.js';
import { encodeHintRecord, hintKey } from '../src/core/handoff/index.js';
import type { Message } from '../src/core/types.js';
import type { PeerInfo } from '../src/ports/index.js';

const CASSANDRA_THROTTLE_BYTES_PER_SEC = 1024 * 1024;

/** Profiles the main thread from now until the returned function is awaited (when `file` is set). */
async function profileFrom(file: string | undefined): Promise<() => Promise<void>> {
  if (!file) return async () => {};
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

interface Started { runtime: NodeRuntime; engine: LsmEngineLike; stop(): Promise<void> }

type LsmEngineLike = Awaited<ReturnType<typeof openLsmEngine>>;

/** What each engine did during the replay: background work and any write slowdown it imposed. */
function engineSummary(e: LsmEngineLike): Record<string, number> {
  const s = e.stats();
  return {
    flushes: s.flushes, compactions: s.compactions, logSyncs: s.logSyncs, tables: s.tables,
    stalls: s.stalls, stallMs: Math.round(s.stallMs), delayedWrites: s.delayedWrites, delayMs: Math.round(s.delayMs),
    writeAmplification: +s.writeAmplification.toFixed(2),
  };
}

function openEngine(dir: string): Promise<LsmEngineLike> {
  return openLsmEngine({ dir, fs: new NodeFileSystem(), sync: 'group', clock: new SystemClock() });
}

async function startOne(self: PeerInfo, engine: LsmEngineLike, port: number, seeds: string[]): Promise<Started> {
  const transport = await createTcpTransport<Message>({ self, listenHost: '127.0.0.1', listenPort: port, seeds });
  const clock = new SystemClock();
  const runtime = NodeRuntime.create({
    self, engine, transport, clock,
    settings: { n: 2, partitions: 64, tickMs: 10, requestTimeoutMs: 2000, r: 'quorum', w: 'quorum', maxValueBytes: 1 << 20, seeds },
  });
  runtime.start();
  return {
    runtime, engine,
    async stop() {
      await runtime.stop();
      await transport.close();
      await engine.close();
      clock.clearAll();
    },
  };
}

const peer = (nodeId: string, address: string, rack: string): PeerInfo => ({ nodeId, address, dc: 'dc1', rack, weight: 1 });

/** What the target reports once the replay is over. */
interface TargetResult { cpuSecs: number; engine: Record<string, number>; holdsKeys: boolean }

/** The target, in this process or in a child; `start` resolves once it listens. */
interface TargetHandle {
  start(): Promise<void>;
  finish(): Promise<TargetResult>;
  /** Ends a child left running by a failed run (nothing in process). */
  abort(): void;
}

function holdsKeys(rt: NodeRuntime): boolean {
  const sample = rt.localState('bench-0');
  return sample !== undefined && sample.siblings.length === 1;
}

function inProcessTarget(dir: string, port: number, seeds: string[]): TargetHandle {
  let started: Started | undefined;
  return {
    async start() {
      started = await startOne(peer('b', seeds[1]!, 'r2'), await openEngine(dir), port, seeds);
    },
    async finish() {
      const sb = started!;
      const result = { cpuSecs: 0, engine: engineSummary(sb.engine), holdsKeys: holdsKeys(sb.runtime) };
      await sb.stop();
      return result;
    },
    abort() {},
  };
}

function childTarget(dir: string, port: number, seeds: string[]): TargetHandle {
  let child: ChildProcess | undefined;
  const next = (type: string): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    const onMsg = (m: Record<string, unknown>): void => {
      if (m['type'] !== type) return;
      child!.off('message', onMsg);
      resolve(m);
    };
    child!.on('message', onMsg);
    child!.once('exit', (code) => reject(new Error(`the target process exited (${code}) before '${type}'`)));
  });
  return {
    async start() {
      child = fork(fileURLToPath(import.meta.url), ['--handoff-target', dir, String(port), ...seeds], { execArgv: ['--import', 'tsx'] });
      await next('listening');
    },
    async finish() {
      const done = next('result');
      child!.send({ type: 'finish' });
      const m = await done;
      await once(child!, 'exit');
      return m['result'] as TargetResult;
    },
    abort() {
      if (child && child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** The child's side: the target node alone, its CPU time counted from once it listens. */
async function runTargetChild(args: string[]): Promise<void> {
  const [dir, port, ...seeds] = args;
  const engine = await openEngine(dir!);
  const sb = await startOne(peer('b', seeds[1]!, 'r2'), engine, Number(port), seeds);
  const cpu0 = process.cpuUsage();
  const finish = new Promise<void>((resolve) => process.once('message', () => resolve()));
  process.send!({ type: 'listening' });
  await finish;
  const cpu = process.cpuUsage(cpu0);
  const result: TargetResult = { cpuSecs: (cpu.user + cpu.system) / 1e6, engine: engineSummary(engine), holdsKeys: holdsKeys(sb.runtime) };
  await sb.stop();
  process.send!({ type: 'result', result }, () => process.disconnect());
}

/** Writes `count` hint records for `target` into the stand-in's engine, as accepted hinted writes leave them. */
async function seedHints(dir: string, target: string, count: number, valueBytes: number): Promise<number> {
  const engine = await openEngine(dir);
  let stateBytes = 0;
  const batch: { key: Uint8Array; value: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    const value = new Uint8Array(valueBytes).fill(i & 0xff);
    const { state } = applyWrite(EMPTY_STATE, { coordinator: 'a', context: EMPTY_CONTEXT, value, contentType: 'application/octet-stream', tsMs: Date.now() });
    const enc = encodeState(state);
    stateBytes += enc.length;
    batch.push({ key: hintKey(target, i + 1), value: encodeHintRecord({ key: `bench-${i}`, tsMs: Date.now(), state: enc }) });
    if (batch.length === 1000) await engine.write(batch.splice(0));
  }
  if (batch.length > 0) await engine.write(batch);
  // The stand-in starts with its flushes and compactions caught up, as a node that has held
  // its hints for a while would: otherwise it compacts the 100 MB just written during the replay,
  // and its write controller (slowing writes while tables are unsettled) delays the hint
  // deletions of every acknowledgement, and the deliveries that go out in the same Ready.
  await engine.flush();
  await engine.idle();
  await engine.close();
  return stateBytes;
}

export async function runHandoffBench(hints = Number(process.env.GOSSAMER_BENCH_HINTS ?? 100_000)): Promise<void> {
  const valueBytes = 1024;
  const root = mkdtempSync(path.join(os.tmpdir(), 'gossamer-bench-handoff-'));
  const [pa, pb] = await freePorts(2);
  const seeds = [`127.0.0.1:${pa}`, `127.0.0.1:${pb}`];
  const dirA = path.join(root, 'a');
  const dirB = path.join(root, 'b');
  mkdirSync(dirA);
  mkdirSync(dirB);
  const processes = process.env.GOSSAMER_BENCH_HANDOFF_PROCESSES === '1' ? 1 : 2;
  let target: TargetHandle | undefined;
  // The engines' timers are unreferenced (SystemClock), so while the seeding engine waits on a
  // timed step of its background work nothing holds the event loop open and Node exits with 13
  // (unsettled top-level await): 3 of 6 runs did, mid-seed.
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    const stateBytes = await seedHints(dirA, 'b', hints, valueBytes);
    // The target listens first, so the stand-in reaches it at its first dial (no reconnect
    // backoff in the figure); the stand-in loads its hints synchronously in start(), and the
    // clock starts right after, before its first tick can send anything.
    target = processes === 1 ? inProcessTarget(dirB, pb!, seeds) : childTarget(dirB, pb!, seeds);
    await target.start();
    const standInEngine = await openEngine(dirA);
    const stopProfile = await profileFrom(process.env.GOSSAMER_BENCH_PROFILE);
    const sa = await startOne(peer('a', seeds[0]!, 'r1'), standInEngine, pa!, seeds);
    const t0 = performance.now();
    const loaded = sa.runtime.stats()?.hints.pendingTotal ?? 0;
    if (loaded !== hints) throw new Error(`the stand-in loaded ${loaded} hints, not ${hints}`);
    const cpu0 = process.cpuUsage();
    let last = hints;
    // When the first batch was acknowledged: what precedes it is start-up (link, ring), not rate.
    let firstAckMs: number | undefined;
    while ((sa.runtime.stats()?.hints.pendingTotal ?? last) > 0) {
      await sleep(20);
      last = sa.runtime.stats()?.hints.pendingTotal ?? last;
      if (firstAckMs === undefined && last < hints) firstAckMs = performance.now() - t0;
      if (performance.now() - t0 > 600_000) throw new Error(`replay stalled with ${last} hints pending`);
    }
    const secs = (performance.now() - t0) / 1000;
    // CPU time of both nodes (every thread of both processes): a figure contention does not
    // inflate the way it inflates wall time on a shared machine.
    const cpu = process.cpuUsage(cpu0);
    await stopProfile();
    const stats = sa.runtime.stats()!;
    const standIn = engineSummary(sa.engine);
    const tb = await target.finish();
    if (!tb.holdsKeys) throw new Error('the target does not hold the replayed keys');
    const cpuSecs = (cpu.user + cpu.system) / 1e6 + tb.cpuSecs;
    const engines = { standIn, target: tb.engine };
    await sa.stop();
    const mbPerSec = stateBytes / secs / 1e6;
    const result = {
      hints, valueBytes, stateBytes, processes, seconds: +secs.toFixed(2), firstAckSeconds: +((firstAckMs ?? 0) / 1000).toFixed(2), delivered: stats.hints.delivered, dropped: stats.hints.dropped,
      keysPerSec: Math.round(hints / secs), mbPerSec: +mbPerSec.toFixed(2),
      cpuSeconds: +cpuSecs.toFixed(2), cpuMsPer1kHints: +((cpuSecs * 1e6) / hints).toFixed(1),
      cassandraThrottleMbPerSec: +(CASSANDRA_THROTTLE_BYTES_PER_SEC / 1e6).toFixed(2),
      ratioToCassandraThrottle: +(stateBytes / secs / CASSANDRA_THROTTLE_BYTES_PER_SEC).toFixed(1),
      cpus: os.cpus().length, loadAverage: os.loadavg().map((x) => +x.toFixed(2)), engines,
    };
    console.log('| hints | value | processes | seconds | keys/s | MB/s | Cassandra throttle MB/s | ratio | CPU s (both nodes) | CPU ms per 1k hints |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    console.log(`| ${hints} | ${valueBytes} B | ${processes} | ${result.seconds} | ${result.keysPerSec} | ${result.mbPerSec} | ${result.cassandraThrottleMbPerSec} | ${result.ratioToCassandraThrottle}× | ${result.cpuSeconds} | ${result.cpuMsPer1kHints} |`);
    console.log(`first batch acknowledged after ${result.firstAckSeconds} s; load average ${result.loadAverage.join(' ')}; engines ${JSON.stringify(engines)}`);
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(new URL('./results/handoff.json', import.meta.url), JSON.stringify(result, null, 2));
  } finally {
    clearInterval(keepAlive);
    target?.abort();
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--handoff-target') await runTargetChild(process.argv.slice(3));
  else await runHandoffBench();
}
