import type { Logger } from '../../ports/index.js';
import { silentLogger } from '../../ports/index.js';
import type { Compressor } from '../../ports/compressor.js';
import type { FileSystem } from '../../ports/file-system.js';
import type { PageOptions, ScanOptions, ScanPage, StorageEngine, WriteOp } from '../../ports/storage.js';
import { asBuffer, compareKeys, copyBytes, toLatin1 } from '../bytes.js';
import { workerCompressor } from '../compress-worker.js';
import { StorageError } from '../engine.js';
import { joinPath } from '../fs/file-system.js';
import { pageFromScan } from '../scan-page.js';
import { BlockCache } from './block-cache.js';
import { keyHash1, keyHash2 } from './bloom.js';
import { CommitLog, segmentFileName } from './commit-log.js';
import { Compactions } from './compactions.js';
import { writeManifest } from './manifest.js';
import type { ManifestData } from './manifest.js';
import { Memtable } from './memtable.js';
import { mergeSources } from './merge.js';
import type { EntryIterator } from './merge.js';
import { resolveSettings } from './options.js';
import type { LsmEvent, LsmOptions, LsmStats, Settings } from './options.js';
import { decodeBatch, encodeBatch } from './record.js';
import { fileNumber, recoverState } from './recovery.js';
import { Table, tableFileName } from './sstable.js';
import type { CorruptionReport, TableMeta } from './sstable.js';
import { TableWriter } from './table-writer.js';
import type { CompressionHint } from './table-writer.js';
import { WriteController } from './write-controller.js';

/**
 * Gossamer's log-structured merge engine. See docs/storage.md for the design; in short:
 * write → commit log (group commit) + memtable; full memtables are frozen and flushed to
 * SSTables in the background; bounded size-tiered compaction (compactions.ts) merges runs of
 * similar-sized adjacent tables, and the write controller slows acknowledgements gradually
 * when it falls behind; reads are synchronous (memtables, then tables newest first, bloom
 * filters skipping).
 */
export class LsmEngine implements StorageEngine {
  private active!: Memtable;
  /** Frozen memtables, newest first, each with the promise of its log segment's rotation. */
  private immutables: { mt: Memtable; rotated: Promise<void> }[] = [];
  /** Live tables, newest first (by the commit-log segments they hold). */
  tables: Table[] = [];
  private nextFileNumber = 1;
  private logNumber = 0;
  private log!: CommitLog;
  readonly cache: BlockCache;
  readonly s: Settings;
  readonly compressor: Compressor;
  /** Shared by this engine's table writers (flushes and merges): see CompressionHint. */
  readonly compressionHint: CompressionHint = { incompressible: 0 };
  readonly controller: WriteController;
  private readonly compactions: Compactions;
  private readonly logger: Logger;
  private closed = false;
  closing = false;
  failed: Error | undefined;
  private flushing: Promise<void> | undefined;
  private manifestChain: Promise<void> = Promise.resolve();
  private roomWaiters: (() => void)[] = [];
  /** Pending waits (timers), released at once by close. */
  private readonly waits = new Set<() => void>();
  private readonly counters = { flushes: 0, bytesFlushed: 0, stalls: 0, stallMs: 0, userBytes: 0 };
  private readonly corruptions: CorruptionReport[] = [];

  private constructor(readonly fs: FileSystem, readonly dir: string, readonly options: LsmOptions) {
    this.s = resolveSettings(options);
    this.logger = options.logger ?? silentLogger;
    this.compressor = options.compressor ?? workerCompressor();
    this.cache = new BlockCache(this.s.blockCacheBytes);
    this.controller = new WriteController({
      slowdownRuns: this.s.slowdownTables, stopRuns: this.s.tableCountStall,
      debtSoftBytes: this.s.debtSoftBytes, rateMinBytesPerSec: this.s.writeRateMinBytesPerSec,
    }, this.now());
    this.compactions = new Compactions(this);
  }

  /** Opens (creating or recovering) the engine in `options.dir`. */
  static async open(options: LsmOptions): Promise<LsmEngine> {
    const engine = new LsmEngine(options.fs, options.dir, options);
    await engine.recover();
    return engine;
  }

  private async recover(): Promise<void> {
    const r = await recoverState({
      fs: this.fs, dir: this.dir, cache: this.cache, maxRecordBytes: this.s.maxRecordBytes,
      salvage: this.options.logCorruption === 'salvage', logger: this.logger,
      report: (c) => this.reportCorruption(c), emit: (e) => this.emit(e),
    });
    this.tables = r.tables;
    this.logNumber = r.logNumber;
    this.nextFileNumber = r.nextFileNumber;
    // Flush the replayed log so that every open starts with an empty log (a torn tail never
    // ends up in the middle of the log).
    if (r.replayed.size > 0) this.tables.unshift(await this.writeMemtable(r.replayed));
    const segment = this.nextFileNumber++;
    this.logNumber = segment;
    await writeManifest(this.fs, this.dir, this.manifestData());
    for (const n of r.replayedSegments) await this.fs.unlink(joinPath(this.dir, segmentFileName(n)));
    this.active = new Memtable(segment);
    this.log = new CommitLog(this.fs, this.dir, this.s.sync, this.s.periodicMs, this.s.groupCommitBytes, (err) => this.fail(err),
      // Its own timer, not `wait`: close releases waits at once, which would spin this loop.
      (ms) => new Promise((resolve) => this.options.clock.setTimer(ms, resolve)), () => this.now());
    await this.log.start(segment, () => this.nextFileNumber++);
    this.afterChange();
  }

  allocateFileNumber(): number {
    return this.nextFileNumber++;
  }

  private manifestData(): ManifestData {
    return { version: 1, nextFileNumber: this.nextFileNumber, logNumber: this.logNumber, tables: this.tables.map((t) => t.meta) };
  }

  /** Serializes manifest updates; `mutate` runs synchronously right before the write. */
  commitManifest(mutate: () => void): Promise<void> {
    const run = async (): Promise<void> => {
      mutate();
      await writeManifest(this.fs, this.dir, this.manifestData());
    };
    const p = this.manifestChain.then(run);
    this.manifestChain = p.catch(() => undefined);
    return p;
  }

  // ---------------------------------------------------------------- reads

  get(key: Uint8Array): Uint8Array | undefined {
    return this.lookup(key, true);
  }

  /** `get` without copying what it finds (StorageEngine.peek): memtable records and cached blocks are never written into. */
  peek(key: Uint8Array): Uint8Array | undefined {
    return this.lookup(key, false);
  }

  private lookup(key: Uint8Array, copy: boolean): Uint8Array | undefined {
    this.checkOpen();
    const k = toLatin1(key);
    let v = this.active.tree.get(k);
    if (v === undefined) {
      for (const imm of this.immutables) {
        v = imm.mt.tree.get(k);
        if (v !== undefined) break;
      }
    }
    if (v !== undefined) return v === null ? undefined : copy ? copyBytes(v) : v;
    const tables = this.tables;
    if (tables.length === 0) return undefined;
    // The tables read keys as bytes: no Buffer view needed (making one costs more than the hashes).
    const h1 = keyHash1(key);
    const h2 = keyHash2(key);
    for (const t of tables) {
      const r = t.get(key, h1, h2, copy);
      if (r !== undefined) return r ?? undefined;
    }
    return undefined;
  }

  *scan(options: ScanOptions = {}): IterableIterator<[Uint8Array, Uint8Array]> {
    this.checkOpen();
    const limit = options.limit ?? Infinity;
    if (limit <= 0) return;
    const gte = options.gte ? asBuffer(options.gte) : undefined;
    const lt = options.lt ? asBuffer(options.lt) : undefined;
    const lo = gte ? toLatin1(gte) : undefined;
    const sources: EntryIterator[] = [];
    const memSource = function* (tree: Memtable['tree']): Generator<[Buffer, Buffer | null]> {
      for (const [k, v] of tree.entries(lo)) yield [Buffer.from(k, 'latin1'), v];
    };
    // The active memtable is cloned (O(1), copy-on-write) so that writes during the scan do
    // not disturb it; frozen memtables never change; tables are pinned until the scan ends.
    sources.push(memSource(this.active.tree.clone()));
    for (const imm of this.immutables) sources.push(memSource(imm.mt.tree));
    const pinned = this.tables.filter((t) => !lt || compareKeys(t.minKey, lt) < 0);
    for (const t of pinned) {
      t.refs++;
      sources.push(t.entries(gte));
    }
    try {
      let n = 0;
      for (const [k, v] of mergeSources(sources)) {
        if (lt && compareKeys(k, lt) >= 0) return;
        if (v === null) continue;
        yield [copyBytes(k), copyBytes(v)];
        if (++n >= limit) return;
      }
    } finally {
      for (const t of pinned) this.unpin(t);
    }
  }

  scanPage(options: PageOptions): ScanPage {
    return pageFromScan((o) => this.scan(o), options);
  }

  // ---------------------------------------------------------------- writes

  write(batch: readonly WriteOp[]): Promise<void> {
    if (this.closed || this.closing) return Promise.reject(new StorageError('closed', 'storage engine is closed'));
    if (this.failed) return Promise.reject(this.failed);
    if (batch.length === 0) return Promise.resolve();
    const rec = encodeBatch(batch);
    if (rec.length - 8 > this.s.maxRecordBytes) {
      return Promise.reject(new StorageError('io', `batch of ${rec.length} bytes exceeds maxRecordBytes`));
    }
    const mt = this.active;
    decodeBatch(rec.subarray(8), (k, v) => mt.put(toLatin1(k), v));
    const ack = this.log.append(rec);
    this.counters.userBytes += rec.length - 8;
    this.controller.admitted(rec.length - 8);
    if (mt.bytes >= this.s.memtableBytes) this.maybeFreeze();
    const reason = this.stallReason();
    if (reason !== undefined) {
      this.counters.stalls++;
      this.emit({ type: 'stall', reason });
      const since = this.now();
      return ack.then(() => this.waitForRoom()).then(() => {
        this.counters.stallMs += this.now() - since;
      });
    }
    const delayMs = this.controller.delayFor(rec.length - 8, this.now());
    // The delay runs from admission, alongside the fsync: the slot was reserved at this instant.
    return delayMs > 0 ? Promise.all([ack, this.wait(delayMs)]).then(() => undefined) : ack;
  }

  private stallReason(): 'memtables' | 'tables' | undefined {
    if (this.immutables.length >= this.s.maxImmutableMemtables && this.active.bytes >= this.s.memtableBytes) return 'memtables';
    // Only while a compaction runs: it is what will bring the count down (and if none can,
    // e.g. around damaged tables, stalling would never end).
    if (this.controller.pressure === 'stop' && this.compactions.running > 0) return 'tables';
    return undefined;
  }

  private waitForRoom(): Promise<void> {
    if (this.stallReason() === undefined || this.failed || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private wakeWaiters(): void {
    if (this.stallReason() !== undefined && !this.failed && !this.closed) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  /** Re-evaluates the write controller and compactions after the table set changed. */
  afterChange(): void {
    this.controller.update(this.compactions.unsettled(), this.compactions.debtBytes(), this.now());
    this.wakeWaiters();
    if (!this.closing) this.compactions.schedule();
  }

  private maybeFreeze(): void {
    if (this.active.size === 0 || this.immutables.length >= this.s.maxImmutableMemtables || this.failed) return;
    const old = this.active;
    const { num, done: rotated } = this.log.rotate();
    this.active = new Memtable(num);
    rotated.catch(() => undefined);
    this.immutables.unshift({ mt: old, rotated });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing || this.failed) return;
    this.flushing = this.flushLoop()
      .catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.flushing = undefined;
        this.wakeWaiters();
      });
  }

  private async flushLoop(): Promise<void> {
    while (this.immutables.length > 0 && !this.failed) {
      const oldest = this.immutables[this.immutables.length - 1]!;
      const table = await this.writeMemtable(oldest.mt);
      await oldest.rotated;
      await this.commitManifest(() => {
        this.tables.unshift(table);
        this.immutables.pop();
        this.logNumber = this.immutables[this.immutables.length - 1]?.mt.minSeq ?? this.active.minSeq;
      });
      await this.deleteOldSegments();
      this.afterChange();
      if (this.active.bytes >= this.s.memtableBytes && !this.closing) this.maybeFreeze();
    }
  }

  private async writeMemtable(mt: Memtable): Promise<Table> {
    const num = this.nextFileNumber++;
    this.emit({ type: 'flush-start', table: num });
    const path = joinPath(this.dir, tableFileName(num));
    const w = new TableWriter(this.fs, path, this.s.blockBytes, this.s.bloomFpRate, this.compressor, mt.tree.size, this.compressionHint);
    await w.open();
    // Each drain awaits the compressor and an append, which lets writes and reads run.
    for (const [k, v] of mt.tree.entries()) {
      w.add(Buffer.from(k, 'latin1'), v);
      if (w.pendingBytes >= this.s.tableWriteChunkBytes) await w.drain();
    }
    const meta = await w.finish({ num, minSeq: mt.minSeq, maxSeq: mt.maxSeq, createdMs: this.now() });
    const table = await Table.adopt(this.fs, path, num, this.cache, meta, w.finished);
    this.counters.flushes++;
    this.counters.bytesFlushed += meta.fileBytes;
    this.emit({ type: 'flush-end', table: num, bytes: meta.fileBytes });
    return table;
  }

  private async deleteOldSegments(): Promise<void> {
    for (const name of await this.fs.readdir(this.dir)) {
      const n = fileNumber(name, '.log');
      if (n !== undefined && n < this.logNumber) await this.fs.unlink(joinPath(this.dir, name)).catch(() => undefined);
    }
  }

  unpin(t: Table): void {
    t.refs--;
    if (t.refs === 0 && t.obsolete) {
      void t.close()
        .then(() => this.fs.unlink(t.path))
        .catch((err: unknown) => this.logger.warn('could not delete an obsolete table', { file: t.path, err: String(err) }));
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Flushes the memtables to tables, syncs and closes every file. */
  async close(): Promise<void> {
    if (this.closed || this.closing) throw new StorageError('closed', 'storage engine is closed');
    this.closing = true;
    this.releaseWaits();
    await this.compactions.drain();
    if (!this.failed) {
      await this.flushing;
      if (this.active.size > 0) this.maybeFreeze();
      await this.flushing;
    }
    await this.log.close().catch(() => undefined);
    await this.manifestChain;
    this.closed = true;
    this.releaseWaits();
    this.wakeWaiters();
    for (const t of this.tables) {
      if (t.refs === 0) await t.close().catch(() => undefined);
    }
    if (this.failed) throw this.failed;
  }

  stats(): LsmStats {
    const c = this.compactions.stats();
    const flushedAndCompacted = this.counters.bytesFlushed + c.bytesCompacted;
    return {
      tables: this.tables.length,
      tablesPerTier: c.tablesPerTier,
      settledTables: c.settledTables,
      levels: c.tablesPerTier.filter((n) => n > 0).length,
      tableBytes: this.tables.reduce((s, t) => s + t.fileBytes, 0),
      tableEntries: this.tables.reduce((s, t) => s + t.meta.count, 0),
      memtableBytes: this.active.bytes + this.immutables.reduce((s, i) => s + i.mt.bytes, 0),
      immutableMemtables: this.immutables.length,
      pendingFlushBytes: this.immutables.reduce((s, i) => s + i.mt.bytes, 0),
      compactionDebtBytes: c.debtBytes,
      compactionsRunning: c.running,
      flushes: this.counters.flushes,
      compactions: c.compactions,
      cleanups: c.cleanups,
      bytesFlushed: this.counters.bytesFlushed,
      bytesCompacted: c.bytesCompacted,
      entriesDropped: c.entriesDropped,
      userBytes: this.counters.userBytes,
      writeAmplification: this.counters.userBytes === 0 ? 0 : (this.log.bytes + flushedAndCompacted) / this.counters.userBytes,
      logSyncs: this.log.syncs,
      logSyncMs: this.log.syncMs,
      logBytes: this.log.bytes,
      blockCacheBytes: this.cache.sizeBytes,
      blockCacheHits: this.cache.hits,
      blockCacheMisses: this.cache.misses,
      stalls: this.counters.stalls,
      stallMs: this.counters.stallMs,
      delayedWrites: this.controller.delayedWrites,
      delayMs: this.controller.delayMsTotal,
      delayedWriteRateBytesPerSec: this.controller.delayedRateBytesPerSec,
      corruptions: this.corruptions.slice(),
    };
  }

  /** Waits until no flush or compaction is running and none is due (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.flushing || this.compactions.running > 0) {
      await this.flushing;
      await this.compactions.drain();
    }
  }

  /** Freezes the active memtable and waits for it to reach a table (tests, benchmarks). */
  async flush(): Promise<void> {
    await this.idle();
    this.maybeFreeze();
    await this.idle();
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('closed', 'storage engine is closed');
  }

  fail(err: Error): void {
    if (this.failed) return;
    this.failed = err instanceof StorageError ? err : new StorageError('io', `storage engine failed: ${err.message}`);
    this.logger.error('storage engine failed; writes are refused from now on', { err: err.message });
    this.wakeWaiters();
  }

  reportCorruption(r: CorruptionReport): void {
    this.corruptions.push(r);
    this.logger.error('storage corruption detected', { file: r.file, offset: r.offset, what: r.what });
    this.emit({ type: 'corruption', report: r });
  }

  emit(e: LsmEvent): void {
    this.options.onEvent?.(e);
  }

  /** Waits `ms` on the Clock port (0: yields to other work); close releases every wait at once. */
  wait(ms: number): Promise<void> {
    if (this.closed || this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        if (!this.waits.delete(done)) return;
        this.options.clock.clearTimer(handle);
        resolve();
      };
      this.waits.add(done);
      const handle = this.options.clock.setTimer(Math.max(0, ms), done);
    });
  }

  private releaseWaits(): void {
    for (const done of [...this.waits]) done();
  }

  now(): number {
    return this.options.clock.nowMs();
  }
}

export type { TableMeta };
