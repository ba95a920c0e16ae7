import type { Logger } from '../../ports/index.js';
import { silentLogger } from '../../ports/index.js';
import { asBuffer, compareKeys, copyBytes, toLatin1 } from '../bytes.js';
import { STORAGE_LIMITS } from '../constants.js';
import type { StorageLimits } from '../constants.js';
import { StorageError } from '../engine.js';
import type { ScanOptions, StorageEngine, WriteOp } from '../engine.js';
import type { FileSystem } from '../fs/file-system.js';
import { joinPath } from '../fs/file-system.js';
import { BlockCache } from './block-cache.js';
import { keyHash1, keyHash2 } from './bloom.js';
import { CommitLog, replaySegment, segmentFileName } from './commit-log.js';
import { pickCompaction } from './compaction.js';
import type { CompactionPick } from './compaction.js';
import { MANIFEST_TMP, readManifest, writeManifest } from './manifest.js';
import type { ManifestData } from './manifest.js';
import { Memtable } from './memtable.js';
import { mergeSources } from './merge.js';
import type { EntryIterator } from './merge.js';
import type { LsmEvent, LsmOptions, LsmStats } from './options.js';
import { decodeBatch, encodeBatch } from './record.js';
import { Table, TableWriter, tableFileName } from './sstable.js';
import type { CorruptionReport, TableMeta } from './sstable.js';

interface Settings extends StorageLimits {
  sync: 'group' | 'periodic' | 'none';
  compactionEnabled: boolean;
}

function fileNumber(name: string, ext: string): number | undefined {
  if (!name.endsWith(ext)) return undefined;
  const n = Number(name.slice(0, -ext.length));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** A flush yields to the event loop after this much input (a few ms of block building). */
const FLUSH_SLICE_BYTES = 64 * 1024;

class CompactionAborted extends Error {
  constructor() {
    super('compaction aborted by close');
  }
}

/** Real timers; the simulator passes its own `sleep` that settles from the virtual clock. */
const realSleep = (ms: number): Promise<void> =>
  new Promise((r) => (ms <= 0 ? setImmediate(r) : setTimeout(r, ms)));

/**
 * Gossamer's log-structured merge engine. See docs/storage.md for the design; in short:
 * write → commit log (group commit) + memtable; full memtables are frozen and flushed to
 * SSTables in the background; size-tiered compaction merges runs of similar-sized adjacent
 * tables; reads are synchronous (memtables, then tables newest first, bloom filters skipping).
 */
export class LsmEngine implements StorageEngine {
  private active!: Memtable;
  /** Frozen memtables, newest first, each with the promise of its log segment's rotation. */
  private immutables: { mt: Memtable; rotated: Promise<void> }[] = [];
  /** Live tables, newest first (by the commit-log segments they hold). */
  private tables: Table[] = [];
  private nextFileNumber = 1;
  private logNumber = 0;
  private log!: CommitLog;
  private readonly cache: BlockCache;
  private readonly s: Settings;
  private readonly logger: Logger;
  private closed = false;
  private closing = false;
  private failed: Error | undefined;
  private flushing: Promise<void> | undefined;
  private compacting: Promise<void> | undefined;
  private manifestChain: Promise<void> = Promise.resolve();
  private roomWaiters: (() => void)[] = [];
  private readonly counters = {
    flushes: 0, compactions: 0, bytesFlushed: 0, bytesCompacted: 0, entriesDropped: 0, stalls: 0,
  };
  private readonly corruptions: CorruptionReport[] = [];

  private constructor(private readonly fs: FileSystem, private readonly dir: string, private readonly options: LsmOptions) {
    const c = options.compaction ?? {};
    const L = STORAGE_LIMITS;
    this.s = {
      sync: options.sync ?? 'group',
      compactionEnabled: c.enabled ?? true,
      memtableBytes: options.memtableBytes ?? L.memtableBytes,
      maxImmutableMemtables: Math.max(1, options.maxImmutableMemtables ?? L.maxImmutableMemtables),
      // Every live table holds one open file: stall well before the descriptor bound.
      tableCountStall: Math.min(options.tableCountStall ?? L.tableCountStall, (options.maxOpenFiles ?? L.maxOpenFiles) - 8),
      blockBytes: options.blockBytes ?? L.blockBytes,
      bloomFpRate: options.bloomFpRate ?? L.bloomFpRate,
      blockCacheBytes: options.blockCacheBytes ?? L.blockCacheBytes,
      periodicMs: options.periodicMs ?? L.periodicMs,
      groupCommitBytes: options.groupCommitBytes ?? L.groupCommitBytes,
      maxRecordBytes: options.maxRecordBytes ?? L.maxRecordBytes,
      compactionMinMerge: c.minMerge ?? L.compactionMinMerge,
      compactionMaxMerge: c.maxMerge ?? L.compactionMaxMerge,
      compactionSizeRatioPercent: c.sizeRatioPercent ?? L.compactionSizeRatioPercent,
      compactionMaxSizeAmpPercent: c.maxSizeAmpPercent ?? L.compactionMaxSizeAmpPercent,
      compactionMaxTables: c.maxTables ?? L.compactionMaxTables,
      compactionBytesPerSec: c.bytesPerSec ?? L.compactionBytesPerSec,
      compactionSliceBytes: c.sliceBytes ?? L.compactionSliceBytes,
      tableWriteChunkBytes: options.tableWriteChunkBytes ?? L.tableWriteChunkBytes,
      maxOpenFiles: options.maxOpenFiles ?? L.maxOpenFiles,
    };
    this.logger = options.logger ?? silentLogger;
    this.cache = new BlockCache(this.s.blockCacheBytes);
  }

  /** Opens (creating or recovering) the engine in `options.dir`. */
  static async open(options: LsmOptions): Promise<LsmEngine> {
    const engine = new LsmEngine(options.fs, options.dir, options);
    await engine.recover();
    return engine;
  }

  // ---------------------------------------------------------------- recovery

  private async recover(): Promise<void> {
    const { fs, dir } = this;
    await fs.mkdir(dir);
    let manifest: ManifestData | undefined;
    let rebuild = false;
    try {
      manifest = await readManifest(fs, dir);
    } catch (err) {
      if (!(err instanceof StorageError) || err.code !== 'corruption') throw err;
      this.reportCorruption({ file: err.file ?? joinPath(dir, 'MANIFEST'), what: `${err.message}; rebuilding the table set from the directory` });
      rebuild = true;
    }
    const names = await fs.readdir(dir);
    const tableNums = names.map((n) => fileNumber(n, '.sst')).filter((n): n is number => n !== undefined);
    const logNums = names.map((n) => fileNumber(n, '.log')).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
    let maxSeen = Math.max(0, ...tableNums, ...logNums);
    const report = (r: CorruptionReport): void => this.reportCorruption(r);

    if (manifest) {
      this.logNumber = manifest.logNumber;
      maxSeen = Math.max(maxSeen, manifest.nextFileNumber - 1);
      for (const meta of manifest.tables) {
        const path = joinPath(dir, tableFileName(meta.num));
        if (!(await fs.exists(path))) {
          throw new StorageError('corruption', `table ${path} listed in the manifest is missing`, path);
        }
        this.tables.push(await Table.open(fs, path, meta.num, this.cache, report, meta));
      }
    } else if (rebuild || tableNums.length > 0) {
      // No trustworthy manifest: every table describes itself. Tables whose segment range lies
      // inside another's are leftover compaction inputs; the log resumes after the newest table.
      const found: Table[] = [];
      for (const num of tableNums) {
        try {
          found.push(await Table.open(fs, joinPath(dir, tableFileName(num)), num, this.cache, report));
        } catch (err) {
          this.reportCorruption({ file: joinPath(dir, tableFileName(num)), what: `unreadable table: ${(err as Error).message}` });
        }
      }
      // Intact tables first, widest range first: a complete compaction output replaces its
      // inputs; a damaged (torn) one is dropped when the inputs at both ends of its range exist.
      found.sort((a, b) => Number(a.damaged) - Number(b.damaged) || (b.meta.maxSeq - b.meta.minSeq) - (a.meta.maxSeq - a.meta.minSeq));
      for (const t of found) {
        const covered = this.tables.some((o) => o.meta.minSeq <= t.meta.minSeq && o.meta.maxSeq >= t.meta.maxSeq);
        const replaced = t.damaged
          && this.tables.some((o) => o.meta.minSeq === t.meta.minSeq)
          && this.tables.some((o) => o.meta.maxSeq === t.meta.maxSeq);
        if (covered || replaced) await t.close();
        else this.tables.push(t);
      }
      this.tables.sort((a, b) => b.meta.maxSeq - a.meta.maxSeq);
      this.logNumber = this.tables.reduce((m, t) => Math.max(m, t.meta.maxSeq + 1), 0);
    }
    this.nextFileNumber = maxSeen + 1;

    // Files no live state refers to: a crashed flush's or compaction's output, old segments.
    const live = new Set(this.tables.map((t) => t.num));
    for (const name of names) {
      const t = fileNumber(name, '.sst');
      const l = fileNumber(name, '.log');
      if ((t !== undefined && !live.has(t)) || (l !== undefined && l < this.logNumber) || name === MANIFEST_TMP) {
        await fs.unlink(joinPath(dir, name));
      }
    }

    // Replay the commit log into one memtable, then flush it, so that every open starts with an
    // empty log (a torn tail never ends up in the middle of the log).
    const replay = logNums.filter((n) => n >= this.logNumber);
    const mt = new Memtable(replay[0] ?? this.nextFileNumber);
    // Only the last non-empty segment may end torn: later ones are spares, created ahead of use
    // and never written, and every earlier one was synced whole before the log moved on.
    let lastWritten = -1;
    for (let i = 0; i < replay.length; i++) {
      const h = await fs.openRead(joinPath(dir, segmentFileName(replay[i]!)));
      if (fs.sizeSync(h) > 0) lastWritten = i;
      await fs.close(h);
    }
    for (let i = 0; i < replay.length; i++) {
      const path = joinPath(dir, segmentFileName(replay[i]!));
      const r = await replaySegment(fs, path, i >= lastWritten, this.s.maxRecordBytes, (k, v) => {
        mt.put(toLatin1(k), v);
      }, this.options.logCorruption === 'salvage');
      for (const sk of r.skipped) {
        this.reportCorruption({ file: path, offset: sk.offset, what: `${sk.what}; skipped ${sk.bytes} bytes (salvage)` });
      }
      mt.maxSeq = replay[i]!;
      if (r.tornBytes > 0) {
        this.logger.warn('discarded a torn commit-log tail', { file: path, offset: r.tornOffset, bytes: r.tornBytes });
        this.emit({ type: 'log-tail-discarded', file: path, offset: r.tornOffset ?? 0, bytes: r.tornBytes });
      }
    }
    if (mt.size > 0) {
      const table = await this.writeMemtable(mt);
      this.tables.unshift(table);
    }
    const segment = this.nextFileNumber++;
    this.logNumber = segment;
    await writeManifest(fs, dir, this.manifestData());
    for (const n of replay) await fs.unlink(joinPath(dir, segmentFileName(n)));

    this.active = new Memtable(segment);
    this.log = new CommitLog(fs, dir, this.s.sync, this.s.periodicMs, this.s.groupCommitBytes, (err) => this.fail(err), this.sleep);
    await this.log.start(segment, () => this.nextFileNumber++);
    this.scheduleCompaction();
  }

  private manifestData(): ManifestData {
    return {
      version: 1,
      nextFileNumber: this.nextFileNumber,
      logNumber: this.logNumber,
      tables: this.tables.map((t) => t.meta),
    };
  }

  /** Serializes manifest updates; `mutate` runs synchronously right before the write. */
  private commitManifest(mutate: () => void): Promise<void> {
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
    this.checkOpen();
    const k = toLatin1(key);
    let v = this.active.tree.get(k);
    if (v === undefined) {
      for (const imm of this.immutables) {
        v = imm.mt.tree.get(k);
        if (v !== undefined) break;
      }
    }
    if (v !== undefined) return v === null ? undefined : copyBytes(v);
    const tables = this.tables;
    if (tables.length === 0) return undefined;
    const kb = asBuffer(key);
    const h1 = keyHash1(kb);
    const h2 = keyHash2(kb);
    for (const t of tables) {
      const r = t.get(kb, h1, h2);
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
    const pinned = this.tables.slice();
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
    if (mt.bytes >= this.s.memtableBytes) this.maybeFreeze();
    const reason = this.stallReason();
    if (reason === undefined) return ack;
    this.counters.stalls++;
    this.emit({ type: 'stall', reason });
    return ack.then(() => this.waitForRoom());
  }

  private stallReason(): 'memtables' | 'tables' | undefined {
    if (this.immutables.length >= this.s.maxImmutableMemtables && this.active.bytes >= this.s.memtableBytes) return 'memtables';
    // Only while a compaction runs: it is what will bring the count down (and if none can,
    // e.g. around damaged tables, stalling would never end).
    if (this.compacting && this.tables.length >= this.s.tableCountStall) return 'tables';
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
      this.wakeWaiters();
      if (this.active.bytes >= this.s.memtableBytes && !this.closing) this.maybeFreeze();
      this.scheduleCompaction();
    }
  }

  private async writeMemtable(mt: Memtable): Promise<Table> {
    const num = this.nextFileNumber++;
    this.emit({ type: 'flush-start', table: num });
    const path = joinPath(this.dir, tableFileName(num));
    const w = new TableWriter(this.fs, path, this.s.blockBytes, this.s.bloomFpRate);
    await w.open();
    let slice = 0;
    for (const [k, v] of mt.tree.entries()) {
      w.add(Buffer.from(k, 'latin1'), v);
      slice += k.length + (v === null ? 0 : v.length);
      if (w.pendingBytes >= this.s.tableWriteChunkBytes) await w.drain();
      // Let writes and reads run between slices: a flush is background work.
      if (slice >= FLUSH_SLICE_BYTES) {
        slice = 0;
        await this.sleep(0);
      }
    }
    const meta = await w.finish({ num, minSeq: mt.minSeq, maxSeq: mt.maxSeq, createdMs: this.now() });
    const table = await Table.open(this.fs, path, num, this.cache, (r) => this.reportCorruption(r), meta);
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

  // ---------------------------------------------------------------- compaction

  private scheduleCompaction(): void {
    if (this.compacting || this.failed || this.closing || !this.s.compactionEnabled) return;
    const pick = pickCompaction(this.tables.map((t) => ({ bytes: t.fileBytes, damaged: t.damaged })), {
      minMerge: this.s.compactionMinMerge,
      maxMerge: this.s.compactionMaxMerge,
      sizeRatioPercent: this.s.compactionSizeRatioPercent,
      maxSizeAmpPercent: this.s.compactionMaxSizeAmpPercent,
      maxTables: this.s.compactionMaxTables,
    });
    if (!pick) return;
    this.compacting = this.compact(pick)
      .catch((err: unknown) => {
        if (err instanceof CompactionAborted) return;
        if (err instanceof StorageError && err.code === 'corruption') {
          this.reportCorruption({ file: err.file ?? '?', what: `compaction stopped: ${err.message}` });
          for (const t of this.tables) if (t.path === err.file) t.damaged = true;
          return;
        }
        this.fail(err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        this.compacting = undefined;
        this.wakeWaiters();
        if (!this.closing) this.scheduleCompaction();
      });
  }

  private async compact(pick: CompactionPick): Promise<void> {
    const inputs = this.tables.slice(pick.start, pick.end + 1);
    const bottom = pick.end === this.tables.length - 1;
    for (const t of inputs) t.refs++;
    const num = this.nextFileNumber++;
    const path = joinPath(this.dir, tableFileName(num));
    this.emit({ type: 'compaction-start', inputs: inputs.map((t) => t.num), output: num, bottom });
    const w = new TableWriter(this.fs, path, this.s.blockBytes, this.s.bloomFpRate);
    let done = false;
    try {
      await w.open();
      const started = this.now();
      let work = 0;
      let slice = 0;
      let dropped = 0;
      const canPurge = this.options.canPurge;
      // The I/O budget counts every entry read from the inputs (shadowed ones too) and written.
      let read = 0;
      const counted = function* (t: Table): Generator<[Buffer, Buffer | null]> {
        for (const e of t.entries(undefined, false)) {
          read += e[0].length + (e[1] === null ? 0 : e[1].length) + 8;
          yield e;
        }
      };
      let lastRead = 0;
      for (const [k, v] of mergeSources(inputs.map(counted))) {
        let size = read - lastRead;
        lastRead = read;
        if (bottom && (v === null || (canPurge !== undefined && canPurge(k, v)))) {
          dropped++;
        } else {
          w.add(k, v);
          size += k.length + (v === null ? 0 : v.length) + 8;
        }
        work += size;
        slice += size;
        if (w.pendingBytes >= this.s.tableWriteChunkBytes) await w.drain();
        if (slice >= this.s.compactionSliceBytes) {
          slice = 0;
          if (this.closing) throw new CompactionAborted();
          // Stay within the I/O budget, and let foreground work run between slices.
          const dueMs = (work / this.s.compactionBytesPerSec) * 1000 - (this.now() - started);
          await this.sleep(dueMs > 1 ? dueMs : 0);
        }
      }
      const output = w.count > 0
        ? await (async () => {
          const meta = await w.finish({
            num,
            minSeq: Math.min(...inputs.map((t) => t.meta.minSeq)),
            maxSeq: Math.max(...inputs.map((t) => t.meta.maxSeq)),
            createdMs: this.now(),
          });
          return Table.open(this.fs, path, num, this.cache, (r) => this.reportCorruption(r), meta);
        })()
        : undefined;
      if (!output) {
        await w.abort();
        await this.fs.unlink(path);
      }
      done = true;
      await this.commitManifest(() => {
        const at = this.tables.indexOf(inputs[0]!);
        this.tables.splice(at, inputs.length, ...(output ? [output] : []));
      });
      this.counters.compactions++;
      this.counters.bytesCompacted += output?.fileBytes ?? 0;
      this.counters.entriesDropped += dropped;
      this.emit({ type: 'compaction-end', output: num, bytes: output?.fileBytes ?? 0, dropped });
      for (const t of inputs) t.obsolete = true;
    } finally {
      if (!done) {
        await w.abort();
        await this.fs.unlink(path).catch(() => undefined);
      }
      for (const t of inputs) this.unpin(t);
    }
  }

  private unpin(t: Table): void {
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
    await this.compacting;
    if (!this.failed) {
      await this.flushing;
      if (this.active.size > 0) {
        this.maybeFreeze();
      }
      await this.flushing;
    }
    await this.log.close().catch(() => undefined);
    await this.manifestChain;
    this.closed = true;
    this.wakeWaiters();
    for (const t of this.tables) {
      if (t.refs === 0) await t.close().catch(() => undefined);
    }
    if (this.failed) throw this.failed;
  }

  stats(): LsmStats {
    return {
      tables: this.tables.length,
      levels: 1,
      tableBytes: this.tables.reduce((s, t) => s + t.fileBytes, 0),
      tableEntries: this.tables.reduce((s, t) => s + t.meta.count, 0),
      memtableBytes: this.active.bytes + this.immutables.reduce((s, i) => s + i.mt.bytes, 0),
      immutableMemtables: this.immutables.length,
      ...this.counters,
      logSyncs: this.log.syncs,
      logBytes: this.log.bytes,
      blockCacheBytes: this.cache.sizeBytes,
      blockCacheHits: this.cache.hits,
      blockCacheMisses: this.cache.misses,
      corruptions: this.corruptions.slice(),
    };
  }

  /** Waits until no flush or compaction is running and none is due (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.flushing || this.compacting) {
      await this.flushing;
      await this.compacting;
    }
  }

  /** Freezes the active memtable and waits for it to reach a table (tests, benchmarks). */
  async flush(): Promise<void> {
    this.maybeFreeze();
    await this.idle();
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('closed', 'storage engine is closed');
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err instanceof StorageError ? err : new StorageError('io', `storage engine failed: ${err.message}`);
    this.logger.error('storage engine failed; writes are refused from now on', { err: err.message });
    this.wakeWaiters();
  }

  private reportCorruption(r: CorruptionReport): void {
    this.corruptions.push(r);
    this.logger.error('storage corruption detected', { file: r.file, offset: r.offset, what: r.what });
    this.emit({ type: 'corruption', report: r });
  }

  private emit(e: LsmEvent): void {
    this.options.onEvent?.(e);
  }

  private readonly sleep = (ms: number): Promise<void> => (this.options.sleep ?? realSleep)(ms);

  private now(): number {
    return this.options.nowMs?.() ?? Date.now();
  }
}


export type { TableMeta };
