/**
 * The write-rate controller: admitted writes slow down gradually as compaction falls behind,
 * instead of running at full speed into a hard stall (RocksDB's delayed-write rate; LevelDB's
 * 1 ms slowdown at 8 level-0 files, made a rate because Gossamer's writers are concurrent and
 * a fixed per-write delay would not lower their total rate).
 *
 * Pressure is the number of unsettled tables (what a read probes and what compaction must
 * merge) and the compaction debt in bytes. Below `slowdownRuns` (and the soft debt) writes are
 * admitted at once. Above, each write's acknowledgement is delayed so that acknowledged bytes
 * flow at `rateBytesPerSec`: that rate starts at the ingest rate measured when the slowdown
 * began and is lowered by a fifth each time pressure grows and raised by a quarter each time
 * it falls (re-evaluated on every flush and compaction). At `stopRuns` acknowledgements wait
 * until a compaction ends (a stall, counted and timed).
 */
export interface WriteControllerSettings {
  slowdownRuns: number;
  stopRuns: number;
  debtSoftBytes: number;
  rateMinBytesPerSec: number;
}

export type Pressure = 'none' | 'slowdown' | 'stop';

export class WriteController {
  private rateBytesPerSec = 0;
  private lastScore = 0;
  private nextFreeMs = 0;
  /** Ingest rate (user bytes per second), smoothed over flush intervals. */
  ingestBytesPerSec = 0;
  private windowBytes = 0;
  private windowStartMs: number;
  pressure: Pressure = 'none';
  delayedWrites = 0;
  delayMsTotal = 0;

  constructor(private readonly s: WriteControllerSettings, nowMs: number) {
    this.windowStartMs = nowMs;
  }

  /** Counts admitted user bytes (for the ingest rate). */
  admitted(bytes: number): void {
    this.windowBytes += bytes;
  }

  /** Re-evaluates pressure; called after every flush and compaction. */
  update(unsettled: number, debtBytes: number, nowMs: number): void {
    const elapsedMs = nowMs - this.windowStartMs;
    if (elapsedMs >= 250) {
      const rate = (this.windowBytes * 1000) / elapsedMs;
      this.ingestBytesPerSec = this.ingestBytesPerSec === 0 ? rate : 0.7 * this.ingestBytesPerSec + 0.3 * rate;
      this.windowBytes = 0;
      this.windowStartMs = nowMs;
    }
    const s = this.s;
    const score = Math.max(unsettled / s.slowdownRuns, debtBytes / s.debtSoftBytes);
    const before = this.pressure;
    this.pressure = unsettled >= s.stopRuns ? 'stop' : score >= 1 ? 'slowdown' : 'none';
    if (this.pressure === 'slowdown') {
      if (before !== 'slowdown') this.rateBytesPerSec = Math.max(s.rateMinBytesPerSec, this.ingestBytesPerSec * 0.9);
      else if (score > this.lastScore) this.rateBytesPerSec = Math.max(s.rateMinBytesPerSec, this.rateBytesPerSec * 0.8);
      else if (score < this.lastScore) this.rateBytesPerSec *= 1.25;
    }
    this.lastScore = score;
  }

  /** How long to hold the acknowledgement of a write of `bytes` admitted now (0: none). */
  delayFor(bytes: number, nowMs: number): number {
    if (this.pressure !== 'slowdown' || this.rateBytesPerSec <= 0) return 0;
    const start = Math.max(nowMs, this.nextFreeMs);
    this.nextFreeMs = start + (bytes * 1000) / this.rateBytesPerSec;
    const delayMs = this.nextFreeMs - nowMs;
    if (delayMs < 1) return 0;
    this.delayedWrites++;
    this.delayMsTotal += delayMs;
    return delayMs;
  }

  get delayedRateBytesPerSec(): number {
    return this.pressure === 'slowdown' ? this.rateBytesPerSec : 0;
  }
}
