import { StorageError } from '../engine.js';
import { keyHash1, keyHash2 } from './bloom.js';
import { CompactionAborted, runCompaction } from './compactor.js';
import type { CompactionContext } from './compactor.js';
import { compactionDebtBytes, isSettled, pickCompaction, unsettledCount } from './compaction.js';
import type { CompactionCandidate, CompactionPick, CompactionPolicy } from './compaction.js';
import type { LsmEngine } from './engine.js';
import type { Table } from './sstable.js';

/** Tiers in the stats: tier i holds tables of up to 4^i memtables (settled tables apart). */
const TIERS_MAX = 8;
/** Keys sampled from a settled table to estimate its garbage (one per evenly spaced block). */
const CLEANUP_SAMPLE_KEYS = 32;
/** A settled table's garbage estimate is redone after this many table-set changes. */
const CLEANUP_RECHECK_CHANGES = 8;

/**
 * Schedules and runs compactions for one engine: up to `concurrency` at once, on disjoint
 * runs of adjacent tables, so a long merge of large tables never holds up the merges of the
 * small new ones. Paces itself only while it is not behind.
 */
export class Compactions {
  private readonly runningSet = new Set<Promise<void>>();
  private readonly busy = new Set<Table>();
  private remainingBytes = new Map<Table[], () => number>();
  private counters = { compactions: 0, bytesCompacted: 0, entriesDropped: 0, cleanups: 0 };
  private changes = 0;
  private readonly estimates = new WeakMap<Table, { at: number; percent: number }>();
  private readonly policy: CompactionPolicy;

  constructor(private readonly e: LsmEngine) {
    const s = e.s;
    this.policy = {
      minMerge: s.compactionMinMerge,
      maxMerge: s.compactionMaxMerge,
      sizeRatioPercent: s.compactionSizeRatioPercent,
      maxSizeAmpPercent: s.compactionMaxSizeAmpPercent,
      mergeBytesMax: s.compactionMergeBytesMax,
    };
  }

  get running(): number {
    return this.runningSet.size;
  }

  private candidates(): CompactionCandidate[] {
    return this.e.tables.map((t) => ({ bytes: t.fileBytes, damaged: t.damaged, busy: this.busy.has(t) }));
  }

  unsettled(): number {
    return unsettledCount(this.e.tables.map((t) => ({ bytes: t.fileBytes })), this.policy);
  }

  /** Bytes the policy would merge now plus what running merges have still to read. */
  debtBytes(): number {
    let inFlight = 0;
    for (const left of this.remainingBytes.values()) inFlight += left();
    return compactionDebtBytes(this.candidates(), this.policy, this.e.s.compactionMaxTables) + inFlight;
  }

  schedule(): void {
    const e = this.e;
    this.changes++;
    while (this.running < e.s.compactionConcurrency && !e.failed && !e.closing && e.s.compactionEnabled) {
      const pick: CompactionPick | undefined = pickCompaction(this.candidates(), this.policy, e.s.compactionMaxTables);
      if (pick) {
        this.start(pick.start, pick.end, []);
        continue;
      }
      const i = this.pickCleanup();
      if (i === undefined) return;
      this.counters.cleanups++;
      this.start(i, i, e.tables.slice(0, i));
    }
  }

  /**
   * Settled tables are never merged again, so their garbage is reclaimed by rewriting one alone:
   * the oldest whose estimated garbage — sampled keys that a newer table shadows, plus its
   * tombstones when it is the bottom — reaches `cleanupGarbagePercent`.
   */
  private pickCleanup(): number | undefined {
    const tables = this.e.tables;
    for (let i = tables.length - 1; i >= 1; i--) {
      const t = tables[i]!;
      if (!isSettled(t.fileBytes, this.policy) || t.damaged || this.busy.has(t)) continue;
      let est = this.estimates.get(t);
      if (!est || this.changes - est.at >= CLEANUP_RECHECK_CHANGES) {
        est = { at: this.changes, percent: this.garbagePercent(t, tables.slice(0, i), i === tables.length - 1) };
        this.estimates.set(t, est);
      }
      if (est.percent >= this.e.s.compactionCleanupGarbagePercent) return i;
    }
    return undefined;
  }

  private garbagePercent(t: Table, newer: readonly Table[], bottom: boolean): number {
    const keys = t.sampleKeys(CLEANUP_SAMPLE_KEYS);
    if (keys.length === 0) return 0;
    let shadowed = 0;
    for (const k of keys) {
      const h1 = keyHash1(k);
      const h2 = keyHash2(k);
      const hit = newer.some((n) => {
        try {
          return !n.damaged && n.get(k, h1, h2) !== undefined;
        } catch {
          return false;
        }
      });
      if (hit) shadowed++;
    }
    const tombstones = bottom ? t.meta.tombstones / Math.max(1, t.meta.count) : 0;
    return ((shadowed / keys.length) + tombstones) * 100;
  }

  private start(first: number, last: number, newer: Table[]): void {
    const e = this.e;
    const inputs = e.tables.slice(first, last + 1);
    for (const t of inputs) this.busy.add(t);
    const p: Promise<void> = this.compact(inputs, last === e.tables.length - 1, newer)
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        for (const t of inputs) this.busy.delete(t);
        this.runningSet.delete(p);
        e.afterChange();
      });
    this.runningSet.add(p);
  }

  private onError(err: unknown): void {
    if (err instanceof CompactionAborted) return;
    if (err instanceof StorageError && err.code === 'corruption') {
      this.e.reportCorruption({ file: err.file ?? '?', what: `compaction stopped: ${err.message}` });
      for (const t of this.e.tables) if (t.path === err.file) t.damaged = true;
      return;
    }
    this.e.fail(err instanceof Error ? err : new Error(String(err)));
  }

  private context(): CompactionContext {
    const e = this.e;
    return {
      fs: e.fs, dir: e.dir, compressor: e.compressor, compressionHint: e.compressionHint, cache: e.cache,
      blockBytes: e.s.blockBytes, bloomFpRate: e.s.bloomFpRate, chunkBytes: e.s.tableWriteChunkBytes,
      sliceBytes: e.s.compactionSliceBytes, canPurge: e.options.canPurge,
      report: (r) => e.reportCorruption(r), nowMs: () => e.now(), wait: (ms) => e.wait(ms),
      closing: () => e.closing,
      paceBytesPerSec: () => this.pace(),
    };
  }

  /**
   * Adaptive pace: unpaced while writes are being slowed or merges are waiting (compaction is
   * behind); otherwise at least `bytesPerSec`, and more when the ingest rate asks for it (each
   * ingested byte costs a few bytes of merging), so background work stays smooth when idle.
   */
  private pace(): number {
    const e = this.e;
    if (e.controller.pressure !== 'none') return Infinity;
    if (compactionDebtBytes(this.candidates(), this.policy, e.s.compactionMaxTables) > 0) return Infinity;
    return Math.max(e.s.compactionBytesPerSec, e.controller.ingestBytesPerSec * 8);
  }

  private async compact(inputs: Table[], bottom: boolean, newer: Table[]): Promise<void> {
    const e = this.e;
    for (const t of inputs) t.refs++;
    for (const t of newer) t.refs++;
    const num = e.allocateFileNumber();
    e.emit({ type: 'compaction-start', inputs: inputs.map((t) => t.num), inputBytes: inputs.reduce((s, t) => s + t.fileBytes, 0), output: num, bottom, cleanup: newer.length > 0 });
    const total = inputs.reduce((s, t) => s + t.meta.rawBytes, 0);
    let read = (): number => 0;
    this.remainingBytes.set(inputs, () => Math.max(0, total - read()));
    try {
      const outcome = await runCompaction(this.context(), inputs, num, bottom, newer);
      read = () => outcome.bytesRead;
      await e.commitManifest(() => {
        const at = e.tables.indexOf(inputs[0]!);
        e.tables.splice(at, inputs.length, ...(outcome.output ? [outcome.output] : []));
      });
      this.counters.compactions++;
      this.counters.bytesCompacted += outcome.output?.fileBytes ?? 0;
      this.counters.entriesDropped += outcome.dropped;
      e.emit({ type: 'compaction-end', output: num, bytes: outcome.output?.fileBytes ?? 0, dropped: outcome.dropped });
      for (const t of inputs) t.obsolete = true;
    } finally {
      this.remainingBytes.delete(inputs);
      for (const t of inputs) e.unpin(t);
      for (const t of newer) e.unpin(t);
    }
  }

  /** Waits for every running compaction (and those they start) to end. */
  async drain(): Promise<void> {
    while (this.runningSet.size > 0) await Promise.all([...this.runningSet]);
  }

  stats(): { tablesPerTier: number[]; settledTables: number; debtBytes: number; running: number } & Compactions['counters'] {
    const tiers = new Array<number>(TIERS_MAX).fill(0);
    let settled = 0;
    const unit = Math.max(1, this.e.s.memtableBytes);
    for (const t of this.e.tables) {
      if (isSettled(t.fileBytes, this.policy)) settled++;
      else tiers[Math.min(TIERS_MAX - 1, Math.max(0, Math.floor(Math.log(t.fileBytes / unit) / Math.log(4) + 0.5)))]!++;
    }
    while (tiers.length > 1 && tiers[tiers.length - 1] === 0) tiers.pop();
    return { tablesPerTier: tiers, settledTables: settled, debtBytes: this.debtBytes(), running: this.running, ...this.counters };
  }
}
