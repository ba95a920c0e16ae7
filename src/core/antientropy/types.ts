/** What anti-entropy reports about itself: a repair's progress and the node's counters. */
export interface RepairProgress {
  readonly running: boolean;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly keysRepaired: number;
  readonly startedMs: number;
  readonly finishedMs: number | null;
}

export interface AntiEntropyStats {
  exchanges: number;
  exchangesFailed: number;
  keysCompared: number;
  keysRepaired: number;
  bytesSent: number;
  tombstonesPurged: number;
  bytesPerSecond: number;
  treeKeys: number;
  rebuilding: boolean;
  /** Per partition: when an exchange last found this node equal to every fellow replica. */
  lastFullRepairMs: Record<number, number>;
}
