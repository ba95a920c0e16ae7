import type { Logger } from '../../ports/index.js';
import type { FileSystem } from '../fs/file-system.js';
import type { SyncPolicy } from './commit-log.js';
import type { CorruptionReport } from './sstable.js';

export interface CompactionOptions {
  /** false: never compact (tests). */
  enabled?: boolean;
  minMerge?: number;
  maxMerge?: number;
  sizeRatioPercent?: number;
  maxSizeAmpPercent?: number;
  maxTables?: number;
  /** I/O budget in bytes per second (read + write). */
  bytesPerSec?: number;
  sliceBytes?: number;
}

export type LsmEvent =
  | { type: 'flush-start'; table: number }
  | { type: 'flush-end'; table: number; bytes: number }
  | { type: 'compaction-start'; inputs: number[]; output: number; bottom: boolean }
  | { type: 'compaction-end'; output: number; bytes: number; dropped: number }
  | { type: 'stall'; reason: 'memtables' | 'tables' }
  | { type: 'corruption'; report: CorruptionReport }
  | { type: 'log-tail-discarded'; file: string; offset: number; bytes: number };

export interface LsmOptions {
  dir: string;
  fs: FileSystem;
  /** Commit-log fsync policy; `group` by default. */
  sync?: SyncPolicy;
  periodicMs?: number;
  memtableBytes?: number;
  maxImmutableMemtables?: number;
  tableCountStall?: number;
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
  /** Wall clock for table timestamps and the compaction budget (the simulator injects its own). */
  nowMs?: () => number;
  /**
   * Waits `ms` (0: yield to other work). Used for periodic syncs, compaction pacing and yields;
   * the simulator injects one driven by its virtual clock so runs stay deterministic.
   */
  sleep?: (ms: number) => Promise<void>;
}

export interface LsmStats {
  tables: number;
  /** Size-tiered: one tier of tables ordered by age. */
  levels: number;
  tableBytes: number;
  tableEntries: number;
  memtableBytes: number;
  immutableMemtables: number;
  flushes: number;
  compactions: number;
  bytesFlushed: number;
  bytesCompacted: number;
  entriesDropped: number;
  logSyncs: number;
  logBytes: number;
  blockCacheBytes: number;
  blockCacheHits: number;
  blockCacheMisses: number;
  stalls: number;
  corruptions: CorruptionReport[];
}
