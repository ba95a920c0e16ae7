/**
 * Every bound the storage engines keep, in one place. Each one can be overridden through the
 * engine options (see `LsmOptions` in lsm/options.ts); these are the defaults.
 */
export const KIB = 1024;
export const MIB = 1024 * KIB;

export const STORAGE_LIMITS = {
  /**
   * The active memtable is frozen (and flushed in the background) once it holds this much.
   * 32 MiB (was 4): with `compactionMergeBytesMax` below, a table is settled after one merge of
   * four flushes, so a sustained insert load writes each byte three times (log, flush, one
   * merge) instead of five (docs/storage.md, "Steady state").
   */
  memtableBytes: 32 * MIB,
  /**
   * Frozen memtables waiting for their flush. Beyond this the active memtable keeps taking
   * writes (they stay visible at once) but their acknowledgements wait until a flush finishes,
   * so memory stays bounded by what callers keep in flight.
   */
  maxImmutableMemtables: 2,
  /**
   * Unsettled tables (see compaction.ts) at which acknowledgements wait for a compaction to
   * end: the hard stop, rarely reached once the write controller slows writes down.
   */
  tableCountStall: 24,
  /** Unsettled tables at which the write controller starts delaying acknowledgements. */
  slowdownTables: 12,
  /** Compaction debt at which the write controller slows writes whatever the table count. */
  debtSoftBytes: 1024 * MIB,
  /** The delayed write rate never goes below this. */
  writeRateMinBytesPerSec: 256 * KIB,
  /** Target uncompressed size of an SSTable data block. */
  blockBytes: 4 * KIB,
  /** Bloom filter false-positive rate. */
  bloomFpRate: 0.01,
  /** Decoded data blocks kept in memory. */
  blockCacheBytes: 32 * MIB,
  /** Interval of the `periodic` sync policy. */
  periodicMs: 100,
  /** At most this many bytes go into one commit-log write + fsync (one group). */
  groupCommitBytes: 8 * MIB,
  /** Largest batch record accepted (and believed when reading a log length prefix). */
  maxRecordBytes: 256 * MIB,
  /** Size-tiered compaction: merge at least / at most this many adjacent tables. */
  compactionMinMerge: 4,
  compactionMaxMerge: 16,
  /** A table joins a run when it is at most this % larger than the run so far. */
  compactionSizeRatioPercent: 100,
  /**
   * Merge everything (into the bottom) when newer tables outweigh the oldest by this %, while
   * the whole store fits in one bounded merge.
   */
  compactionMaxSizeAmpPercent: 200,
  /**
   * Most input bytes of one merge: no merge grows with the data set. A table past half of it
   * is settled; 192 MiB settles the merge of four 32 MiB memtables' tables (~27 MiB each with
   * 1 KiB values).
   */
  compactionMergeBytesMax: 192 * MIB,
  /** Merge adjacent unsettled tables whatever their sizes past this many. */
  compactionMaxTables: 8,
  /** A settled table is rewritten alone once this % of it is estimated garbage (shadowed or purgeable). */
  compactionCleanupGarbagePercent: 30,
  /** Compactions at once, on disjoint tables: small merges never wait behind a large one. */
  compactionConcurrency: 2,
  /** Pace of compaction (bytes read + written per second) while it is not behind; unpaced when it is. */
  compactionBytesPerSec: 64 * MIB,
  /** Compaction yields to the event loop after this many bytes of work. */
  compactionSliceBytes: 1 * MIB,
  /** Table writer buffers this much before each append. */
  tableWriteChunkBytes: 256 * KIB,
  /**
   * Open files: one per live table, plus the commit log, its spare segment and a table being
   * written. Acknowledgements stall (tableCountStall, capped at maxOpenFiles - 8) before this.
   */
  maxOpenFiles: 256,
} as const;

export type StorageLimits = { -readonly [K in keyof typeof STORAGE_LIMITS]: number };

/**
 * Most input bytes the worker compressor (compress-worker.ts) gathers into one message before it
 * posts the batch at once; smaller batches go at the end of the synchronous stretch that made them.
 */
export const COMPRESS_WORKER_BATCH_BYTES = 1 * MIB;
