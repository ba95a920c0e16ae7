/**
 * Storage benchmark: Gossamer's LSM engine against LevelDB (classic-level), side by side in
 * one run, on the same disk, both durable (Gossamer `group` commit; LevelDB `sync: true`),
 * 64 concurrent writers. Each engine runs in its own child process so peak RSS is its own.
 *
 *   npm run bench -- storage            (or: node --import tsx bench/storage.ts)
 *   BENCH_STORAGE_SCALE=0.5 ...          scales every op count
 *   BENCH_STORAGE_CACHE_MIB=8 ...        Gossamer's block cache (default 32 MiB)
 *
 * Phases: random puts of 100-byte values over 200k keys; random gets over the same keys; a
 * run of random 1 KiB puts. Results: bench/results/storage.json; figures in docs/storage.md.
 */
import { seededRandom } from '../src/sim/prng.js';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants as zc, deflateRawSync, inflateRawSync } from 'node:zlib';

const KEYSPACE = 200_000;
const CONCURRENCY = 64;
const scale = Number(process.env.BENCH_STORAGE_SCALE ?? '1');
const OPS = {
  put100: Math.round(120_000 * scale),
  get: Math.round(200_000 * scale),
  put1k: Math.round(40_000 * scale),
};

interface PhaseResult { ops: number; seconds: number; opsPerSec: number; p50Ms: number; p99Ms: number; hits?: number }
interface EngineResult { engine: string; phases: Record<string, PhaseResult>; peakRssMB: number; diskBytes?: number; extra?: unknown }

interface Adapter {
  put(key: Buffer, value: Buffer): Promise<void>;
  get(key: Buffer): Promise<Buffer | undefined> | Buffer | undefined;
  close(): Promise<void>;
  extra?(): unknown;
}

const rng = seededRandom;

const keyOf = (n: number): Buffer => Buffer.from(`user:${String(n).padStart(10, '0')}`);

function randomValue(r: () => number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function phase(ops: number, op: (i: number) => Promise<unknown> | unknown): Promise<PhaseResult & { results: unknown[] }> {
  const lat = new Float64Array(ops);
  let next = 0;
  let hits = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < ops) {
      const i = next++;
      const s = performance.now();
      // A synchronous op (Gossamer's get) is timed as the call itself; awaiting it would add
      // the other workers' turns to its latency.
      let r = op(i);
      if (r instanceof Promise) r = await r;
      lat[i] = performance.now() - s;
      if (r !== undefined) hits++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - t0) / 1000;
  lat.sort();
  return { ops, seconds, opsPerSec: ops / seconds, p50Ms: percentile(lat, 0.5), p99Ms: percentile(lat, 0.99), hits, results: [] };
}

async function openAdapter(engine: string, dir: string): Promise<Adapter> {
  if (engine === 'leveldb') {
    const { ClassicLevel } = await import('classic-level');
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return {
      put: (k, v) => db.put(k, v, { sync: true }),
      get: (k) => db.get(k),
      close: () => db.close(),
    };
  }
  const { openLsmEngine } = await import('../src/storage/lsm/index.js');
  const { nodeFileSystem } = await import('../src/adapters/node-fs.js');
  const { SystemClock } = await import('../src/adapters/system-clock.js');
  const cacheMiB = process.env.BENCH_STORAGE_CACHE_MIB;
  const db = await openLsmEngine({
    dir, fs: nodeFileSystem, sync: 'group', clock: new SystemClock(),
    ...(cacheMiB ? { blockCacheBytes: Number(cacheMiB) * 1024 * 1024 } : {}),
  });
  return {
    put: (k, v) => db.write([{ key: k, value: v }]),
    get: (k) => db.get(k) as Buffer | undefined,
    close: () => db.close(),
    extra: () => {
      const s = db.stats();
      return { tables: s.tables, flushes: s.flushes, compactions: s.compactions, logSyncs: s.logSyncs, tableBytes: s.tableBytes, blockCacheHits: s.blockCacheHits, blockCacheMisses: s.blockCacheMisses, stalls: s.stalls };
    },
  };
}

/** Runs in the child: one engine, all phases; prints the result as JSON on the last line. */
async function child(engine: string, dir: string): Promise<void> {
  const db = await openAdapter(engine, dir);
  const r = rng(42);
  const phases: Record<string, PhaseResult> = {};
  const strip = (p: PhaseResult & { results: unknown[] }): PhaseResult => {
    const { results: _r, ...rest } = p;
    return rest;
  };
  const putKeys = Array.from({ length: OPS.put100 }, () => Math.floor(r() * KEYSPACE));
  const vals100 = Array.from({ length: 1024 }, () => randomValue(r, 100));
  const put = await phase(OPS.put100, (i) => db.put(keyOf(putKeys[i]!), vals100[i & 1023]!));
  phases.put100 = strip(put);
  delete phases.put100.hits;
  const getKeys = Array.from({ length: OPS.get }, () => putKeys[Math.floor(r() * putKeys.length)]!);
  const get = await phase(OPS.get, (i) => db.get(keyOf(getKeys[i]!)));
  phases.get = strip(get);
  const vals1k = Array.from({ length: 256 }, () => randomValue(r, 1024));
  const put1k = await phase(OPS.put1k, (i) => db.put(keyOf(Math.floor(r() * KEYSPACE)), vals1k[i & 255]!));
  phases.put1k = strip(put1k);
  delete phases.put1k.hits;
  const extra = db.extra?.();
  await db.close();
  const result: EngineResult = { engine, phases, peakRssMB: process.resourceUsage().maxRSS / 1024, extra };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(engine: string, dir: string): Promise<EngineResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', engine, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${engine} bench child exited with ${code}`));
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as EngineResult);
      } catch (err) {
        reject(err);
      }
    });
  });
}

type CodecFigures = Record<string, Record<string, { ratio: number; compressMBs: number; decompressMBs: number }>>;

/**
 * Block codec candidates on 4 KiB blocks of sorted records (what SSTable blocks hold), for two
 * kinds of values: JSON-like and random bytes. Best of 3 rounds (the machine is shared).
 */
function codecBench(): CodecFigures {
  const r = rng(7);
  const makeBlock = (textual: boolean): Buffer => {
    const parts: Buffer[] = [];
    let size = 0;
    let n = Math.floor(r() * 1e6);
    while (size < 4096) {
      n += 1 + Math.floor(r() * 5);
      const key = keyOf(n);
      const value = textual
        ? Buffer.from(JSON.stringify({ v: n, clock: [['node-a', n % 97], ['node-b', n % 13]], ts: 1_700_000_000_000 + n, body: `item ${n} status ok` }))
        : randomValue(r, 100);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(key.length, 0);
      head.writeUInt32LE(value.length, 4);
      parts.push(head, key, value);
      size += 8 + key.length + value.length;
    }
    return Buffer.concat(parts);
  };
  const codecs: Record<string, [(b: Buffer) => Buffer, (b: Buffer) => Buffer]> = {
    'deflate-raw level 1 (engine)': [(b) => deflateRawSync(b, { level: 1 }), (b) => inflateRawSync(b)],
    'deflate-raw level 6': [(b) => deflateRawSync(b, { level: 6 }), (b) => inflateRawSync(b)],
    'brotli quality 1': [
      (b) => brotliCompressSync(b, { params: { [zc.BROTLI_PARAM_QUALITY]: 1, [zc.BROTLI_PARAM_SIZE_HINT]: b.length } }),
      (b) => brotliDecompressSync(b),
    ],
  };
  const out: CodecFigures = {};
  for (const kind of ['json-like', 'random'] as const) {
    const blocks = Array.from({ length: 1000 }, () => makeBlock(kind === 'json-like'));
    const raw = blocks.reduce((s, b) => s + b.length, 0);
    const figures: CodecFigures[string] = {};
    for (let round = 0; round < 3; round++) {
      for (const [name, [c, d]] of Object.entries(codecs)) {
        let t = performance.now();
        const packed = blocks.map(c);
        const ct = performance.now() - t;
        t = performance.now();
        for (const p of packed) d(p);
        const dt = performance.now() - t;
        const prev = figures[name];
        figures[name] = {
          ratio: raw / packed.reduce((s, b) => s + b.length, 0),
          compressMBs: Math.max(prev?.compressMBs ?? 0, raw / 1e3 / ct),
          decompressMBs: Math.max(prev?.decompressMBs ?? 0, raw / 1e3 / dt),
        };
      }
    }
    out[kind] = figures;
  }
  return out;
}

export async function runStorageBench(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'gossamer-bench-storage-'));
  try {
    console.log(`storage bench: ${CONCURRENCY} concurrent writers, durable (Gossamer group commit, LevelDB sync:true), ` +
      `keyspace ${KEYSPACE}, ops put100=${OPS.put100} get=${OPS.get} put1k=${OPS.put1k} (scale ${scale})`);
    const loadBefore = loadavg();
    const codecs = codecBench();
    const results: EngineResult[] = [];
    for (const engine of ['gossamer', 'leveldb']) {
      const dir = join(base, engine);
      mkdirSync(dir, { recursive: true });
      const r = await runChild(engine, dir);
      results.push(r);
    }
    const [g, l] = results as [EngineResult, EngineResult];
    const ratio = (phaseName: string): number => g.phases[phaseName]!.opsPerSec / l.phases[phaseName]!.opsPerSec;
    const ratios = { put100: ratio('put100'), get: ratio('get'), put1k: ratio('put1k'), rss: g.peakRssMB / l.peakRssMB };
    const rows: string[][] = [['phase', 'engine', 'ops/s', 'p50 ms', 'p99 ms']];
    for (const name of ['put100', 'get', 'put1k']) {
      for (const r of results) {
        const p = r.phases[name]!;
        rows.push([name, r.engine, p.opsPerSec.toFixed(0), p.p50Ms.toFixed(3), p.p99Ms.toFixed(3)]);
      }
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
    console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`peak RSS: gossamer ${g.peakRssMB.toFixed(0)} MB, leveldb ${l.peakRssMB.toFixed(0)} MB`);
    console.log(`ratios (gossamer / leveldb): puts 100 B ${ratios.put100.toFixed(2)}×  gets ${ratios.get.toFixed(2)}×  ` +
      `puts 1 KiB ${ratios.put1k.toFixed(2)}×  (goals: puts ≥ 1.0×, gets ≥ 0.8×)`);
    console.log('block codecs on 4 KiB blocks of sorted records (best of 3):');
    for (const [kind, figures] of Object.entries(codecs)) {
      for (const [name, c] of Object.entries(figures)) {
        console.log(`  ${kind.padEnd(10)} ${name.padEnd(30)} ratio ${c.ratio.toFixed(2)}  compress ${c.compressMBs.toFixed(0)} MB/s  decompress ${c.decompressMBs.toFixed(0)} MB/s`);
      }
    }
    const json = {
      suite: 'storage',
      command: 'npm run bench -- storage',
      date: new Date().toISOString(),
      node: process.version,
      // The machine is shared: the load average says how quiet it was.
      loadAverage: { before: loadBefore, after: loadavg() },
      config: { keyspace: KEYSPACE, concurrency: CONCURRENCY, ops: OPS, scale },
      results,
      ratios,
      goals: { put100: 1.0, get: 0.8 },
      codecs,
    };
    const outDir = join(import.meta.dirname, 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'storage.json'), `${JSON.stringify(json, null, 2)}\n`);
    console.log('wrote bench/results/storage.json');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

const argv = process.argv;
if (argv[2] === '--codecs') {
  console.log(codecBench());
} else if (argv[2] === '--child' && argv[3] && argv[4]) {
  await child(argv[3], argv[4]);
} else if (argv[1] && import.meta.url === pathToFileURL(argv[1]).href) {
  await runStorageBench();
}
