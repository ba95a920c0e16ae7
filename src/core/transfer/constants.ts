/**
 * Every bound of partition transfer, unit and bound last. Ticks are the node's ticks (10 ms by
 * default); `transferDefaults` turns the millisecond defaults into ticks.
 */
import { KIB } from '../constants.js';
import type { SweepSettings } from './sweep.js';

export const TRANSFER_LIMITS = {
  /** A chunk carries at most about this many key + state bytes (its first entry always comes). */
  chunkBytesMax: 256 * KIB,
  /** A chunk carries at most this many keys. */
  chunkKeysMax: 512,
  /** Pulls one node has in flight at once, over all its moving partitions. */
  pullsInFlightMax: 2,
  /** New pulls one node starts per tick (pacing: a transfer never floods the loop). */
  pullsPerTickMax: 1,
  /** A pull unanswered for this long fails its source over to the next one. */
  pullTimeoutMs: 2_000,
  /**
   * Wait after a node first sees a transition before it streams: coordinators still on the older
   * document hear of the transition meanwhile and start their dual writes (about 2 gossip intervals).
   */
  settleMs: 2_000,
  /** How often a node proposes the partitions it finished, and checks for the flip. */
  markEveryMs: 200,
  /** How often a node pushes its cluster document to the other members while a change is under way. */
  docPushEveryMs: 1_000,
  /** After the last change, documents are still pushed for this long (then gossip's job alone). */
  docPushQuietMs: 30_000,
  /**
   * A node drops the partitions it no longer replicates once the document has carried no
   * transition for this long (src/core/transfer/sweep.ts): every node has heard of the flip and
   * writes coordinated on the older document have finished.
   */
  sweepQuietMs: 60_000,
  /** From the end of one pass over the data to the start of the next. */
  sweepEveryMs: 10 * 60_000,
  /** Keys a node drops per tick at most. */
  sweepKeysPerTick: 64,
  /** Range reads the sweep makes per tick at most. */
  sweepSeeksPerTick: 8,
  /** Longest cursor key a pull may carry (a data key: prefix, hash and a key of at most 1 KiB). */
  cursorBytesMax: 1 + 4 + 1024,
  /** Longest refusal reason. */
  reasonCharsMax: 200,
} as const;

/**
 * Test-only: a transfer broken on purpose, so tests show the simulator's checkers catch it —
 * `drop-chunks` merges nothing it receives, `no-dual-writes` sends no extra copies.
 */
export type TransferBug = 'none' | 'drop-chunks' | 'no-dual-writes';

/** The transfer's settings in ticks. */
export interface TransferSettings extends SweepSettings {
  readonly bug: TransferBug;
  /** A second pass over each partition a settle time after the first (closes the residual window). */
  readonly catchUpPass: boolean;
  readonly settleTicks: number;
  readonly pullTimeoutTicks: number;
  readonly pullsInFlightMax: number;
  readonly pullsPerTickMax: number;
  readonly chunkBytesMax: number;
  readonly chunkKeysMax: number;
  readonly markEveryTicks: number;
  readonly docPushEveryTicks: number;
  readonly docPushQuietTicks: number;
}

/** Settings as milliseconds and counts; what a node is configured with (NodeConfig.transfer). */
export interface TransferOptions {
  readonly bug: TransferBug;
  readonly catchUpPass: boolean;
  readonly settleMs: number;
  readonly pullTimeoutMs: number;
  readonly pullsInFlightMax: number;
  readonly pullsPerTickMax: number;
  readonly chunkBytesMax: number;
  readonly chunkKeysMax: number;
  readonly markEveryMs: number;
  readonly docPushEveryMs: number;
  readonly docPushQuietMs: number;
  readonly sweepQuietMs: number;
  readonly sweepEveryMs: number;
}

export function transferSettings(tickMs: number, o: Partial<TransferOptions> = {}): TransferSettings {
  const ticks = (ms: number): number => Math.max(1, Math.ceil(ms / tickMs));
  return {
    bug: o.bug ?? 'none',
    catchUpPass: o.catchUpPass ?? true,
    settleTicks: ticks(o.settleMs ?? TRANSFER_LIMITS.settleMs),
    pullTimeoutTicks: ticks(o.pullTimeoutMs ?? TRANSFER_LIMITS.pullTimeoutMs),
    pullsInFlightMax: Math.max(1, o.pullsInFlightMax ?? TRANSFER_LIMITS.pullsInFlightMax),
    pullsPerTickMax: Math.max(1, o.pullsPerTickMax ?? TRANSFER_LIMITS.pullsPerTickMax),
    chunkBytesMax: Math.max(1, Math.min(o.chunkBytesMax ?? TRANSFER_LIMITS.chunkBytesMax, TRANSFER_LIMITS.chunkBytesMax)),
    chunkKeysMax: Math.max(1, Math.min(o.chunkKeysMax ?? TRANSFER_LIMITS.chunkKeysMax, TRANSFER_LIMITS.chunkKeysMax)),
    markEveryTicks: ticks(o.markEveryMs ?? TRANSFER_LIMITS.markEveryMs),
    docPushEveryTicks: ticks(o.docPushEveryMs ?? TRANSFER_LIMITS.docPushEveryMs),
    docPushQuietTicks: ticks(o.docPushQuietMs ?? TRANSFER_LIMITS.docPushQuietMs),
    sweepQuietTicks: ticks(o.sweepQuietMs ?? TRANSFER_LIMITS.sweepQuietMs),
    sweepEveryTicks: ticks(o.sweepEveryMs ?? TRANSFER_LIMITS.sweepEveryMs),
    sweepKeysPerTick: TRANSFER_LIMITS.sweepKeysPerTick,
    sweepSeeksPerTick: TRANSFER_LIMITS.sweepSeeksPerTick,
  };
}
