import { Worker } from 'node:worker_threads';
import type { CompressedBlock, Compressor } from '../ports/compressor.js';
import { CODEC_DEFLATE, CODEC_NONE, decompressBlockSync } from './compress.js';
import { COMPRESS_WORKER_BATCH_BYTES } from './constants.js';

/**
 * The production Compressor: block compression and the compactions' decompression on a worker
 * thread, in batches.
 *
 * Why not zlib's asynchronous API (the thread pool): in Node 20 each asynchronous call builds a
 * zlib stream and a fresh deflate state on the main thread, measured at ~300 µs of event-loop time
 * per 4 KiB block (against ~60 µs for the whole synchronous deflate): "off the event loop" cost the
 * loop five times the work it moved. Here the main thread only copies each batch (every block
 * handed over in one synchronous stretch, e.g. a table writer's chunk) into one buffer and posts it
 * (transferred, not cloned); the worker runs the synchronous zlib calls and posts one buffer back.
 *
 * The worker is unreferenced while idle, so it never keeps a process alive. Should it die, the
 * blocks in flight are rejected and the next call starts a new one. The point-read path stays
 * synchronous (`decompressSync` on the caller's thread).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { deflateRawSync, inflateRawSync } = require('node:zlib');
parentPort.on('message', (m) => {
  const outs = [];
  const codecs = [];
  const errors = [];
  let at = 0;
  for (let i = 0; i < m.lengths.length; i++) {
    const block = m.data.subarray(at, at + m.lengths[i]);
    at += m.lengths[i];
    try {
      if (m.op === 'c') {
        const packed = deflateRawSync(block, { level: 1 });
        const pays = packed.length <= block.length - (block.length >> 2);
        codecs.push(pays ? ${CODEC_DEFLATE} : ${CODEC_NONE});
        outs.push(pays ? packed : Buffer.alloc(0));
      } else {
        codecs.push(0);
        outs.push(inflateRawSync(block));
      }
      errors.push(null);
    } catch (err) {
      codecs.push(0);
      outs.push(Buffer.alloc(0));
      errors.push(String(err && err.message || err));
    }
  }
  const data = Buffer.concat(outs);
  const buf = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  parentPort.postMessage({ id: m.id, data: buf, lengths: outs.map((o) => o.length), codecs, errors },
    data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? [data.buffer] : []);
});
`;

/** Blocks under this size are stored raw without asking the worker (as `zlibCompressor` does). */
const MIN_BYTES = 64;

interface Job {
  input: Uint8Array;
  resolve: (out: Uint8Array, codec: number) => void;
  reject: (err: Error) => void;
}

interface Reply { id: number; data: Uint8Array; lengths: number[]; codecs: number[]; errors: (string | null)[] }

class BatchingWorker {
  private worker: Worker | undefined;
  private readonly inFlight = new Map<number, Job[]>();
  private nextId = 1;
  private queued: Record<'c' | 'd', Job[]> = { c: [], d: [] };
  private queuedBytes = 0;
  private scheduled = false;

  submit(op: 'c' | 'd', job: Job): void {
    this.queued[op].push(job);
    this.queuedBytes += job.input.length;
    if (this.queuedBytes >= COMPRESS_WORKER_BATCH_BYTES) this.post();
    else if (!this.scheduled) {
      this.scheduled = true;
      // After the current synchronous stretch: whatever it handed over goes as one batch.
      queueMicrotask(() => this.post());
    }
  }

  private post(): void {
    this.scheduled = false;
    this.queuedBytes = 0;
    for (const op of ['c', 'd'] as const) {
      const jobs = this.queued[op];
      if (jobs.length === 0) continue;
      this.queued[op] = [];
      const total = jobs.reduce((s, j) => s + j.input.length, 0);
      const data = new Uint8Array(total);
      let at = 0;
      for (const j of jobs) {
        data.set(j.input, at);
        at += j.input.length;
      }
      const id = this.nextId++;
      this.inFlight.set(id, jobs);
      const w = this.ensure();
      if (this.inFlight.size === 1) w.ref();
      w.postMessage({ id, op, data, lengths: jobs.map((j) => j.input.length) }, [data.buffer]);
    }
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (r: Reply) => this.settle(r));
    const fail = (err: Error): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      const jobs = [...this.inFlight.values()].flat();
      this.inFlight.clear();
      for (const j of jobs) j.reject(err);
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`compression worker exited (${code})`)));
    this.worker = w;
    return w;
  }

  private settle(r: Reply): void {
    const jobs = this.inFlight.get(r.id);
    if (!jobs) return;
    this.inFlight.delete(r.id);
    if (this.inFlight.size === 0) this.worker?.unref();
    const data = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    let at = 0;
    jobs.forEach((j, i) => {
      const n = r.lengths[i]!;
      const err = r.errors[i];
      if (err) j.reject(new Error(err));
      else j.resolve(data.subarray(at, at + n), r.codecs[i]!);
      at += n;
    });
  }
}

/** A Compressor backed by one worker thread (see the file comment). */
export function createWorkerCompressor(): Compressor {
  const worker = new BatchingWorker();
  return {
    compress(raw: Uint8Array): Promise<CompressedBlock> {
      if (raw.length < MIN_BYTES) return Promise.resolve({ codec: CODEC_NONE, data: raw });
      return new Promise((resolve, reject) => {
        worker.submit('c', {
          input: raw, reject,
          resolve: (out, codec) => resolve(codec === CODEC_NONE ? { codec, data: raw } : { codec, data: out }),
        });
      });
    },
    decompress(codec: number, data: Uint8Array): Promise<Uint8Array> {
      if (codec !== CODEC_DEFLATE) {
        try {
          return Promise.resolve(decompressBlockSync(codec, data));
        } catch (err) {
          return Promise.reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
      return new Promise((resolve, reject) => {
        worker.submit('d', { input: data, reject, resolve: (out) => resolve(out) });
      });
    },
    decompressSync: decompressBlockSync,
  };
}

let shared: Compressor | undefined;

/** The process's shared worker compressor (one worker for every engine in the process). */
export function workerCompressor(): Compressor {
  shared ??= createWorkerCompressor();
  return shared;
}
