/**
 * A log-bucketed latency histogram (HDR-style: a fixed relative error, here about 1.1%, over
 * microseconds to hours, in a fixed 17 KiB at the default precision). Used by the bench driver's summary and by the
 * dashboard's per-interval latency; merging two is adding their buckets.
 */
const SUB_BUCKETS = 64; // per power of two: bucket width 2^(1/64) - 1 ≈ 1.09%
const MAX_EXPONENT = 34; // 2^34 µs ≈ 4.8 hours

export interface HistogramSummary {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class LogHistogram {
  private readonly counts: Float64Array;
  private readonly buckets: number;
  count = 0;
  private sumMicros = 0;
  private minMicros = Infinity;
  private maxMicros = 0;

  /** `subBuckets` per power of two sets the precision: 64 ≈ 1.1% (the default), 8 ≈ 9%. */
  constructor(private readonly subBuckets = SUB_BUCKETS) {
    this.buckets = subBuckets * MAX_EXPONENT + 1;
    this.counts = new Float64Array(this.buckets);
  }

  /** Records one value in microseconds (values below 1 µs count as 1 µs). */
  record(micros: number): void {
    const v = Number.isFinite(micros) && micros > 1 ? micros : 1;
    const idx = Math.min(this.buckets - 1, Math.ceil(Math.log2(v) * this.subBuckets));
    this.counts[idx]!++;
    this.count++;
    this.sumMicros += v;
    if (v < this.minMicros) this.minMicros = v;
    if (v > this.maxMicros) this.maxMicros = v;
  }

  recordMs(ms: number): void {
    this.record(ms * 1000);
  }

  merge(other: LogHistogram): void {
    if (other.subBuckets !== this.subBuckets) throw new Error('cannot merge histograms of different precision');
    for (let i = 0; i < this.buckets; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sumMicros += other.sumMicros;
    this.minMicros = Math.min(this.minMicros, other.minMicros);
    this.maxMicros = Math.max(this.maxMicros, other.maxMicros);
  }

  /**
   * The value at quantile q (0..1] in microseconds: the upper edge of the bucket holding the
   * ceil(q·count)-th smallest value, capped at the largest value seen (0 when empty).
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxMicros, Math.max(this.minMicros, Math.pow(2, i / this.subBuckets)));
    }
    return this.maxMicros;
  }

  summary(): HistogramSummary {
    const ms = (micros: number): number => Math.round(micros) / 1000;
    return {
      count: this.count,
      minMs: this.count ? ms(this.minMicros) : 0,
      meanMs: this.count ? ms(this.sumMicros / this.count) : 0,
      p50Ms: ms(this.quantile(0.5)),
      p95Ms: ms(this.quantile(0.95)),
      p99Ms: ms(this.quantile(0.99)),
      p999Ms: ms(this.quantile(0.999)),
      maxMs: ms(this.maxMicros),
    };
  }
}
