/**
 * The five limiter algorithms, on injected time. Each keeps a fixed number of float64s per key
 * in a shared Float64Array (`s`, from offset `b`), so a million keys cost a few typed-array
 * slots each and no objects. Every call takes `scale` in (0, 1]: a cluster-wide rule enforces
 * its share of the cluster limit on this node (see sync.ts); node rules pass 1.
 *
 * Exactness: with scale 1, integer times, limits and windows, every quantity compared below is
 * an integer (buckets count in "token × windowMs" units, windows compare `count × windowMs`),
 * so the virtual-time tests can assert exact counts. Fractions (cluster shares) compare with a
 * tolerance of EPS.
 *
 * Soft mode (`softFactor` = 1 + softPercent/100) raises the ceiling — bucket size, queue size
 * or per-window count — by that factor; `remaining` still counts against the nominal limit,
 * so a client that dips into the soft allowance sees `remaining: 0`.
 */

export const EPS = 1e-9;

export interface AlgoParams {
  limit: number;
  windowMs: number;
  /** Bucket or queue size. */
  burst: number;
  /** 1 for hard rules, 1 + softPercent/100 for soft ones. */
  softFactor: number;
  /** Leaky bucket: the longest a request may be held (the queue is cut to fit it). */
  delayMsMax: number;
}

/** Written by `admit` (reused across calls: no allocation per request). */
export interface Verdict {
  admitted: boolean;
  remaining: number;
  /** Refused: ms until a request would pass. */
  retryAfterMs: number;
  /** Admitted by a leaky bucket: ms to hold the request. */
  delayMs: number;
  /** Admitted only thanks to the soft allowance. */
  overNominal: boolean;
}

export interface Algorithm {
  /** Float64s of state per key. */
  readonly width: number;
  /** The state of a key never seen (or idle long enough to be forgotten). */
  init(s: Float64Array, b: number, nowMs: number, scale: number): void;
  admit(s: Float64Array, b: number, nowMs: number, scale: number, out: Verdict): void;
  /** True when the key's state is as good as fresh: forgetting it changes no future answer. */
  idle(s: Float64Array, b: number, nowMs: number): boolean;
}

export function newVerdict(): Verdict {
  return { admitted: false, remaining: 0, retryAfterMs: 0, delayMs: 0, overNominal: false };
}

function admitOut(out: Verdict, remaining: number, overNominal: boolean, delayMs = 0): void {
  out.admitted = true;
  out.remaining = remaining > 0 ? Math.floor(remaining + EPS) : 0;
  out.retryAfterMs = 0;
  out.delayMs = delayMs;
  out.overNominal = overNominal;
}

function refuseOut(out: Verdict, retryAfterMs: number): void {
  out.admitted = false;
  out.remaining = 0;
  out.retryAfterMs = Math.max(retryAfterMs, 1);
  out.delayMs = 0;
  out.overNominal = false;
}

/** Whole ms, rounding up, but not for the dust of float division (0.1 + 0.2). */
const ceilMs = (ms: number): number => Math.ceil(ms - 1e-6);

/** `x × scale`, never below one request (a share too small to admit anything would starve a node). */
const atLeastOne = (x: number, scale: number): number => Math.max(1, x * scale);

/**
 * Token bucket: state [level, lastMs], level in token × windowMs units (one request costs
 * windowMs, refill is `limit` per ms). A fresh bucket is full.
 */
export class TokenBucket implements Algorithm {
  readonly width = 2;
  constructor(private readonly p: AlgoParams) {}

  private capacity(scale: number): number {
    return atLeastOne(this.p.burst * this.p.softFactor, scale) * this.p.windowMs;
  }

  init(s: Float64Array, b: number, nowMs: number, scale: number): void {
    s[b] = this.capacity(scale);
    s[b + 1] = nowMs;
  }

  admit(s: Float64Array, b: number, nowMs: number, scale: number, out: Verdict): void {
    const { windowMs, limit } = this.p;
    const cap = this.capacity(scale);
    const rate = limit * scale;
    const elapsed = nowMs - s[b + 1]!;
    let level = elapsed > 0 ? Math.min(cap, s[b]! + elapsed * rate) : Math.min(cap, s[b]!);
    if (elapsed > 0) s[b + 1] = nowMs;
    const softExtra = cap - atLeastOne(this.p.burst, scale) * windowMs;
    if (level + EPS * windowMs < windowMs) {
      s[b] = level;
      refuseOut(out, (windowMs - level) / rate);
      return;
    }
    const overNominal = level - softExtra < windowMs - EPS * windowMs;
    level -= windowMs;
    s[b] = level;
    admitOut(out, (level - softExtra) / windowMs, overNominal);
  }

  idle(s: Float64Array, b: number, nowMs: number): boolean {
    // Judged at scale 1: a full bucket is what init gives.
    return s[b]! + (nowMs - s[b + 1]!) * this.p.limit >= this.capacity(1) - EPS;
  }
}

/**
 * Leaky bucket as a queue (virtual scheduling): state [nextFreeMs], the time the queue's last
 * request leaves. Requests leave one every `windowMs / limit` ms; an arrival waits until its
 * turn (the shell holds it `delayMs`) or is refused when `burst` requests are already ahead of
 * it or in service.
 */
export class LeakyBucket implements Algorithm {
  readonly width = 1;
  constructor(private readonly p: AlgoParams) {}

  private interval(scale: number): number {
    return this.p.windowMs / (this.p.limit * scale);
  }

  private queueSize(scale: number, interval: number): number {
    const q = Math.floor(atLeastOne(this.p.burst * this.p.softFactor, scale) + EPS);
    return Math.max(1, Math.min(q, Math.floor(this.p.delayMsMax / interval + EPS) + 1));
  }

  init(s: Float64Array, b: number, nowMs: number, scale: number): void {
    s[b] = nowMs - this.interval(scale);
  }

  admit(s: Float64Array, b: number, nowMs: number, scale: number, out: Verdict): void {
    const t = this.interval(scale);
    const q = this.queueSize(scale, t);
    const depart = Math.max(nowMs, s[b]! + t);
    const wait = depart - nowMs;
    // Positions 0 (served now) .. q-1 (the last place in the queue).
    if (wait > (q - 1) * t + EPS * t) {
      refuseOut(out, wait - (q - 1) * t);
      return;
    }
    s[b] = depart;
    const used = Math.floor(wait / t + EPS) + 1;
    const nominal = Math.floor(atLeastOne(this.p.burst, scale) + EPS);
    admitOut(out, nominal - used, used > nominal, wait);
  }

  idle(s: Float64Array, b: number, nowMs: number): boolean {
    return s[b]! + this.interval(1) <= nowMs + EPS;
  }
}

/** Fixed window counter: state [windowStartMs, count]; windows are aligned to multiples of windowMs. */
export class FixedWindow implements Algorithm {
  readonly width = 2;
  constructor(private readonly p: AlgoParams) {}

  init(s: Float64Array, b: number, nowMs: number): void {
    s[b] = nowMs - (nowMs % this.p.windowMs);
    s[b + 1] = 0;
  }

  admit(s: Float64Array, b: number, nowMs: number, scale: number, out: Verdict): void {
    const { windowMs } = this.p;
    const start = nowMs - (nowMs % windowMs);
    if (s[b] !== start) {
      s[b] = start;
      s[b + 1] = 0;
    }
    const count = s[b + 1]!;
    const allowance = atLeastOne(this.p.limit * this.p.softFactor, scale);
    if (count + 1 > allowance + EPS) {
      refuseOut(out, start + windowMs - nowMs);
      return;
    }
    s[b + 1] = count + 1;
    const nominal = atLeastOne(this.p.limit, scale);
    admitOut(out, nominal - count - 1, count + 1 > nominal + EPS);
  }

  idle(s: Float64Array, b: number, nowMs: number): boolean {
    return s[b + 1] === 0 || s[b]! + this.p.windowMs <= nowMs;
  }
}

/**
 * Sliding window log: state [count, head, t0 .. t(cap-1)], a ring of the admission times still
 * inside the window (ascending). A time t is inside at `now` when t > now − windowMs, so no
 * half-open window of windowMs ever holds more than the allowance.
 */
export class SlidingWindowLog implements Algorithm {
  readonly width: number;
  /** Most admissions any window may hold. */
  private readonly cap: number;
  /** Ring size: one spare place, so a rolled-back push (limiter.ts) never overwrote a live entry. */
  private readonly ring: number;
  constructor(private readonly p: AlgoParams) {
    this.cap = Math.max(1, Math.ceil(p.limit * p.softFactor - EPS));
    this.ring = this.cap + 1;
    this.width = 2 + this.ring;
  }

  init(s: Float64Array, b: number): void {
    s[b] = 0;
    s[b + 1] = 0;
  }

  admit(s: Float64Array, b: number, nowMs: number, scale: number, out: Verdict): void {
    const { cap, ring } = this;
    const horizon = nowMs - this.p.windowMs;
    let count = s[b]!;
    let head = s[b + 1]!;
    while (count > 0 && s[b + 2 + head]! <= horizon) {
      head = head + 1 === ring ? 0 : head + 1;
      count--;
    }
    s[b] = count;
    s[b + 1] = head;
    const allowance = Math.min(cap, atLeastOne(this.p.limit * this.p.softFactor, scale));
    if (count + 1 > allowance + EPS) {
      // The (count + 1 − allowance)-th oldest must leave the window first.
      const k = Math.max(0, Math.ceil(count + 1 - allowance - EPS) - 1);
      const oldest = s[b + 2 + ((head + k) % ring)]!;
      refuseOut(out, oldest + this.p.windowMs - nowMs);
      return;
    }
    s[b + 2 + ((head + count) % ring)] = nowMs;
    s[b] = count + 1;
    const nominal = atLeastOne(this.p.limit, scale);
    admitOut(out, nominal - count - 1, count + 1 > nominal + EPS);
  }

  idle(s: Float64Array, b: number, nowMs: number): boolean {
    const count = s[b]!;
    if (count === 0) return true;
    const newest = s[b + 2 + ((s[b + 1]! + count - 1) % this.ring)]!;
    return newest <= nowMs - this.p.windowMs;
  }
}

/**
 * Sliding window counter: state [windowStartMs, current, previous]. The estimate at elapsed e
 * into the current window is previous × (W − e)/W + current; compared as integers × W.
 */
export class SlidingWindowCounter implements Algorithm {
  readonly width = 3;
  constructor(private readonly p: AlgoParams) {}

  init(s: Float64Array, b: number, nowMs: number): void {
    s[b] = nowMs - (nowMs % this.p.windowMs);
    s[b + 1] = 0;
    s[b + 2] = 0;
  }

  admit(s: Float64Array, b: number, nowMs: number, scale: number, out: Verdict): void {
    const w = this.p.windowMs;
    const start = nowMs - (nowMs % w);
    if (s[b] !== start) {
      s[b + 2] = start - s[b]! === w ? s[b + 1]! : 0;
      s[b + 1] = 0;
      s[b] = start;
    }
    const cur = s[b + 1]!;
    const prev = s[b + 2]!;
    const e = nowMs - start;
    const allowance = atLeastOne(this.p.limit * this.p.softFactor, scale);
    const weighted = prev * (w - e) + cur * w; // estimate × W
    if (weighted + w > allowance * w + EPS * w) {
      refuseOut(out, this.retryAfter(e, cur, prev, allowance));
      return;
    }
    s[b + 1] = cur + 1;
    const nominal = atLeastOne(this.p.limit, scale);
    admitOut(out, nominal - (weighted + w) / w, weighted + w > nominal * w + EPS * w);
  }

  private retryAfter(e: number, cur: number, prev: number, allowance: number): number {
    const w = this.p.windowMs;
    if (cur + 1 <= allowance + EPS && prev > 0) {
      // Later in this window the previous one weighs less: solve prev × (W − e')/W + cur + 1 = allowance.
      return ceilMs(w * (1 - (allowance - 1 - cur) / prev) - e);
    }
    // Only the next window helps, where this one's count is the "previous".
    const next = cur > 0 ? Math.max(0, w * (1 - (allowance - 1) / cur)) : 0;
    return ceilMs(w - e + next);
  }

  idle(s: Float64Array, b: number, nowMs: number): boolean {
    const w = this.p.windowMs;
    return (s[b + 1] === 0 && (s[b + 2] === 0 || s[b]! + w <= nowMs)) || s[b]! + 2 * w <= nowMs;
  }
}

export function createAlgorithm(kind: string, p: AlgoParams): Algorithm {
  switch (kind) {
    case 'token_bucket': return new TokenBucket(p);
    case 'leaky_bucket': return new LeakyBucket(p);
    case 'fixed_window': return new FixedWindow(p);
    case 'sliding_window_log': return new SlidingWindowLog(p);
    case 'sliding_window_counter': return new SlidingWindowCounter(p);
    default: throw new Error(`unknown rate-limit algorithm ${kind}`);
  }
}
