/**
 * Inter-node payload codecs, measured side by side on the same messages in the same run:
 *   - msgpackr, plain mode (what src/codec/frame.ts uses)
 *   - JSON with base64 for byte fields (no dependency)
 *   - @msgpack/msgpack, when it resolves (not a project dependency: point
 *     GOSSAMER_BENCH_MSGPACK at its ESM entry, e.g. an install under /tmp, to include it)
 *
 *   node --import tsx bench/codec.ts
 *   GOSSAMER_BENCH_MSGPACK=/tmp/codec-cand/node_modules/@msgpack/msgpack/dist.esm/index.mjs node --import tsx bench/codec.ts
 */
import { pathToFileURL } from 'node:url';
import { Packr } from 'msgpackr';
import { decodePayload, encodePayload } from '../src/codec/frame.js';
import { createTcpTransport } from '../src/adapters/tcp-transport.js';

export interface CodecResult {
  codec: string;
  message: string;
  bytes: number;
  encodePerSec: number;
  decodePerSec: number;
}

interface Codec {
  name: string;
  encode(v: unknown): Uint8Array;
  decode(b: Uint8Array): unknown;
}

const MEASURE_MS = 300;

function measure(fn: () => void): number {
  for (let i = 0; i < 2_000; i++) fn(); // warm-up
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MEASURE_MS) {
    for (let i = 0; i < 500; i++) fn();
    ops += 500;
    elapsed = performance.now() - start;
  }
  return Math.round((ops / elapsed) * 1000);
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed) & 0xff;
  return b;
}

/** Shapes like the core's: a replica read, a replica write with a 1 KiB value, a 64 KiB value. */
function messages(): Array<{ name: string; envelope: unknown[] }> {
  const ctx = { dots: [['node-1', 17], ['node-2', 4]], clock: [['node-1', 17], ['node-2', 9], ['node-3', 2]] };
  return [
    { name: 'get (small)', envelope: [1, 'node-1', 'node-2', { type: 'replica_get', reqId: 123456, key: 'user:42:profile', partition: 517 }] },
    { name: 'put 1 KiB', envelope: [1, 'node-1', 'node-2', { type: 'replica_put', reqId: 123457, key: 'user:42:profile', partition: 517, context: ctx, value: bytes(1024, 1), contentType: 'application/octet-stream', ts: 1_700_000_000_000 }] },
    { name: 'put 64 KiB', envelope: [1, 'node-1', 'node-2', { type: 'replica_put', reqId: 123458, key: 'blob:9', partition: 3, context: ctx, value: bytes(65536, 2), ts: 1_700_000_000_000 }] },
  ];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const jsonBase64: Codec = {
  name: 'JSON + base64',
  encode: (v) => encoder.encode(JSON.stringify(v, (_k, x: unknown) =>
    x instanceof Uint8Array ? { $b: Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64') } : x)),
  decode: (b) => JSON.parse(decoder.decode(b), (_k, x: unknown) =>
    (typeof x === 'object' && x !== null && typeof (x as { $b?: unknown }).$b === 'string'
      ? new Uint8Array(Buffer.from((x as { $b: string }).$b, 'base64')) : x)),
};

const msgpackrPlain: Codec = { name: 'msgpackr (plain)', encode: encodePayload, decode: decodePayload };

/** The same without `copyBuffers`: byte fields are views into the frame (what copying costs). */
const viewsPackr = new Packr({ useRecords: false, mapsAsObjects: true });
const msgpackrViews: Codec = { name: 'msgpackr (no copy)', encode: (v) => viewsPackr.pack(v), decode: (b) => viewsPackr.unpack(b) };

async function optionalMsgpack(): Promise<Codec | undefined> {
  const spec = process.env['GOSSAMER_BENCH_MSGPACK'] ?? '@msgpack/msgpack';
  try {
    const mod = (await import(spec.startsWith('/') ? pathToFileURL(spec).href : spec)) as {
      encode(v: unknown): Uint8Array; decode(b: Uint8Array): unknown;
    };
    return { name: '@msgpack/msgpack', encode: (v) => mod.encode(v), decode: (b) => mod.decode(b) };
  } catch {
    return undefined;
  }
}

export async function runCodecBench(): Promise<CodecResult[]> {
  const codecs = [msgpackrPlain, msgpackrViews, jsonBase64];
  const extra = await optionalMsgpack();
  if (extra) codecs.push(extra);
  const results: CodecResult[] = [];
  for (const { name, envelope } of messages()) {
    for (const codec of codecs) {
      const encoded = codec.encode(envelope);
      // Sanity: the byte field survives the round trip as bytes.
      const back = codec.decode(encoded) as unknown[];
      const msg = back[3] as { value?: unknown };
      if (msg.value !== undefined && !(msg.value instanceof Uint8Array)) throw new Error(`${codec.name} lost the bytes type`);
      results.push({
        codec: codec.name,
        message: name,
        bytes: encoded.length,
        encodePerSec: measure(() => codec.encode(envelope)),
        decodePerSec: measure(() => codec.decode(encoded)),
      });
    }
  }
  return results;
}

function printTable(results: CodecResult[]): void {
  const base = new Map(results.filter((r) => r.codec === msgpackrPlain.name).map((r) => [r.message, r]));
  const rows = results.map((r) => {
    const ref = base.get(r.message)!;
    return {
      message: r.message, codec: r.codec, bytes: r.bytes,
      'encode/s': r.encodePerSec.toLocaleString('en'), 'decode/s': r.decodePerSec.toLocaleString('en'),
      'encode vs msgpackr': (r.encodePerSec / ref.encodePerSec).toFixed(2),
      'decode vs msgpackr': (r.decodePerSec / ref.decodePerSec).toFixed(2),
    };
  });
  console.table(rows);
}

export interface TransportResult {
  test: string;
  perSec: number;
}

/** One loopback TCP link: one-way pipelined messages, and request/reply at a given depth. */
export async function runTransportBench(): Promise<TransportResult[]> {
  const self = { dc: 'dc1', rack: 'r1', weight: 1 };
  const a = await createTcpTransport({ self: { ...self, nodeId: 'a' }, listenHost: '127.0.0.1', listenPort: 0 });
  const b = await createTcpTransport({ self: { ...self, nodeId: 'b' }, listenHost: '127.0.0.1', listenPort: 0, seeds: [a.self.address] });
  while (!a.isConnected('b') || !b.isConnected('a')) await new Promise((r) => setTimeout(r, 5));
  const results: TransportResult[] = [];
  const msg = { type: 'replica_get', reqId: 1, key: 'user:42:profile', partition: 517 };

  const total = 200_000;
  let received = 0;
  let done: () => void = () => {};
  b.onMessage(() => { if (++received === total) done(); });
  const allIn = new Promise<void>((r) => { done = r; });
  const t0 = performance.now();
  // Sent in slices, backing off while the link's queue is deep, so the rate measured is the
  // link's and not the queue bound's (a send beyond the bound would be dropped).
  for (let sent = 0; sent < total;) {
    while ((a.peerStats('b')?.queuedFrames ?? 0) > 4_000) await new Promise((r) => setTimeout(r, 1));
    for (let i = 0; i < 2_000; i++, sent++) a.send({ from: 'a', to: 'b', msg });
    await new Promise((r) => setImmediate(r));
  }
  const timeout = new Promise<void>((r) => setTimeout(r, 30_000).unref());
  await Promise.race([allIn, timeout]);
  const dropped = a.stats().droppedQueueFull;
  results.push({ test: `one-way small messages, one link${dropped ? ` (${dropped} dropped!)` : ''}`, perSec: Math.round(received / ((performance.now() - t0) / 1000)) });

  b.onRequest((env) => env.msg);
  for (const depth of [1, 64]) {
    const rounds = depth === 1 ? 5_000 : 100_000;
    let next = 0;
    const t1 = performance.now();
    await Promise.all(Array.from({ length: depth }, async () => {
      while (next++ < rounds) await a.request('b', msg);
    }));
    results.push({ test: `request/reply, ${depth} in flight`, perSec: Math.round(rounds / ((performance.now() - t1) / 1000)) });
  }
  await Promise.all([a.close(), b.close()]);
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTable(await runCodecBench());
  console.table(await runTransportBench());
}
