/** Bounds of hinted handoff, unit and bound last (gathered with the core's in ../constants.ts users). */
export const HANDOFF_LIMITS = {
  /** Hints older than this are dropped undelivered: Cassandra's default max_hint_window (3 h). */
  hintAgeMsMax: 3 * 60 * 60 * 1000,
  /** Bytes of hints one node keeps for one target; past it new hints for that target are refused. */
  hintBytesPerTargetMax: 512 * 1024 * 1024,
  /** Delivery batches in flight to one target when the window has opened fully. */
  deliveryWindowMax: 16,
  /** Delivery batches in flight to one target at first (slow start doubles it every round trip). */
  deliveryWindowInitial: 2,
  /** Hints in one delivery batch (one message, one acknowledgement). */
  deliveryBatchHintsMax: 256,
  /** Bytes of states in one delivery batch (a batch is closed once past it; one hint always fits a frame). */
  deliveryBatchBytesMax: 512 * 1024,
  /**
   * Hint records one read-ahead page of replay holds, and their bytes (about four batches'
   * worth: each page is one range read of the engine, whose set-up — a seek in every table and
   * the memtables — is paid per page, not per hint). One page per target is held at a time.
   */
  deliveryReadPageHintsMax: 1024,
  deliveryReadPageBytesMax: 2 * 1024 * 1024 + 512 * 1024,
  /** A delivery not acknowledged within this many ticks counts as lost (the window halves). */
  deliveryTimeoutTicks: 100,
  /** How often (in ticks) expired hints are looked for. */
  expiryEveryTicks: 100,
} as const;
