import type { Clock, Logger } from '../../ports/index.js';
import type { Compressor } from '../../ports/compressor.js';
import type { FileSystem } from '../../ports/file-system.js';
import type { StorageEngineStats } from '../../ports/storage.js';
import { STORAGE_LIMITS } from '../constants.js';
import type { StorageLimits } from '../constants.js';
import type { SyncPolicy } from './commit-log.js';
import type { CorruptionReport } from './sstable.js';

export interface CompactionOptions {
  /** false: never compact (tests). */
  enabled?: boolean;
  minMerge?: number;
  maxMerge?: number;
  sizeRatioPercent?: number;
  maxSizeAmpPercent?: number;
  /** Most input bytes of one merge; tables past half of it are settled (never merged again). */
  mergeBytesMax?: number;
  /** Unsettled tables past which adjacent ones are merged whatever their sizes. */
  maxTables?: number;
  /** Compactions running at once (on disjoint tables). */
  concurrency?: number;
  /** Estimated garbage (%) at which a settled table is rewritten alone. */
  cleanupGarbagePercent?: number;
  /** Pace (bytes read + written per second) while compaction is not behind; unpaced when it is. */
  bytesPerSec?: number;
  sliceBytes?: number;
}

export type LsmEvent =
  | { type: 'flush-start'; table: number }
  | { type: 'flush-end'; table: number; bytes: number }
  | { type: 'compaction-start'; inputs: number[]; inputBytes: number; output: number; bottom: boolean; cleanup: boolean }
  | { type: 'compaction-end'; output: number; bytes: number; dropped: number }
  | { type: 'stall'; reason: 'memtables' | 'tables' }
  | { type: 'corruption'; report: CorruptionReport }
  | { type: 'log-tail-discarded'; file: string; offset: number; bytes: number };

export interface LsmOptions {
  dir: string;
  fs: FileSystem;
  /**
   * Time and timers: the system clock in production, the simulator's virtual clock in
   * simulation (so pacing, write delays and periodic syncs follow virtual time).
   */
  clock: Clock;
  /** Block compression; default the shared worker-thread compressor (compress-worker.ts). The simulator passes `syncCompressor`. */
  compressor?: Compressor;
  /** Commit-log fsync policy; `group` by default. */
  sync?: SyncPolicy;
  periodicMs?: number;
  memtableBytes?: number;
  maxImmutableMemtables?: number;
  /** Unsettled tables at which acknowledgements start to be delayed (gradual slowdown). */
  slowdownTables?: number;
  /** Unsettled tables at which acknowledgements wait for a compaction to end (a stall). */
  tableCountStall?: number;
  /** Compaction debt (bytes) at which the slowdown starts, whatever the table count. */
  debtSoftBytes?: number;
  blockBytes?: number;
  bloomFpRate?: number;
  blockCacheBytes?: number;
  groupCommitBytes?: number;
  maxRecordBytes?: number;
  tableWriteChunkBytes?: number;
  maxOpenFiles?: number;
  compaction?: CompactionOptions;
  /**
   * Called for entries compacted into the bottom (nothing older below): true drops the entry.
   * The core uses it to purge its own tombstone values once they are safe to forget.
   */
  canPurge?: (key: Uint8Array, value: Uint8Array) => boolean;
  /**
   * A corrupt record in the middle of the commit log: `fail` (default) refuses to open, naming
   * the file and offset; `salvage` skips it up to the next valid record, reports it, and opens.
   */
  logCorruption?: 'fail' | 'salvage';
  logger?: Logger;
  onEvent?: (event: LsmEvent) => void;
}

export interface Settings extends StorageLimits {
  sync: SyncPolicy;
  compactionEnabled: boolean;
}

export function resolveSettings(options: LsmOptions): Settings {
  const c = options.compaction ?? {};
  const L = STORAGE_LIMITS;
  const maxOpenFiles = options.maxOpenFiles ?? L.maxOpenFiles;
  // Every live table holds one open file: stall well before the descriptor bound.
  const stopRuns = Math.min(options.tableCountStall ?? L.tableCountStall, maxOpenFiles - 8);
  return {
    sync: options.sync ?? 'group',
    compactionEnabled: c.enabled ?? true,
    memtableBytes: options.memtableBytes ?? L.memtableBytes,
    maxImmutableMemtables: Math.max(1, options.maxImmutableMemtables ?? L.maxImmutableMemtables),
    tableCountStall: stopRuns,
    slowdownTables: Math.min(options.slowdownTables ?? L.slowdownTables, stopRuns),
    debtSoftBytes: options.debtSoftBytes ?? L.debtSoftBytes,
    writeRateMinBytesPerSec: L.writeRateMinBytesPerSec,
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
    compactionMergeBytesMax: c.mergeBytesMax ?? L.compactionMergeBytesMax,
    compactionMaxTables: c.maxTables ?? L.compactionMaxTables,
    compactionConcurrency: Math.max(1, c.concurrency ?? L.compactionConcurrency),
    compactionCleanupGarbagePercent: c.cleanupGarbagePercent ?? L.compactionCleanupGarbagePercent,
    compactionBytesPerSec: c.bytesPerSec ?? L.compactionBytesPerSec,
    compactionSliceBytes: c.sliceBytes ?? L.compactionSliceBytes,
    tableWriteChunkBytes: options.tableWriteChunkBytes ?? L.tableWriteChunkBytes,
    maxOpenFiles,
  };
}

export interface LsmStats extends StorageEngineStats {
  tables: number;
  /** Tables per tier, newest tier first (tier i holds tables of ~4^i memtables; `settled` last). */
  tablesPerTier: number[];
  /** Tables past half of `mergeBytesMax`: never merged again. */
  settledTables: number;
  /** Kept for callers of the old shape: the number of tiers in use. */
  levels: number;
  tableBytes: number;
  tableEntries: number;
  memtableBytes: number;
  immutableMemtables: number;
  /** Bytes in frozen memtables waiting for their flush. */
  pendingFlushBytes: number;
  /** Input bytes of every merge the policy would start now, plus what running ones still read. */
  compactionDebtBytes: number;
  compactionsRunning: number;
  flushes: number;
  compactions: number;
  /** Compactions that rewrote one settled table to drop its garbage. */
  cleanups: number;
  bytesFlushed: number;
  bytesCompacted: number;
  entriesDropped: number;
  /** Key + value bytes of every write accepted. */
  userBytes: number;
  /** (commit log + flushed + compacted bytes) / user bytes. */
  writeAmplification: number;
  logSyncs: number;
  /** Time the group commits spent in fdatasync (ms, all syncs): logSyncMs / logSyncs is one fsync's latency. */
  logSyncMs: number;
  logBytes: number;
  blockCacheBytes: number;
  blockCacheHits: number;
  blockCacheMisses: number;
  /** Writes whose acknowledgement waited for a flush or a compaction (hard stop), and for how long in all. */
  stalls: number;
  stallMs: number;
  /** Writes whose acknowledgement the write controller delayed (gradual slowdown), and by how much in all. */
  delayedWrites: number;
  delayMs: number;
  /** Admitted write rate while slowing down (bytes/s), 0 when not. */
  delayedWriteRateBytesPerSec: number;
  corruptions: CorruptionReport[];
}
