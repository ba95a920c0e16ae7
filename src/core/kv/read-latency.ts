/**
 * Recent round trips of replica reads, in ticks: how long a read waits before it asks its spares.
 * Cassandra's default speculative retry waits for the 99th percentile of recent reads; so does
 * this, never less than a floor (`KV_TIMING.readSpareAfterMs`). When the cluster is overloaded the
 * percentile grows with the round trips, so reads that are merely queued do not send more reads
 * (no retry storm); a replica that stopped answering is still worked around after the floor while
 * the others answer fast.
 */
export class ReadLatency {
  private readonly samples: number[] = [];
  private next = 0;
  private sinceSort = 0;
  private p99 = 0;

  /** `window`: the samples kept; the percentile is recomputed every `every` samples. */
  constructor(private readonly window = 512, private readonly every = 64) {}

  add(ticks: number): void {
    if (this.samples.length < this.window) this.samples.push(ticks);
    else this.samples[this.next] = ticks;
    this.next = (this.next + 1) % this.window;
    if (++this.sinceSort >= this.every) {
      this.sinceSort = 0;
      const sorted = [...this.samples].sort((a, b) => a - b);
      this.p99 = sorted[Math.floor(0.99 * (sorted.length - 1))]!;
    }
  }

  /** Ticks a read started now waits before asking its spares. */
  spareDelay(floorTicks: number): number {
    return Math.max(floorTicks, this.p99 + 1);
  }
}
