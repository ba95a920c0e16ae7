/**
 * The bench driver: YCSB's load phase (insert the records) then its run phase (the workload's
 * operation mix), `clients` concurrent clients, an optional target rate, latencies per
 * operation in log-bucketed histograms. Like YCSB, read-modify-write is measured as a whole and
 * also as its read and its update. Over HTTP the driver keeps the context of each key it last
 * read or wrote and sends it with the next write of that key (as a Riak client does), so an
 * update supersedes what this driver saw instead of piling up siblings.
 */
import type { HistogramSummary } from '../../api/http/ui/histogram.js';
import { LogHistogram } from '../../api/http/ui/histogram.js';
import type { BenchTransport } from './transports.js';
import type { CoreWorkload, OpName } from './workload.js';

/** Contexts kept per key; past this the oldest entries are forgotten (their next write is blind). */
export const CONTEXT_CACHE_MAX = 1_000_000;

export interface OpStats extends HistogramSummary {
  op: OpName;
  errors: number;
  notFound: number;
  /** Errors by HTTP status or error code. */
  errorDetails: Record<string, number>;
  throughputPerSec: number;
}

export interface PhaseResult {
  phase: 'load' | 'run';
  operations: number;
  durationMs: number;
  throughputPerSec: number;
  ops: OpStats[];
}

export interface PhaseOptions {
  clients: number;
  /** Operations per second over all clients; undefined or 0: as fast as the store answers. */
  targetPerSec?: number;
  /** Called after each operation completes (progress bars). */
  onDone?: () => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Recorder {
  private readonly hist = new Map<OpName, LogHistogram>();
  private readonly errs = new Map<OpName, Map<string, number>>();
  private readonly missing = new Map<OpName, number>();

  record(op: OpName, micros: number, outcome: 'ok' | 'not_found' | 'error', detail?: string): void {
    let h = this.hist.get(op);
    if (!h) this.hist.set(op, (h = new LogHistogram()));
    h.record(micros);
    if (outcome === 'not_found') this.missing.set(op, (this.missing.get(op) ?? 0) + 1);
    if (outcome === 'error') {
      let m = this.errs.get(op);
      if (!m) this.errs.set(op, (m = new Map()));
      const d = detail ?? 'error';
      m.set(d, (m.get(d) ?? 0) + 1);
    }
  }

  stats(durationMs: number): OpStats[] {
    const order: OpName[] = ['READ', 'UPDATE', 'INSERT', 'READ-MODIFY-WRITE'];
    return order.filter((op) => this.hist.has(op)).map((op) => {
      const s = this.hist.get(op)!.summary();
      const details = Object.fromEntries(this.errs.get(op) ?? []);
      const errors = Object.values(details).reduce((a, b) => a + b, 0);
      return {
        op, ...s, errors, notFound: this.missing.get(op) ?? 0, errorDetails: details,
        throughputPerSec: durationMs > 0 ? (s.count * 1000) / durationMs : 0,
      };
    });
  }
}

/**
 * Runs `count` operations over `clients` concurrent loops. With a target rate, operation i is
 * not started before t0 + i/target (one global schedule, as YCSB's per-thread one summed up).
 */
export async function runConcurrently(count: number, opts: PhaseOptions, step: (i: number) => Promise<void>): Promise<number> {
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? realSleep;
  const t0 = now();
  let issued = 0;
  const target = opts.targetPerSec && opts.targetPerSec > 0 ? opts.targetPerSec : undefined;
  const client = async (): Promise<void> => {
    while (issued < count) {
      const i = issued++;
      if (target !== undefined) {
        const dueMs = t0 + (i * 1000) / target - now();
        if (dueMs > 1) await sleep(dueMs);
      }
      await step(i);
      opts.onDone?.();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.clients, count)) }, client));
  return now() - t0;
}

export class BenchDriver {
  private readonly contexts = new Map<string, string>();

  constructor(private readonly workload: CoreWorkload, private readonly transport: BenchTransport, private readonly now: () => number = () => performance.now()) {}

  private remember(key: string, context: string | undefined): void {
    if (context === undefined) return;
    this.contexts.delete(key);
    this.contexts.set(key, context);
    if (this.contexts.size > CONTEXT_CACHE_MAX) this.contexts.delete(this.contexts.keys().next().value!);
  }

  /** YCSB's load phase: records 0..recordCount-1, each written once. */
  async load(opts: PhaseOptions): Promise<PhaseResult> {
    const rec = new Recorder();
    const n = this.workload.opts.recordCount;
    const durationMs = await runConcurrently(n, opts, async (i) => {
      const key = this.workload.keyName(i);
      const t = this.now();
      const w = await this.transport.write(key, this.workload.value());
      rec.record('INSERT', (this.now() - t) * 1000, w.status, w.detail);
      this.remember(key, w.context);
    });
    return phaseResult('load', n, durationMs, rec);
  }

  /** YCSB's run phase: the workload's mix of operations. */
  async run(opts: PhaseOptions): Promise<PhaseResult> {
    const rec = new Recorder();
    const n = this.workload.opts.operationCount;
    const durationMs = await runConcurrently(n, opts, async () => this.one(rec));
    return phaseResult('run', n, durationMs, rec);
  }

  private async one(rec: Recorder): Promise<void> {
    const wl = this.workload;
    const { op, keynum } = wl.nextOp();
    const key = wl.keyName(keynum);
    const t = this.now();
    if (op === 'READ') {
      const r = await this.transport.read(key);
      rec.record('READ', (this.now() - t) * 1000, r.status, r.detail);
      this.remember(key, r.context);
    } else if (op === 'UPDATE') {
      const w = await this.transport.write(key, wl.value(), this.contexts.get(key));
      rec.record('UPDATE', (this.now() - t) * 1000, w.status, w.detail);
      this.remember(key, w.context);
    } else if (op === 'INSERT') {
      try {
        const w = await this.transport.write(key, wl.value());
        rec.record('INSERT', (this.now() - t) * 1000, w.status, w.detail);
        this.remember(key, w.context);
      } finally {
        wl.acknowledgeInsert(keynum); // YCSB acknowledges in a finally block too
      }
    } else {
      const r = await this.transport.read(key);
      const tRead = this.now();
      rec.record('READ', (tRead - t) * 1000, r.status, r.detail);
      // The write sends the context of the read: it supersedes exactly the versions read.
      const w = await this.transport.write(key, wl.modify(r.value), r.context);
      const tEnd = this.now();
      rec.record('UPDATE', (tEnd - tRead) * 1000, w.status, w.detail);
      this.remember(key, w.context);
      const failed = r.status === 'error' ? r : w.status === 'error' ? w : undefined;
      rec.record('READ-MODIFY-WRITE', (tEnd - t) * 1000, failed ? 'error' : 'ok', failed?.detail);
    }
  }
}

function phaseResult(phase: 'load' | 'run', operations: number, durationMs: number, rec: Recorder): PhaseResult {
  return {
    phase, operations, durationMs: Math.round(durationMs),
    throughputPerSec: durationMs > 0 ? Math.round((operations * 1000 * 10) / durationMs) / 10 : 0,
    ops: rec.stats(durationMs),
  };
}
