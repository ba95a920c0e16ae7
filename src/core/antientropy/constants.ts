/** Every bound of anti-entropy, unit and bound last (gathered in src/constants.ts by the lead). */
export const ANTIENTROPY_LIMITS = {
  /** Children of each inner node of a partition's tree, as a power of two. */
  fanoutBits: 4,
  /** Leaves across all partitions aimed at (2^this); each partition gets at least one level. */
  totalLeafBits: 18,
  /** Most leaves one partition's tree may have (2^this). */
  leafBitsMax: 16,
  /** Node indices one `ae-hashes` request may ask for (a level's width at most). */
  hashesPerMessageMax: 1 << 16,
  /** Keys listed in one `ae-key-hashes` reply or one `ae-sync` message. */
  keysPerMessageMax: 4096,
  /** State bytes one `ae-sync` message carries (below the 8 MiB frame, with room around it). */
  syncBytesMax: 4 * 1024 * 1024,
  /** Ticks an exchange waits for a peer's answer before it gives up (a later round retries). */
  exchangeTimeoutTicks: 500,
  /** Ticks between periodic exchanges started by this node (10 s at 10 ms ticks), before jitter. */
  intervalTicks: 1000,
  /** Exchanges this node drives at once. */
  concurrentExchangesMax: 2,
  /** Bytes per second of anti-entropy traffic this node sends, at most (the adaptive rate's ceiling). */
  bytesPerSecondMax: 32 * 1024 * 1024,
  /** The adaptive rate never drops below this. */
  bytesPerSecondMin: 256 * 1024,
  /** Event-loop lag past which the rate halves. */
  lagMsHigh: 50,
  /** Stored keys the start-up rebuild loads per tick. */
  rebuildKeysPerTick: 2000,
  /**
   * How long this node must have held a tombstone (confirmed at every replica) before compaction
   * may purge it: longer than a hint lives (HANDOFF_LIMITS.hintAgeMsMax, 3 h), so no hint of an
   * older version can arrive after the purge.
   */
  tombstoneGraceMs: 4 * 60 * 60 * 1000,
} as const;
