/**
 * Properties of the policy under any input sequence: whatever the load, the faults, and whether
 * the actuator carries out a decision (at once, later or never), it never flaps and never breaks
 * its floors or its ceiling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AutoscalePolicy, autoscaleConfig } from '../../src/core/autoscale/index.js';
import type { AutoscaleConfig, ClusterSnapshot, Decision } from '../../src/core/autoscale/index.js';
import type { Member } from './helpers.js';

const DCS = ['dc1', 'dc2'] as const;

const configArb: fc.Arbitrary<AutoscaleConfig> = fc.record({
  n: fc.integer({ min: 1, max: 5 }),
  minExtra: fc.integer({ min: 0, max: 3 }),
  span: fc.integer({ min: 0, max: 6 }),
  perDc: fc.option(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 })), { nil: undefined }),
  cooldownMs: fc.integer({ min: 0, max: 120_000 }),
  reverseExtraMs: fc.integer({ min: 0, max: 300_000 }),
  outSustainMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60_000 })),
  inSustainMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 120_000 })),
  changeTimeoutMs: fc.integer({ min: 1_000, max: 600_000 }),
}).map((r) => {
  const perDcMin = r.perDc ? { dc1: r.perDc[0], dc2: r.perDc[1] } : undefined;
  const n = perDcMin ? perDcMin.dc1 + perDcMin.dc2 : r.n;
  const minNodes = Math.max(1, n - 1) + r.minExtra; // sometimes below N: the floor is N anyway
  return autoscaleConfig({ minNodes, maxNodes: Math.max(minNodes, n) + r.span }, { n, ...(perDcMin ? { perDcMin } : {}) }, {
    cooldownMs: r.cooldownMs, reverseCooldownMs: r.cooldownMs + r.reverseExtraMs,
    scaleOutSustainMs: r.outSustainMs, scaleInSustainMs: r.inSustainMs, changeTimeoutMs: r.changeTimeoutMs,
  });
});

/** One evaluation's inputs, and what the actuator does with a change. */
interface Step {
  dtMs: number; load: number; elu: number; p99: number; stalls: number; underReplicated: boolean; transferInFlight: boolean;
  dropSample: boolean; apply: 'now' | 'never' | 'late'; churn: 'none' | 'lose' | 'gain';
}
/** The load side of a step: mostly idle or busy (so both bands are reached often), sometimes anything. */
const loadArb = fc.oneof(
  fc.record({ load: fc.double({ min: 0, max: 300, noNaN: true }), elu: fc.double({ min: 0, max: 0.1, noNaN: true }), p99: fc.double({ min: 0, max: 20, noNaN: true }), stalls: fc.constant(0) }),
  fc.record({ load: fc.double({ min: 10_000, max: 40_000, noNaN: true }), elu: fc.double({ min: 0.8, max: 1, noNaN: true }), p99: fc.double({ min: 0, max: 1000, noNaN: true }), stalls: fc.constantFrom(0, 3) }),
  fc.record({ load: fc.double({ min: 0, max: 40_000, noNaN: true }), elu: fc.double({ min: 0, max: 1, noNaN: true }), p99: fc.double({ min: 0, max: 1000, noNaN: true }), stalls: fc.constantFrom(0, 0, 0, 3) }),
);
const stepArb: fc.Arbitrary<Step> = fc.record({
  dtMs: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 90_000 })),
  l: loadArb,
  underReplicated: fc.constantFrom(false, false, false, true),
  transferInFlight: fc.constantFrom(false, false, false, true),
  dropSample: fc.constantFrom(false, false, false, false, true),
  apply: fc.constantFrom<Step['apply'][]>('now', 'now', 'now', 'never', 'late'),
  churn: fc.constantFrom<Step['churn'][]>('none', 'none', 'none', 'none', 'none', 'none', 'lose', 'gain'),
}).map(({ l, ...rest }) => ({ ...rest, ...l }));

function run(config: AutoscaleConfig, steps: readonly Step[], start: number): void {
  const policy = new AutoscalePolicy(config);
  let members: Member[] = [];
  let seq = 0;
  const add = (dc: string): void => { members.push({ nodeId: `m${seq++}`, dc }); };
  for (let i = 0; i < start; i++) add(DCS[i % 2]!);
  let now = 0;
  let late: (() => void) | undefined;
  const changes: { d: Decision; atMs: number }[] = [];
  const floor = Math.max(config.minNodes, config.n);
  for (const step of steps) {
    now += step.dtMs;
    if (late) { late(); late = undefined; }
    if (step.churn === 'lose' && members.length > 0) members = members.slice(1); // a node lost outside the policy
    if (step.churn === 'gain') add('dc1'); // an operator adds one
    const count = Math.max(1, members.length);
    const samples = members.map((m) => ({
      nodeId: m.nodeId, dc: m.dc, requestsPerSec: step.load / count, eventLoopUtilization: step.elu, p99LatencyMs: step.p99,
      storedBytes: 1e9 / count, stallsPerSec: step.stalls,
    }));
    const snap: ClusterSnapshot = {
      nowMs: now, members: [...members], samples: step.dropSample ? samples.slice(1) : samples,
      underReplicated: step.underReplicated, transferInFlight: step.transferInFlight,
    };
    const d = policy.decide(snap);
    assert.equal(d.actualNodes, members.length);
    if (d.action === 'hold') continue;
    assert.ok(!snap.underReplicated && !snap.transferInFlight, `${d.action} while under-replicated or transferring`);
    const prev = changes.at(-1);
    if (prev) {
      const gap = now - prev.atMs;
      assert.ok(gap >= config.cooldownMs, `change ${gap} ms after the previous one (cooldown ${config.cooldownMs})`);
      if (prev.d.action !== d.action) assert.ok(gap >= config.reverseCooldownMs, `${prev.d.action}→${d.action} after ${gap} ms (reverse cooldown ${config.reverseCooldownMs})`);
    }
    changes.push({ d, atMs: now });
    if (d.action === 'in') {
      assert.ok(members.length - 1 >= floor, `scale in from ${members.length} below the floor ${floor}`);
      const dc = d.dc!;
      const inDc = members.filter((m) => m.dc === dc);
      assert.ok(inDc.length >= 1, `scale in from ${dc}, which has no node`);
      assert.ok(inDc.length - 1 >= (config.perDcMin?.[dc] ?? 0), `scale in of ${dc} below its ${config.perDcMin?.[dc]}`);
      assert.equal(d.desiredNodes, members.length - 1);
      const victim = inDc.at(-1)!;
      const act = (): void => { members = members.filter((m) => m !== victim); };
      if (step.apply === 'now') act(); else if (step.apply === 'late') late = act;
    } else {
      assert.ok(members.length + 1 <= config.maxNodes, `scale out from ${members.length} above the maximum ${config.maxNodes}`);
      assert.equal(d.desiredNodes, members.length + 1);
      const dc = d.dc ?? 'dc1';
      if (step.apply === 'now') add(dc); else if (step.apply === 'late') late = () => add(dc);
    }
  }
}

test('never flaps, never breaks its floors or ceiling, never changes while unsafe (any input sequence)', () => {
  fc.assert(fc.property(configArb, fc.array(stepArb, { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 10 }),
    (config, steps, start) => { run(config, steps, start); }), { numRuns: 400 });
});

test('a steady load that swings between the bands every evaluation changes nothing more often than the cooldown', () => {
  fc.assert(fc.property(configArb, fc.integer({ min: 1_000, max: 60_000 }), (config, periodMs) => {
    const steps = Array.from({ length: 200 }, (_, i): Step => ({
      dtMs: periodMs, load: i % 2 === 0 ? 20_000 : 0, elu: i % 2 === 0 ? 0.95 : 0.01, p99: 5, stalls: 0,
      underReplicated: false, transferInFlight: false, dropSample: false, apply: 'now', churn: 'none',
    }));
    run(config, steps, config.minNodes);
  }), { numRuns: 100 });
});
