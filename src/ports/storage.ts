/**
 * The storage-engine port: the contract every storage engine keeps (the memory engine and the
 * LSM engine alike; the compliance suite in test/storage/compliance.ts checks it).
 *
 * Keys and values are raw bytes; keys sort by unsigned byte order (memcmp). The core lays keys
 * out so that one ring partition is one contiguous key range (see src/core/keys.ts), which is
 * what `scanPage` serves to Merkle trees and partition streaming.
 *
 * Reads are synchronous: the core's state machines read local state in the middle of a step and
 * must not interleave with other steps. Engines serve reads from memory (memtables, a block
 * cache) and, on a miss, with a synchronous positional read; a read therefore costs one `pread`
 * at most per table whose bloom filter says "maybe".
 */
export interface WriteOp {
  key: Uint8Array;
  /** `null` deletes the key (an engine-level tombstone). */
  value: Uint8Array | null;
}

export interface ScanOptions {
  /** Inclusive lower bound. */
  gte?: Uint8Array;
  /** Exclusive upper bound. */
  lt?: Uint8Array;
  limit?: number;
}

/** A bounded, resumable range scan: one page of a key range (e.g. one ring partition). */
export interface PageOptions {
  /** Inclusive lower bound of the range. */
  gte?: Uint8Array;
  /** Exclusive upper bound of the range. */
  lt?: Uint8Array;
  /** Resume strictly after this key (the `resumeAfter` of the previous page). */
  after?: Uint8Array;
  /** At most this many entries (at least 1 when any remain). */
  countMax: number;
  /**
   * At most about this many key + value bytes: a page stops before the entry that would cross
   * it, except that its first entry is always returned, so a page always makes progress.
   */
  bytesMax: number;
}

export interface ScanPage {
  entries: [Uint8Array, Uint8Array][];
  /** Key of the last entry when the range may hold more; undefined when the range is done. */
  resumeAfter: Uint8Array | undefined;
  /** Key and value bytes of `entries`. */
  bytes: number;
}

/** What an engine reports about its background work (the LSM engine's `stats()` has more). */
export interface StorageEngineStats {
  /** Writes whose acknowledgement waited for a flush or a compaction (hard stop), and how long in all. */
  stalls: number;
  stallMs: number;
  /** Writes whose acknowledgement was delayed by the write-rate controller, and by how much in all. */
  delayedWrites: number;
  delayMs: number;
  /** Input bytes of the merges the compaction policy would run now, plus what running ones still read. */
  compactionDebtBytes: number;
  /** Bytes in frozen memtables waiting for their flush. */
  pendingFlushBytes: number;
  /** Bytes written to disk (log, flushes, compactions) per user byte. */
  writeAmplification: number;
  tables: number;
  /** Tables per size tier, newest tier first (settled tables apart). */
  tablesPerTier: number[];
  settledTables: number;
}

export interface StorageEngine {
  /** The latest value of `key`, including writes whose `write` promise has not resolved yet. */
  get(key: Uint8Array): Uint8Array | undefined;
  /**
   * `get` without the copy: the bytes may be the engine's own memory. The caller reads them at
   * once and never writes into them (the engine never writes into bytes it has handed out, so
   * keeping them only pins memory). Optional: `get` serves where an engine has no cheaper read.
   */
  peek?(key: Uint8Array): Uint8Array | undefined;
  /**
   * Applies a batch atomically. Visible to `get` at once; the promise resolves when the batch
   * is durable under the engine's sync policy (with `group` commit: after the fsync that
   * covers it). A batch whose promise never resolved may be lost by a crash, whole.
   */
  write(batch: readonly WriteOp[]): Promise<void>;
  /** Live entries in ascending key order within the bounds. */
  scan(options?: ScanOptions): IterableIterator<[Uint8Array, Uint8Array]>;
  /**
   * One page of live entries in ascending key order, bounded in count and bytes and resumable
   * from a key, so a caller can walk a partition in steps between which writes interleave.
   */
  scanPage(options: PageOptions): ScanPage;
  /** Flushes and releases files. Further calls fail. */
  close(): Promise<void>;
  /** Background-work figures, for /metrics (engines without background work omit it). */
  stats?(): StorageEngineStats;
}
