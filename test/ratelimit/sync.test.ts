/**
 * The cluster sync state machine on virtual time: three limiters whose syncs exchange rl-demand
 * messages over a simulated network with latency. Judged from what the client saw (admitted
 * counts), never from the limiter's own figures.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../src/sim/prng.js';
import {
  RateLimiter, RateLimitSync, isRateLimitMessage, isValidRlMessage,
} from '../../src/core/ratelimit/index.js';
import type { RateLimitRule, RlMessage } from '../../src/core/ratelimit/index.js';

const T0 = 1_700_000_000_000;

interface SimNode {
  id: string;
  limiter: RateLimiter;
  sync: RateLimitSync;
  /** Drops everything this node sends (a broken sync). */
  mute: boolean;
}

interface RunOptions {
  rule: RateLimitRule;
  nodes?: number;
  durationMs: number;
  ratePerSec: number;
  /** Which node gets the i-th request. */
  pick?: (i: number, rnd: Prng) => number;
  latencyMs?: number;
  seed?: number;
  mute?: string[];
  /** Count admissions from this time on (to skip warm-up). */
  measureFromMs?: number;
}

function run(o: RunOptions): { admitted: number; measured: number; perNode: number[]; nodes: SimNode[] } {
  const rnd = new Prng(o.seed ?? 1);
  const ids = Array.from({ length: o.nodes ?? 3 }, (_, i) => `n${i}`);
  const nodes: SimNode[] = ids.map((id) => {
    const limiter = new RateLimiter([o.rule]);
    const sync = new RateLimitSync();
    limiter.setShareSource(sync);
    return { id, limiter, sync, mute: o.mute?.includes(id) ?? false };
  });
  const inFlight: Array<{ at: number; to: SimNode; from: string; msg: RlMessage }> = [];
  const latency = o.latencyMs ?? 2;
  const gap = 1000 / o.ratePerSec;
  let nextReq = 0;
  let admitted = 0;
  let measured = 0;
  const perNode = ids.map(() => 0);
  let i = 0;
  for (let t = 0; t < o.durationMs; t++) {
    const now = T0 + t;
    for (let k = inFlight.length - 1; k >= 0; k--) {
      const m = inFlight[k]!;
      if (m.at > now) continue;
      inFlight.splice(k, 1);
      m.to.sync.receive(m.from, m.msg, now);
    }
    if (t % 100 === 0) {
      for (const n of nodes) {
        const out = n.sync.tick(now, ids.filter((x) => x !== n.id));
        if (n.mute) continue;
        for (const m of out) inFlight.push({ at: now + latency + rnd.int(3), to: nodes[Number(m.to.slice(1))]!, from: n.id, msg: m.msg });
      }
    }
    while (nextReq <= t) {
      const target = o.pick ? o.pick(i, rnd) : i % nodes.length;
      i++;
      nextReq += gap;
      const d = nodes[target]!.limiter.check({ route: 'GET /kv/a', clientIp: '192.0.2.7' }, now);
      if (d.admitted) {
        admitted++;
        perNode[target]!++;
        if (t >= (o.measureFromMs ?? 0)) measured++;
      }
    }
  }
  return { admitted, measured, perNode, nodes };
}

const clusterRule: RateLimitRule = {
  name: 'cluster-wide', algorithm: 'token_bucket', limit: 100, windowMs: 1000, burst: 20, scope: 'cluster',
};

describe('cluster-wide limits (sync on virtual time)', () => {
  it('1,000 req/s spread round-robin over 3 nodes for 10 s: about 100/s admitted, not 300/s', () => {
    const r = run({ rule: clusterRule, durationMs: 10_000, ratePerSec: 1000, measureFromMs: 1000 });
    const rate = r.measured / 9;
    assert.ok(Math.abs(rate - 100) <= 10, `steady admitted rate ${rate}/s`);
    assert.ok(r.admitted <= 1000 + 20 + 100, `total ${r.admitted} in 10 s`);
    for (const n of r.perNode) assert.ok(n > 250, `each node admits its share: ${r.perNode.join(',')}`);
  });

  it('uneven spreading (random, 60/30/10) still sums to about the cluster limit', () => {
    const r = run({
      rule: clusterRule, durationMs: 10_000, ratePerSec: 1000, measureFromMs: 1000, seed: 7,
      pick: (_i, rnd) => { const x = rnd.next(); return x < 0.6 ? 0 : x < 0.9 ? 1 : 2; },
    });
    const rate = r.measured / 9;
    assert.ok(Math.abs(rate - 100) <= 10, `steady admitted rate ${rate}/s`);
  });

  it('every algorithm holds the cluster limit within 10%', () => {
    for (const algorithm of ['token_bucket', 'leaky_bucket', 'fixed_window', 'sliding_window_log', 'sliding_window_counter'] as const) {
      const r = run({ rule: { ...clusterRule, algorithm }, durationMs: 6_000, ratePerSec: 1000, measureFromMs: 1000 });
      const rate = r.measured / 5;
      assert.ok(Math.abs(rate - 100) <= 10, `${algorithm}: ${rate}/s`);
    }
  });

  it('a client that uses one node only gets the whole limit there once the warm-up is over', () => {
    const r = run({ rule: clusterRule, durationMs: 5_000, ratePerSec: 1000, pick: () => 0, measureFromMs: 1000 });
    const rate = r.measured / 4;
    assert.ok(Math.abs(rate - 100) <= 5, `${rate}/s`);
  });

  it('fail-open: a node whose reports never arrive is not counted, so the others give more, never less', () => {
    const r = run({ rule: clusterRule, durationMs: 6_000, ratePerSec: 1000, mute: ['n2'], measureFromMs: 1000 });
    const rate = r.measured / 5;
    // n0 and n1 share the limit between them (n2's demand unknown to them); n2 sees both and takes a third.
    assert.ok(rate >= 100 && rate <= 150, `${rate}/s`);
  });

  it('a node rule on the same traffic admits nodes × limit (the contrast)', () => {
    const r = run({ rule: { ...clusterRule, scope: 'node' }, durationMs: 5_000, ratePerSec: 1000, measureFromMs: 1000 });
    assert.ok(Math.abs(r.measured / 4 - 300) <= 10, String(r.measured / 4));
  });
});

describe('rl-* messages are validated strictly', () => {
  const good: RlMessage = { type: 'rl-demand', v: 1, entries: [['r', 'ip:1.2.3.4', 12.5]] };

  it('accepts a well-formed message and recognises the family', () => {
    assert.equal(isValidRlMessage(good), true);
    assert.equal(isRateLimitMessage(good), true);
    assert.equal(isRateLimitMessage({ type: 'replica-put', id: 1 }), false);
    assert.equal(isRateLimitMessage(null), false);
  });

  it('drops and counts every malformed variant, and their entries change nothing', () => {
    const bad: unknown[] = [
      null, 7, 'rl-demand', [], { type: 'rl-demand' }, { ...good, v: 2 }, { ...good, type: 'rl-other' },
      { ...good, entries: 'x' }, { ...good, entries: [['r', 'k']] }, { ...good, entries: [['r', 'k', -1]] },
      { ...good, entries: [['r', 'k', Number.NaN]] }, { ...good, entries: [['r', 'k', Infinity]] },
      { ...good, entries: [['', 'k', 1]] }, { ...good, entries: [['r', '', 1]] }, { ...good, entries: [[1, 'k', 1]] },
      { ...good, entries: [['r'.repeat(65), 'k', 1]] }, { ...good, entries: [['r', 'k'.repeat(513), 1]] },
      { ...good, entries: Array.from({ length: 501 }, () => ['r', 'k', 1]) }, { ...good, entries: [['r', 'k', 1, 2]] },
    ];
    const sync = new RateLimitSync();
    for (const m of bad) assert.equal(sync.receive('n1', m, T0), false, JSON.stringify(m)?.slice(0, 80));
    assert.equal(sync.stats().malformed, bad.length);
    assert.equal(sync.stats().keys, 0);
    assert.equal(sync.receive('n1', good, T0), true);
    assert.equal(sync.stats().keys, 1);
  });

  it('a tick sends at most entriesPerMessage entries per message and nothing about idle keys', () => {
    const sync = new RateLimitSync();
    sync.tick(T0, ['n1']);
    for (let i = 0; i < 1200; i++) sync.share('r', `ip:${i}`, T0 + 1);
    const out = sync.tick(T0 + 100, ['n1']);
    assert.equal(out.length, 3);
    assert.ok(out.every((m) => isValidRlMessage(m.msg)));
    assert.equal(out.reduce((a, m) => a + m.msg.entries.length, 0), 1200);
    // Demand decays: reported, then a last 0, then forgotten.
    let ticks = 0;
    while (sync.stats().keys > 0 && ticks < 100) sync.tick(T0 + 200 + 100 * ticks++, ['n1']);
    assert.equal(sync.stats().keys, 0);
  });
});
