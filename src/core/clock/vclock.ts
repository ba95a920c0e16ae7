/**
 * Vector clocks as sorted arrays of entries. A clock maps a node id to the highest counter of
 * that node's events it has seen; each entry also keeps the time (ms) it last advanced, used only
 * to choose which entries to prune.
 *
 * The clocks here are the *causal contexts* of dotted version vectors: an entry `X: m` means
 * "every event of X for this key up to m has been seen". That is true because a node only ever
 * creates a dot for a key from its own local state of that key, which holds all its earlier dots
 * for the key (see docs/architecture.md, "Versioning").
 */
export interface ClockEntry {
  readonly node: string;
  readonly counter: number;
  readonly tsMs: number;
}
/** Entries sorted by node id, one per node, counters ≥ 1. */
export type VClock = readonly ClockEntry[];

/** A single event: the write that made a version. */
export interface Dot {
  readonly node: string;
  readonly counter: number;
}

export type Ordering = 'before' | 'after' | 'equal' | 'concurrent';

export const EMPTY_CLOCK: VClock = Object.freeze([]) as VClock;

export function counterOf(clock: VClock, node: string): number {
  // Clocks are short (≤ ~10 entries): a linear scan beats anything cleverer.
  for (const e of clock) if (e.node === node) return e.counter;
  return 0;
}

export function coversDot(clock: VClock, dot: Dot): boolean {
  return counterOf(clock, dot.node) >= dot.counter;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The least upper bound: per node, the larger counter. */
export function mergeClocks(a: VClock, b: VClock): VClock {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: ClockEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && cmpStr(x.node, y.node) < 0)) { out.push(x!); i++; continue; }
    if (x === undefined || cmpStr(y.node, x.node) < 0) { out.push(y); j++; continue; }
    if (x.counter > y.counter) out.push(x);
    else if (y.counter > x.counter) out.push(y);
    else out.push(x.tsMs >= y.tsMs ? x : y);
    i++;
    j++;
  }
  return out;
}

/** Adds a dot to a clock (a no-op when the clock already covers it). */
export function addDot(clock: VClock, dot: Dot, tsMs: number): VClock {
  return mergeClocks(clock, [{ node: dot.node, counter: dot.counter, tsMs }]);
}

/** Advances `node`'s entry by one: the classic increment. */
export function increment(clock: VClock, node: string, tsMs: number): VClock {
  return addDot(clock, { node, counter: counterOf(clock, node) + 1 }, tsMs);
}

export function compareClocks(a: VClock, b: VClock): Ordering {
  let aBigger = false;
  let bBigger = false;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && cmpStr(x.node, y.node) < 0)) { aBigger = true; i++; }
    else if (x === undefined || cmpStr(y.node, x.node) < 0) { bBigger = true; j++; }
    else {
      if (x.counter > y.counter) aBigger = true;
      else if (y.counter > x.counter) bBigger = true;
      i++;
      j++;
    }
    if (aBigger && bBigger) return 'concurrent';
  }
  if (aBigger) return 'after';
  if (bBigger) return 'before';
  return 'equal';
}

export function clockFromObject(obj: Readonly<Record<string, number>>, tsMs = 0): VClock {
  return Object.keys(obj)
    .sort(cmpStr)
    .filter((node) => (obj[node] ?? 0) > 0)
    .map((node) => ({ node, counter: obj[node]!, tsMs }));
}

export function clockToObject(clock: VClock): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of clock) out[e.node] = e.counter;
  return out;
}

/** How far `pruneClock` may go: a soft bound for old entries, a hard one for all. */
export interface PruneBounds {
  /** Past this many entries, entries older than `youngMs` go (oldest first). */
  readonly softMax: number;
  /** Past this many entries, the oldest go whatever their age. */
  readonly hardMax: number;
  /** The writer's clock (ms); entries advanced after `nowMs - youngMs` are young. */
  readonly nowMs: number;
  readonly youngMs: number;
}

/**
 * Prunes a clock as Riak does (`small_vclock`, `young_vclock`): past `softMax` entries, the
 * entries that have not advanced for `youngMs` are dropped, oldest first, down to `softMax`;
 * past `hardMax`, the oldest are dropped whatever their age. Never an entry in `keep` (the nodes
 * whose dots are live siblings, and the writer's own). Dropping an entry can only make versions
 * look concurrent later (a superseded version still held by a replica that missed the newer
 * write comes back as a sibling); it can never make a live version look superseded, so pruning
 * never drops a version. The age rule keeps that window shut: a replica that missed a write
 * hears of it (read repair, hints, anti-entropy) long before the entry is old.
 */
export function pruneClock(clock: VClock, bounds: PruneBounds, keep: ReadonlySet<string>): VClock {
  if (clock.length <= bounds.softMax) return clock;
  const candidates = clock
    .filter((e) => !keep.has(e.node))
    .sort((x, y) => x.tsMs - y.tsMs || cmpStr(x.node, y.node));
  const oldBefore = bounds.nowMs - bounds.youngMs;
  const drop = new Set<string>();
  let length = clock.length;
  for (const e of candidates) {
    const old = e.tsMs < oldBefore;
    if (!(length > bounds.hardMax || (length > bounds.softMax && old))) break;
    drop.add(e.node);
    length--;
  }
  return drop.size === 0 ? clock : clock.filter((e) => !drop.has(e.node));
}

export function dotKey(dot: Dot): string {
  return `${dot.counter}@${dot.node}`;
}

export function sameDot(a: Dot, b: Dot): boolean {
  return a.node === b.node && a.counter === b.counter;
}
