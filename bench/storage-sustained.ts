/**
 * Sustained storage bench (issue 16): a put load that lasts, Gossamer's LSM engine beside
 * LevelDB (classic-level, sync: true) running the same load in the same run, each in its own
 * child process (so peak RSS is its own), on the same disk (os.tmpdir()).
 *
 *   npm run bench -- storage-sustained        (or: node --import tsx bench/storage-sustained.ts)
 *   BENCH_SUSTAINED_PUTS=2000000              puts per engine (default 2 million)
 *   BENCH_SUSTAINED_INTERVAL_S=10             reporting interval
 *   BENCH_SUSTAINED_GETS=200000               random gets of loaded keys after the load
 *   BENCH_SUSTAINED_ENGINES=gossamer          only these engines (default gossamer,leveldb)
 *   BENCH_SUSTAINED_COMPRESSOR=zlib           Gossamer with zlib's async calls instead of its worker compressor
 *   BENCH_SUSTAINED_MEMTABLE_MB=16            Gossamer with another memtable size (default: the engine's)
 *   BENCH_SUSTAINED_MERGE_MB=256              ... and another compaction mergeBytesMax (MiB)
 *   BENCH_SUSTAINED_COMPRESSIBLE=1            values that compress (~3×) instead of random bytes
 *
 * Load: fresh keys (4 random bytes, as Gossamer's keys start with their hash, then a counter),
 * incompressible 1 KiB values, 64 concurrent writers, every put durable (Gossamer `group`
 * commit, LevelDB `sync: true`). Printed per interval: puts/s, p99 latency, RSS, and the
 * event-loop delay (monitorEventLoopDelay: p99 and max, the sampling period taken off). At the end:
 * write amplification (bytes the engine wrote to disk / user bytes), space amplification
 * (bytes on disk / live user bytes), peak RSS; then gets of loaded keys on a data set far larger
 * than either engine's block cache. Results: bench/results/storage-sustained.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { seededRandom } from '../src/sim/prng.js';

const PUTS = Number(process.env.BENCH_SUSTAINED_PUTS ?? 2_000_000);
const INTERVAL_S = Number(process.env.BENCH_SUSTAINED_INTERVAL_S ?? 10);
const GETS = Number(process.env.BENCH_SUSTAINED_GETS ?? 200_000);
const ENGINES = (process.env.BENCH_SUSTAINED_ENGINES ?? 'gossamer,leveldb').split(',');
const COMPRESSIBLE = process.env.BENCH_SUSTAINED_COMPRESSIBLE === '1';
/** BENCH_SUSTAINED_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof': extra node flags for each engine's child. */
const NODE_ARGS = (process.env.BENCH_SUSTAINED_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const WRITERS = 64;
/** Sampling period of the event-loop delay monitor; each sample is this plus the delay. */
const LOOP_RESOLUTION_MS = 2;
const VALUE_BYTES = 1024;
const POOL_BYTES = 16 * 1024 * 1024;

/** Event-loop delay (ms beyond the sampling period): how long the loop could not run a timer. */
interface LoopLag { p99Ms: number; maxMs: number; utilization?: number }
interface Interval { second: number; putsPerSec: number; p99Ms: number; rssMB: number; loop: LoopLag }
interface EngineRun {
  engine: string;
  puts: number;
  seconds: number;
  putsPerSec: number;
  intervals: Interval[];
  lastOverFirst: number;
  /** Event-loop delay over the whole load phase. */
  loop: LoopLag;
  userBytes: number;
  diskBytes: number;
  writeAmplification: number;
  spaceAmplification: number;
  peakRssMB: number;
  /** cpuOverWall: CPU seconds (all threads) per wall second of the phase — above 1, reads ran in parallel. */
  gets: { ops: number; perSec: number; p99Ms: number; found: number; cpuOverWall: number; cpuUsPerGet: number; cacheHitRate?: number };
  extra?: unknown;
}

interface Db {
  put(k: Buffer, v: Buffer): Promise<void>;
  get(k: Buffer): Promise<Buffer | undefined> | Buffer | undefined;
  /** Bytes written to disk besides the user's (flushes, compactions), when known. */
  bytesWritten(): Promise<number>;
  close(): Promise<void>;
  extra(): Promise<unknown>;
  /** A short line of engine state for each interval (Gossamer: tables, debt, slowdowns, stalls; puts per group fsync and its latency, cumulative). */
  progress?(): string;
}

async function openDb(engine: string, dir: string): Promise<Db> {
  if (engine === 'leveldb') {
    const { ClassicLevel } = await import('classic-level');
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    // LevelDB's own compaction stats: Write(MB) per level (flushes to L0 included).
    const written = async (): Promise<number> => {
      const stats = await db.getProperty('leveldb.stats');
      let mb = 0;
      for (const line of stats.split('\n')) {
        const cols = line.trim().split(/\s+/);
        if (cols.length === 6 && /^\d+$/.test(cols[0]!)) mb += Number(cols[5]);
      }
      return mb * 1048576;
    };
    return {
      put: (k, v) => db.put(k, v, { sync: true }),
      get: (k) => db.get(k),
      bytesWritten: written,
      close: () => db.close(),
      extra: async () => ({ stats: await db.getProperty('leveldb.stats') }),
    };
  }
  const { openLsmEngine } = await import('../src/storage/lsm/index.js');
  const { nodeFileSystem } = await import('../src/adapters/node-fs.js');
  const { SystemClock } = await import('../src/adapters/system-clock.js');
  const lsm = await import('../src/storage/lsm/index.js');
  // BENCH_SUSTAINED_COMPRESSOR=zlib compares with zlib's own asynchronous calls (the former default).
  const compressor = process.env.BENCH_SUSTAINED_COMPRESSOR === 'zlib' ? lsm.zlibCompressor : lsm.workerCompressor();
  // BENCH_SUSTAINED_MEMTABLE_MB: try another memtable size (default: the engine's).
  const memtableMb = Number(process.env.BENCH_SUSTAINED_MEMTABLE_MB ?? 0);
  const mergeMb = Number(process.env.BENCH_SUSTAINED_MERGE_MB ?? 0);
  const db = await openLsmEngine({
    dir, fs: nodeFileSystem, sync: 'group', clock: new SystemClock(), compressor,
    ...(memtableMb > 0 ? { memtableBytes: memtableMb * 1048576 } : {}),
    ...(mergeMb > 0 ? { compaction: { mergeBytesMax: mergeMb * 1048576 } } : {}),
  });
  return {
    put: (k, v) => db.write([{ key: k, value: v }]),
    get: (k) => db.get(k) as Buffer | undefined,
    bytesWritten: async () => db.stats().bytesFlushed + db.stats().bytesCompacted,
    close: () => db.close(),
    progress: () => {
      const s = db.stats();
      return `tables ${s.tables} (settled ${s.settledTables}) debt ${(s.compactionDebtBytes / 1048576).toFixed(0)} MB ` +
        `running ${s.compactionsRunning} delayed ${s.delayedWrites} stalls ${s.stalls} WA ${s.writeAmplification.toFixed(2)} ` +
        `puts/fsync ${(s.userBytes / (28 + VALUE_BYTES) / Math.max(1, s.logSyncs)).toFixed(0)} fsync ${(s.logSyncMs / Math.max(1, s.logSyncs)).toFixed(2)} ms`;
    },
    extra: async () => {
      const { corruptions: _c, ...s } = db.stats();
      return s;
    },
  };
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) n += statSync(join(dir, name)).size;
  return n;
}

function p99(lat: number[]): number {
  if (lat.length === 0) return 0;
  const s = Float64Array.from(lat).sort();
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

function lagOf(h: IntervalHistogram): LoopLag {
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  return h.count === 0 ? { p99Ms: 0, maxMs: 0 } : { p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
}

function keyOf(i: number, salt: number): Buffer {
  const k = Buffer.allocUnsafe(16);
  k.writeUInt32BE(Math.imul(i ^ salt, 2654435761) >>> 0, 0);
  k.write(String(i).padStart(12, '0'), 4, 'latin1');
  return k;
}

async function loadPhase(db: Db, pool: Buffer, log: (s: string) => void): Promise<{ seconds: number; intervals: Interval[]; loop: LoopLag }> {
  const intervals: Interval[] = [];
  const whole = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const part = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  whole.enable();
  part.enable();
  const elu0 = performance.eventLoopUtilization();
  let next = 0;
  let done = 0;
  let lat: number[] = [];
  const t0 = performance.now();
  let mark = t0;
  let markDone = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const it: Interval = {
      second: Math.round((now - t0) / 1000), putsPerSec: ((done - markDone) * 1000) / (now - mark),
      p99Ms: p99(lat), rssMB: process.memoryUsage.rss() / 1048576, loop: lagOf(part),
    };
    part.reset();
    intervals.push(it);
    log(`  ${String(it.second).padStart(4)} s  ${it.putsPerSec.toFixed(0).padStart(7)} puts/s  p99 ${it.p99Ms.toFixed(1).padStart(7)} ms  ` +
      `loop lag p99 ${it.loop.p99Ms.toFixed(1)} max ${it.loop.maxMs.toFixed(1)} ms  RSS ${it.rssMB.toFixed(0)} MB  ${db.progress?.() ?? ''}`);
    lat = [];
    mark = now;
    markDone = done;
  }, INTERVAL_S * 1000);
  const writer = async (): Promise<void> => {
    while (next < PUTS) {
      const i = next++;
      const off = (i * 1031) % (POOL_BYTES - VALUE_BYTES);
      const s = performance.now();
      await db.put(keyOf(i, 0x5bd1e995), pool.subarray(off, off + VALUE_BYTES));
      lat.push(performance.now() - s);
      done++;
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
  clearInterval(timer);
  whole.disable();
  part.disable();
  return { seconds: (performance.now() - t0) / 1000, intervals, loop: { ...lagOf(whole), utilization: performance.eventLoopUtilization(elu0).utilization } };
}

async function getPhase(db: Db): Promise<EngineRun['gets']> {
  const r = seededRandom(9);
  const lat: number[] = [];
  let found = 0;
  let next = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const worker = async (): Promise<void> => {
    while (next < GETS) {
      next++;
      const k = keyOf(Math.floor(r() * PUTS), 0x5bd1e995);
      const s = performance.now();
      let v = db.get(k);
      if (v instanceof Promise) v = await v;
      lat.push(performance.now() - s);
      if (v !== undefined) found++;
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = cpu.user + cpu.system;
  return { ops: GETS, perSec: GETS / seconds, p99Ms: p99(lat), found, cpuOverWall: cpuUs / 1e6 / seconds, cpuUsPerGet: cpuUs / GETS };
}

async function child(engine: string, dir: string): Promise<void> {
  const log = (s: string): void => {
    process.stderr.write(`[${engine}] ${s}\n`);
  };
  const r = seededRandom(42);
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  if (COMPRESSIBLE) for (let i = 0; i < POOL_BYTES; i++) pool[i] = 97 + Math.floor(r() * 8);
  else for (let i = 0; i < POOL_BYTES; i += 4) pool.writeUInt32LE(Math.floor(r() * 0x1_0000_0000), i);
  const db = await openDb(engine, dir);
  log(`${PUTS} puts of ${VALUE_BYTES} B, ${WRITERS} writers`);
  const load = await loadPhase(db, pool, log);
  const gets = await getPhase(db);
  log(`gets: ${gets.perSec.toFixed(0)}/s, p99 ${gets.p99Ms.toFixed(2)} ms, found ${gets.found}/${gets.ops}, CPU/wall ${gets.cpuOverWall.toFixed(2)}, CPU ${gets.cpuUsPerGet.toFixed(1)} µs/get`);
  const userBytes = PUTS * (16 + VALUE_BYTES);
  // The commit log (or LevelDB's log) writes every user byte once more.
  const writeAmplification = (userBytes + (await db.bytesWritten())) / userBytes;
  const extra = await db.extra();
  const diskBytes = dirBytes(dir);
  await db.close();
  const iv = load.intervals;
  const result: EngineRun = {
    engine, puts: PUTS, seconds: load.seconds, putsPerSec: PUTS / load.seconds, intervals: iv,
    lastOverFirst: iv.length >= 2 ? iv[iv.length - 1]!.putsPerSec / iv[0]!.putsPerSec : 1, loop: load.loop,
    userBytes, diskBytes, writeAmplification, spaceAmplification: diskBytes / userBytes,
    peakRssMB: process.resourceUsage().maxRSS / 1024, gets, extra,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(engine: string, dir: string): Promise<EngineRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...NODE_ARGS, '--import', 'tsx', import.meta.filename, '--child', engine, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${engine} child exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as EngineRun);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

export async function runSustainedStorageBench(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'gossamer-bench-sustained-'));
  const loadBefore = loadavg();
  try {
    console.log(`sustained storage bench: ${PUTS} durable puts of ${VALUE_BYTES} B ${COMPRESSIBLE ? 'compressible' : 'incompressible'} values, fresh keys, ${WRITERS} writers, then ${GETS} gets`);
    const runs: EngineRun[] = [];
    for (const engine of ENGINES) {
      const dir = join(base, engine);
      mkdirSync(dir, { recursive: true });
      runs.push(await runChild(engine, dir));
      rmSync(dir, { recursive: true, force: true });
    }
    for (const r of runs) {
      console.log(`${r.engine.padEnd(9)} ${r.putsPerSec.toFixed(0).padStart(7)} puts/s over ${r.seconds.toFixed(0)} s (last/first interval ${r.lastOverFirst.toFixed(2)}), ` +
        `loop lag p99 ${r.loop.p99Ms.toFixed(1)} ms max ${r.loop.maxMs.toFixed(1)} ms busy ${((r.loop.utilization ?? 0) * 100).toFixed(0)}%, ` +
        `WA ${r.writeAmplification.toFixed(2)}, SA ${r.spaceAmplification.toFixed(2)}, peak RSS ${r.peakRssMB.toFixed(0)} MB, ` +
        `gets ${r.gets.perSec.toFixed(0)}/s (p99 ${r.gets.p99Ms.toFixed(2)} ms, CPU/wall ${r.gets.cpuOverWall.toFixed(2)}, ${r.gets.cpuUsPerGet.toFixed(1)} CPU µs/get)`);
    }
    const g = runs.find((r) => r.engine === 'gossamer');
    const l = runs.find((r) => r.engine === 'leveldb');
    // getsPerCpu: gets per CPU-second (all threads), Gossamer's over LevelDB's: the comparison that
    // does not depend on how many threads each may run on a shared machine.
    const ratios = g && l ? {
      puts: g.putsPerSec / l.putsPerSec, gets: g.gets.perSec / l.gets.perSec,
      getsPerCpu: l.gets.cpuUsPerGet / g.gets.cpuUsPerGet, rss: g.peakRssMB / l.peakRssMB,
    } : undefined;
    if (ratios) {
      console.log(`ratios (gossamer / leveldb): puts ${ratios.puts.toFixed(2)}× (goal ≥ 2), gets ${ratios.gets.toFixed(2)}× (goal ≥ 1), ` +
        `gets per CPU-second ${ratios.getsPerCpu.toFixed(2)}×, peak RSS ${ratios.rss.toFixed(2)}×`);
    }
    console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const outDir = join(import.meta.dirname, 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'storage-sustained.json'), `${JSON.stringify({
      suite: 'storage-sustained', command: 'npm run bench -- storage-sustained', date: new Date().toISOString(),
      node: process.version, loadAverage: { before: loadBefore, after: loadavg() },
      config: { puts: PUTS, writers: WRITERS, valueBytes: VALUE_BYTES, gets: GETS, intervalS: INTERVAL_S }, runs, ratios,
    }, null, 2)}\n`);
    console.log('wrote bench/results/storage-sustained.json');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

const argv = process.argv;
if (argv[2] === '--child' && argv[3] && argv[4]) {
  await child(argv[3], argv[4]);
} else if (argv[1] && import.meta.url === pathToFileURL(argv[1]).href) {
  await runSustainedStorageBench();
}
