/**
 * Each algorithm on virtual time, with exact counts: bursts, refill, windows and their edges,
 * soft allowances, retry-after values, and idleness (forgetting an idle key changes nothing).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AlgoParams, Algorithm, Verdict } from '../../src/core/ratelimit/index.js';
import { createAlgorithm, newVerdict } from '../../src/core/ratelimit/index.js';

const T0 = 1_700_000_000_000; // a window boundary for windows of 1, 10, 100, 1000 ms

function params(over: Partial<AlgoParams> = {}): AlgoParams {
  return { limit: 10, windowMs: 1000, burst: 10, softFactor: 1, delayMsMax: 30_000, ...over };
}

/** One key's state and a way to send requests at given times. */
class Key {
  readonly s: Float64Array;
  readonly v: Verdict = newVerdict();
  constructor(readonly algo: Algorithm, nowMs: number, readonly scale = 1) {
    this.s = new Float64Array(algo.width);
    algo.init(this.s, 0, nowMs, scale);
  }
  hit(nowMs: number): Verdict {
    this.algo.admit(this.s, 0, nowMs, this.scale, this.v);
    return { ...this.v };
  }
  /** How many of `n` requests at `nowMs` pass. */
  burst(nowMs: number, n: number): number {
    let ok = 0;
    for (let i = 0; i < n; i++) if (this.hit(nowMs).admitted) ok++;
    return ok;
  }
}

describe('token bucket', () => {
  it('admits the bucket size at once, then refills at limit/window', () => {
    const k = new Key(createAlgorithm('token_bucket', params()), T0);
    assert.equal(k.burst(T0, 50), 10);
    const refused = k.hit(T0);
    assert.equal(refused.admitted, false);
    assert.equal(refused.retryAfterMs, 100);
    assert.equal(k.hit(T0 + 99).admitted, false);
    assert.equal(k.hit(T0 + 100).admitted, true);
    assert.equal(k.hit(T0 + 100).admitted, false);
    // 1 s later: 10 tokens back, never more than the bucket size.
    assert.equal(k.burst(T0 + 5000, 50), 10);
  });

  it('counts remaining down to 0 and a bucket larger than the rate', () => {
    const k = new Key(createAlgorithm('token_bucket', params({ burst: 25 })), T0);
    assert.equal(k.hit(T0).remaining, 24);
    assert.equal(k.burst(T0, 100), 24);
    // Sustained: one request every 100 ms passes forever, one every 90 ms does not.
    let ok = 0;
    for (let t = 100; t <= 10_000; t += 100) if (k.hit(T0 + t).admitted) ok++;
    assert.equal(ok, 100);
  });

  it('soft mode admits softPercent more in a burst but reports remaining against the limit', () => {
    const k = new Key(createAlgorithm('token_bucket', params({ softFactor: 1.1 })), T0);
    const vs = Array.from({ length: 20 }, () => k.hit(T0));
    assert.equal(vs.filter((v) => v.admitted).length, 11);
    assert.equal(vs[0]!.remaining, 9);
    assert.equal(vs[8]!.remaining, 1);
    assert.equal(vs[9]!.remaining, 0);
    assert.equal(vs[10]!.admitted, true);
    assert.equal(vs[10]!.remaining, 0);
    assert.equal(vs[10]!.overNominal, true);
    assert.equal(vs[9]!.overNominal, false);
  });

  it('a share of the limit (cluster rules) scales bucket and rate', () => {
    const k = new Key(createAlgorithm('token_bucket', params({ limit: 90, burst: 30 })), T0, 1 / 3);
    assert.equal(k.burst(T0, 100), 10);
    assert.equal(k.burst(T0 + 1000, 100), 10); // 30 per s refill, bucket of 10
  });
});

describe('leaky bucket (queue)', () => {
  it('admits a burst of queue size with growing delays, one departure every window/limit', () => {
    const k = new Key(createAlgorithm('leaky_bucket', params({ limit: 10, burst: 5 })), T0);
    const vs = Array.from({ length: 8 }, () => k.hit(T0));
    assert.deepEqual(vs.map((v) => v.admitted), [true, true, true, true, true, false, false, false]);
    assert.deepEqual(vs.slice(0, 5).map((v) => v.delayMs), [0, 100, 200, 300, 400]);
    assert.deepEqual(vs.slice(0, 5).map((v) => v.remaining), [4, 3, 2, 1, 0]);
    assert.equal(vs[5]!.retryAfterMs, 100);
    // At +100 the head left: one place free, served at +500.
    const next = k.hit(T0 + 100);
    assert.equal(next.admitted, true);
    assert.equal(next.delayMs, 400);
  });

  it('the outflow is steady: over 10 s of flooding, departures are exactly limit per second', () => {
    const k = new Key(createAlgorithm('leaky_bucket', params({ limit: 10, burst: 3 })), T0);
    const departures: number[] = [];
    for (let t = 0; t < 10_000; t += 7) {
      const v = k.hit(T0 + t);
      if (v.admitted) departures.push(T0 + t + v.delayMs);
    }
    for (let i = 1; i < departures.length; i++) assert.ok(departures[i]! - departures[i - 1]! >= 100 - 1e-6);
    assert.ok(departures.length >= 100 && departures.length <= 103, String(departures.length));
  });

  it('the queue is cut so that no request is held longer than delayMsMax', () => {
    const k = new Key(createAlgorithm('leaky_bucket', params({ limit: 1, windowMs: 1000, burst: 100, delayMsMax: 5000 })), T0);
    const vs = Array.from({ length: 10 }, () => k.hit(T0));
    assert.equal(vs.filter((v) => v.admitted).length, 6);
    assert.ok(vs.every((v) => v.delayMs <= 5000));
  });
});

describe('fixed window', () => {
  it('admits the limit per aligned window and says when the window ends', () => {
    const k = new Key(createAlgorithm('fixed_window', params()), T0);
    assert.equal(k.burst(T0 + 300, 15), 10);
    assert.equal(k.hit(T0 + 300).retryAfterMs, 700);
    assert.equal(k.hit(T0 + 999).admitted, false);
    assert.equal(k.burst(T0 + 1000, 15), 10);
  });

  it('the boundary flaw: twice the limit within 2 ms across a window edge', () => {
    const k = new Key(createAlgorithm('fixed_window', params()), T0);
    const before = k.burst(T0 + 999, 20);
    const after = k.burst(T0 + 1000, 20);
    assert.equal(before + after, 20); // 2 × limit in a 2 ms span
  });
});

describe('sliding window log', () => {
  it('admits the limit, then one more each time the oldest leaves the window', () => {
    const k = new Key(createAlgorithm('sliding_window_log', params()), T0);
    for (let i = 0; i < 10; i++) assert.equal(k.hit(T0 + i * 50).admitted, true);
    const r = k.hit(T0 + 600);
    assert.equal(r.admitted, false);
    assert.equal(r.retryAfterMs, 400); // the first (at T0) leaves at T0 + 1000
    assert.equal(k.hit(T0 + 999).admitted, false);
    assert.equal(k.hit(T0 + 1000).admitted, true);
    assert.equal(k.hit(T0 + 1000).admitted, false);
    assert.equal(k.hit(T0 + 1050).admitted, true);
  });

  it('no boundary flaw: the fixed window\'s 2 ms double burst gets only the limit', () => {
    const k = new Key(createAlgorithm('sliding_window_log', params()), T0);
    assert.equal(k.burst(T0 + 999, 20) + k.burst(T0 + 1000, 20), 10);
  });

  it('property: no window of windowMs ever holds more admissions than the limit', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 400 }),
      fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 300 }),
      (limit, windowMs, gaps) => {
        const k = new Key(createAlgorithm('sliding_window_log', params({ limit, windowMs })), T0);
        const admitted: number[] = [];
        let t = T0;
        for (const g of gaps) {
          t += g;
          if (k.hit(t).admitted) admitted.push(t);
        }
        // Every window [a, a + W) that starts at an admission holds at most `limit` (the worst windows start at one).
        for (let i = 0, j = 0; i < admitted.length; i++) {
          while (j < admitted.length && admitted[j]! < admitted[i]! + windowMs) j++;
          if (j - i > limit) return false;
        }
        // And it is not over-strict: it admits whenever the last window holds fewer than `limit`.
        return admitted.length > 0;
      },
    ), { numRuns: 300 });
  });

  it('property: a request is refused only when the window already holds the limit', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 200 }),
      (limit, gaps) => {
        const windowMs = 100;
        const k = new Key(createAlgorithm('sliding_window_log', params({ limit, windowMs })), T0);
        const admitted: number[] = [];
        let t = T0;
        for (const g of gaps) {
          t += g;
          const inWindow = admitted.filter((a) => a > t - windowMs).length;
          const v = k.hit(t);
          if (v.admitted !== inWindow < limit) return false;
          if (v.admitted) admitted.push(t);
        }
        return true;
      },
    ), { numRuns: 300 });
  });
});

describe('sliding window counter', () => {
  it('weighs the previous window by its overlap', () => {
    const k = new Key(createAlgorithm('sliding_window_counter', params()), T0);
    assert.equal(k.burst(T0 + 500, 10), 10);
    // At +1250 the previous window (10) weighs 0.75: estimate 7.5, so 2 more fit (9.5), not 3 (10.5).
    assert.equal(k.burst(T0 + 1250, 10), 2);
    const r = k.hit(T0 + 1250);
    assert.equal(r.admitted, false);
    // Solve 10 × (1000 − e)/1000 + 2 + 1 ≤ 10 → e ≥ 300: 50 ms later.
    assert.equal(r.retryAfterMs, 50);
    assert.equal(k.hit(T0 + 1299).admitted, false);
    assert.equal(k.hit(T0 + 1300).admitted, true);
  });

  it('the boundary double burst is cut to about the limit', () => {
    const k = new Key(createAlgorithm('sliding_window_counter', params()), T0);
    assert.equal(k.burst(T0 + 999, 20), 10);
    assert.equal(k.burst(T0 + 1000, 20), 0); // previous weighs 100%
    assert.equal(k.burst(T0 + 2000, 20), 10); // two windows later nothing weighs
  });
});

describe('idleness: forgetting an idle key changes no answer', () => {
  for (const kind of ['token_bucket', 'leaky_bucket', 'fixed_window', 'sliding_window_log', 'sliding_window_counter']) {
    it(kind, () => {
      fc.assert(fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 60 }),
        (steps) => {
          const algo = createAlgorithm(kind, params({ limit: 4, windowMs: 500, burst: 3 }));
          const kept = new Key(algo, T0);
          const fresh = new Key(algo, T0);
          let t = T0;
          for (const [gap, n] of steps) {
            t += gap;
            // Whenever the kept key is idle, a key created now must answer alike from here on.
            if (algo.idle(kept.s, 0, t)) algo.init(fresh.s, 0, t, 1);
            else fresh.s.set(kept.s);
            for (let i = 0; i < n; i++) {
              const a = kept.hit(t);
              const b = fresh.hit(t);
              if (a.admitted !== b.admitted) return false;
            }
          }
          return true;
        },
      ), { numRuns: 200 });
    });
  }

  it('a key just used is not idle', () => {
    for (const kind of ['token_bucket', 'leaky_bucket', 'fixed_window', 'sliding_window_log', 'sliding_window_counter']) {
      const algo = createAlgorithm(kind, params());
      const k = new Key(algo, T0);
      k.hit(T0 + 10);
      assert.equal(algo.idle(k.s, 0, T0 + 11), false, kind);
    }
  });
});
