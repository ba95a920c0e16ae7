/**
 * Anti-entropy cost: two replicas of one key range, one missing a share of the keys (scattered at
 * random), converge through one exchange per partition. Both are the real core `Node`s in this
 * process, over in-memory stores; every message is encoded with the real wire codec (msgpackr)
 * and its bytes counted. Reported: time to converge (CPU time of both sides plus encoding; no
 * network latency) and the bytes exchanged, against the minimum — the missing records alone —
 * and the identical case (roots only).
 *
 *   npm run bench -- antientropy
 *   GOSSAMER_BENCH_AE_KEYS=1000000 npm run bench -- antientropy     (the size; ~2.5 GB of RAM)
 *
 * Goal (issue 11): ≤ 10 s and ≤ 1.5× the minimum bytes. Results: bench/results/antientropy.json.
 */
import { mulberry32 } from '../src/core/ring/classic.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { Node } from '../src/core/node.js';
import { createRing, keyHash } from '../src/core/ring/index.js';
import { EMPTY_STATE, applyWrite, decodeState, encodeState } from '../src/core/clock/state.js';
import { EMPTY_CONTEXT } from '../src/core/clock/context.js';
import { dataKeyFromBytes } from '../src/core/keys.js';
import { encodePayload } from '../src/codec/frame.js';
import type { Message, StorePage, StorePageOptions, StoreReader } from '../src/core/types.js';
import { pageFromScan } from '../src/storage/scan-page.js';
import { BTree, latin1Range } from '../src/storage/btree.js';

/**
 * An in-memory store whose values live in large shared slabs (one `ArrayBuffer` per 32 MiB), the
 * way an engine keeps records in blocks, not one heap object per record: 2M separately allocated
 * 1 KB buffers make every full GC walk 2M backing stores, a cost no real engine has.
 */
class MapReader implements StoreReader {
  /** Sorted, as an engine's keys are: a range read costs its range (anti-entropy reads leaves' key names). */
  readonly m = new BTree<string, Uint8Array>();
  private slab = new Uint8Array(0);
  private slabUsed = 0;
  private static readonly SLAB_BYTES = 32 * 1024 * 1024;
  get(key: Uint8Array): Uint8Array | undefined {
    return this.m.get(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'));
  }
  set(key: Uint8Array, v: Uint8Array | null): void {
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    if (v === null) {
      this.m.delete(k);
      return;
    }
    if (this.slabUsed + v.length > this.slab.length) {
      this.slab = new Uint8Array(Math.max(MapReader.SLAB_BYTES, v.length));
      this.slabUsed = 0;
    }
    const copy = this.slab.subarray(this.slabUsed, this.slabUsed + v.length);
    copy.set(v);
    this.slabUsed += v.length;
    this.m.set(k, copy);
  }
  scanPage(o: StorePageOptions): StorePage {
    return pageFromScan((r) => [...latin1Range(this.m, r)].map(([k, v]): [Uint8Array, Uint8Array] => [new Uint8Array(Buffer.from(k, 'latin1')), v]), o);
  }
}

interface Side { node: Node; store: MapReader }

function mulberry(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 2 ** 32;
}

function makeSides(partitions: number): [Side, Side] {
  const ring = createRing([{ nodeId: 'a', dc: 'dc1', rack: 'r1', weight: 1 }, { nodeId: 'b', dc: 'dc1', rack: 'r2', weight: 1 }], { partitionCount: partitions, n: 2 });
  const mk = (id: string): Side => {
    const store = new MapReader();
    const node = new Node({ nodeId: id, ring, n: 2, tickMs: 10, requestTimeoutMs: 1000, defaultR: 'quorum', defaultW: 'quorum',
      // The node's default throttle (2 exchanges at once, 32 MiB/s); only the periodic rounds are off.
      antiEntropy: { intervalTicks: 1e9, ...(process.env.GOSSAMER_BENCH_AE_UNTHROTTLED ? { concurrentExchangesMax: 64, bytesPerSecondMax: 1e12, bytesPerSecondMin: 1e12 } : {}) } }, store);
    return { node, store };
  };
  return [mk('a'), mk('b')];
}

/** Stores `keys` 1 KB records at both sides, except `missing` (absent at b); feeds both trees. */
function load(sides: [Side, Side], keys: number, missing: ReadonlySet<number>): number {
  let missingBytes = 0;
  for (const s of sides) s.node.antiEntropy.beginLoad();
  const value = new Uint8Array(1024);
  for (let i = 0; i < keys; i++) {
    const key = `key-${i.toString().padStart(8, '0')}`;
    value[0] = i & 0xff; value[1] = (i >>> 8) & 0xff; value[2] = (i >>> 16) & 0xff;
    const { state } = applyWrite(EMPTY_STATE, { coordinator: 'a', context: EMPTY_CONTEXT, value, contentType: 'application/octet-stream', tsMs: 1_700_000_000_000 });
    const bytes = encodeState(state);
    const kb = Buffer.from(key);
    const hash = keyHash(kb);
    const sk = dataKeyFromBytes(kb, hash);
    sides[0].store.set(sk, bytes);
    sides[0].node.antiEntropy.load(key, hash, bytes);
    if (missing.has(i)) {
      missingBytes += bytes.length + kb.length;
      continue;
    }
    sides[1].store.set(sk, bytes);
    sides[1].node.antiEntropy.load(key, hash, bytes);
  }
  for (const s of sides) s.node.antiEntropy.finishLoad();
  return missingBytes;
}

let clockTicks = 0;

/** Runs a repair at `a` until it ends, delivering every message; returns wire bytes and time. */
function converge(sides: [Side, Side]): { bytes: number; ms: number; cpuMs: number; ticks: number; messages: number; progress: ReturnType<Node['antiEntropy']['progress']> } {
  const byId: Record<string, Side> = { a: sides[0], b: sides[1] };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  let messages = 0;
  let tick = 0;
  sides[0].node.antiEntropy.repair();
  for (; tick < 1_000_000 && sides[0].node.antiEntropy.progress().running; tick++) {
    for (const s of sides) s.node.tick(1_700_000_000_000 + (clockTicks++) * 10);
    let moved = true;
    while (moved) {
      moved = false;
      for (const [id, s] of Object.entries(byId)) {
        while (s.node.hasReady()) {
          const rd = s.node.ready();
          for (const w of rd.writes) s.store.set(w.key, w.value);
          s.node.advance(rd);
          for (const m of rd.messages) {
            bytes += encodePayload({ from: id, to: m.to, msg: m.msg }).length;
            messages++;
            byId[m.to]!.node.step(id, m.msg as Message);
            moved = true;
          }
        }
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { bytes, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, ticks: tick, messages, progress: sides[0].node.antiEntropy.progress() };
}

/** Runs `f`, and sums the garbage collector's pauses that began while it ran. */
async function gcDuring<T>(f: () => T): Promise<{ result: T; gcMs: number }> {
  let gcMs = 0;
  let t0 = Infinity;
  let t1 = Infinity;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.startTime >= t0 && e.startTime <= t1) gcMs += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
  // GOSSAMER_BENCH_AE_PROFILE=dir: a V8 CPU profile of the converge phase alone (bench/profile-summary.ts reads it).
  const profileDir = process.env.GOSSAMER_BENCH_AE_PROFILE;
  const session = profileDir ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  t0 = performance.now();
  const result = f();
  t1 = performance.now();
  if (session && profileDir) {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(profileDir, { recursive: true });
    writeFileSync(`${profileDir}/converge-${Date.now()}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
  await new Promise((r) => setTimeout(r, 50)); // the observer's entries arrive asynchronously
  obs.disconnect();
  return { result, gcMs };
}

/** Makes `which` keys newer at b (a write over b's state, so it dominates a's); returns their bytes. */
function makeNewerAtB(sides: [Side, Side], which: ReadonlySet<number>): number {
  const b = sides[1];
  let bytes = 0;
  const value = new Uint8Array(1024).fill(0xee);
  b.node.antiEntropy.beginLoad();
  for (const i of which) {
    const key = `key-${i.toString().padStart(8, '0')}`;
    const kb = Buffer.from(key);
    const hash = keyHash(kb);
    const sk = dataKeyFromBytes(kb, hash);
    const old = decodeState(b.store.get(sk)!);
    const { state } = applyWrite(old, { coordinator: 'b', context: old.context, value, contentType: 'application/octet-stream', tsMs: 1_700_000_001_000 });
    const enc = encodeState(state);
    b.store.set(sk, enc);
    b.node.antiEntropy.load(key, hash, enc);
    bytes += enc.length + kb.length;
  }
  b.node.antiEntropy.finishLoad();
  return bytes;
}

async function measure(label: string, sides: [Side, Side], keys: number, differing: number, minimum: number, partitions: number): Promise<Record<string, unknown>> {
  const gc = await gcDuring(() => converge(sides));
  const r = gc.result;
  const equal = Array.from({ length: partitions }, (_, p) => sides[0].node.antiEntropy.root(p) === sides[1].node.antiEntropy.root(p)).every(Boolean);
  if (!equal) throw new Error(`${label}: roots differ after the repair`);
  return {
    case: label, keys, differing, convergeMs: Math.round(r.ms), cpuMs: Math.round(r.cpuMs), gcMs: Math.round(gc.gcMs),
    ticks: r.ticks, bytes: r.bytes, minimumBytes: minimum, ratio: minimum > 0 ? +(r.bytes / minimum).toFixed(3) : null,
    messages: r.messages, exchanges: r.progress.total, keysRepaired: r.progress.keysRepaired, rootsEqual: equal,
  };
}

/**
 * One pair of replicas, loaded once, three cases in turn: b lacks 1% of the keys; then the two
 * are identical (roots only); then b holds a newer version of another 1% (a must pull them).
 */
export async function runAntiEntropyBench(): Promise<unknown> {
  const keys = Number(process.env.GOSSAMER_BENCH_AE_KEYS ?? 100_000);
  const partitions = 1024;
  const rnd = mulberry(42);
  const pick = (): Set<number> => {
    const out = new Set<number>();
    while (out.size < Math.round(keys / 100)) out.add(Math.floor(rnd() * keys));
    return out;
  };
  const missing = pick();
  const sides = makeSides(partitions);
  const tLoad = performance.now();
  const minimum = load(sides, keys, missing);
  const loadMs = Math.round(performance.now() - tLoad);
  const rows: Record<string, unknown>[] = [];
  rows.push(await measure('1% missing at b', sides, keys, missing.size, minimum, partitions));
  rows.push(await measure('identical', sides, keys, 0, 0, partitions));
  const newer = pick();
  rows.push(await measure('1% newer at b', sides, keys, newer.size, makeNewerAtB(sides, newer), partitions));
  console.table(rows);
  console.log(`load of both replicas: ${loadMs} ms. tickMs 10: ticks × 10 ms is the throttle's floor in a real process (the bench does not wait between ticks).`);
  console.log('goal: converge ≤ 10 s, bytes ≤ 1.5× the minimum (the differing records alone). Provisional on a shared machine.');
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/antientropy.json', JSON.stringify({ when: new Date().toISOString(), loadMs, rows }, null, 2));
  return rows;
}
