/**
 * A Prometheus histogram for the request path. prom-client's `observe` validates and hashes the
 * label set on every call, even through a `labels(...)` child; here a child is a series found
 * once, and an observation is a bucket search over a dozen bounds and three additions. Rendered
 * in the same exposition format as prom-client's (`le` first, cumulative buckets, `_sum`, `_count`).
 */
interface Series {
  readonly labels: string;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class FastHistogram {
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string, readonly help: string, readonly labelNames: readonly string[], readonly buckets: readonly number[],
  ) {}

  /** The observer of one label set (values in `labelNames` order); keep it, it is cheap to call. */
  child(...values: string[]): (value: number) => void {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      const labels = this.labelNames.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`).join(',');
      s = { labels, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const series = s;
    const bounds = this.buckets;
    return (value: number): void => {
      if (!Number.isFinite(value)) return;
      let i = 0;
      while (i < bounds.length && value > bounds[i]!) i++;
      series.counts[i]!++;
      series.sum += value;
      series.count++;
    };
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      let cum = 0;
      const sep = s.labels === '' ? '' : ',';
      this.buckets.forEach((b, i) => {
        cum += s.counts[i]!;
        lines.push(`${this.name}_bucket{le="${b}"${sep}${s.labels}} ${cum}`);
      });
      lines.push(`${this.name}_bucket{le="+Inf"${sep}${s.labels}} ${s.count}`);
      const braces = s.labels === '' ? '' : `{${s.labels}}`;
      lines.push(`${this.name}_sum${braces} ${s.sum}`, `${this.name}_count${braces} ${s.count}`);
    }
    return lines.join('\n') + '\n';
  }
}
