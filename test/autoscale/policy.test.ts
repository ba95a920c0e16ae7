import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AutoscalePolicy, autoscaleConfig, configProblems } from '../../src/core/autoscale/index.js';
import type { AutoscaleConfig } from '../../src/core/autoscale/index.js';
import { members, snapshot } from './helpers.js';

const cfg = (over: Partial<AutoscaleConfig> = {}): AutoscaleConfig => autoscaleConfig({ minNodes: 3, maxNodes: 6 }, { n: 3 }, {
  scaleOutSustainMs: 10_000, scaleInSustainMs: 20_000, cooldownMs: 30_000, reverseCooldownMs: 60_000, changeTimeoutMs: 120_000, ...over,
});

describe('autoscale policy', () => {
  it('does not scale out on a spike shorter than the sustain time, and does once it lasts', () => {
    const p = new AutoscalePolicy(cfg());
    const ms = members(3);
    assert.equal(p.decide(snapshot(0, ms, { requestsPerSec: 5000 })).reason, 'sustaining');
    assert.equal(p.decide(snapshot(5_000, ms, { requestsPerSec: 1000 })).reason, 'steady'); // spike over: timer reset
    assert.equal(p.decide(snapshot(6_000, ms, { requestsPerSec: 5000 })).reason, 'sustaining');
    assert.equal(p.decide(snapshot(15_000, ms, { requestsPerSec: 5000 })).action, 'hold');
    const d = p.decide(snapshot(16_000, ms, { requestsPerSec: 5000 }));
    assert.equal(d.action, 'out');
    assert.equal(d.reason, 'requests_high');
    assert.equal(d.desiredNodes, 4);
    assert.equal(d.actualNodes, 3);
    assert.equal(d.dc, 'dc1');
  });

  it('names the first signal over its threshold', () => {
    for (const [fig, reason] of [[{ eventLoopUtilization: 0.9 }, 'event_loop_high'], [{ p99LatencyMs: 900 }, 'p99_high'],
      [{ storedBytes: 100 * 1024 ** 3 }, 'bytes_high'], [{ stallsPerSec: 5 }, 'stalls_high']] as const) {
      const p = new AutoscalePolicy(cfg({ scaleOutSustainMs: 0 }));
      assert.equal(p.decide(snapshot(0, members(3), fig)).reason, reason);
    }
  });

  it('holds one change at a time until the membership shows it, or gives it up after the timeout', () => {
    const p = new AutoscalePolicy(cfg({ scaleOutSustainMs: 0, cooldownMs: 0, reverseCooldownMs: 0 }));
    assert.equal(p.decide(snapshot(0, members(3), { requestsPerSec: 5000 })).action, 'out');
    const pending = p.decide(snapshot(1_000, members(3), { requestsPerSec: 5000 }));
    assert.equal(pending.reason, 'change_pending');
    assert.equal(pending.desiredNodes, 4);
    assert.equal(p.decide(snapshot(2_000, members(4), { requestsPerSec: 5000 })).action, 'out'); // seen: next may start
    assert.equal(p.decide(snapshot(200_000, members(4), { requestsPerSec: 5000 })).reason, 'change_timeout');
    assert.equal(p.decide(snapshot(201_000, members(4), { requestsPerSec: 5000 })).action, 'out');
  });

  it('waits out the cooldown, and the longer reverse cooldown before going the other way', () => {
    const p = new AutoscalePolicy(cfg({ scaleOutSustainMs: 0, scaleInSustainMs: 0 }));
    assert.equal(p.decide(snapshot(0, members(3), { requestsPerSec: 5000 })).action, 'out');
    assert.equal(p.decide(snapshot(10_000, members(4), { requestsPerSec: 5000 })).reason, 'cooldown');
    assert.equal(p.decide(snapshot(30_000, members(4), { requestsPerSec: 5000 })).action, 'out');
    assert.equal(p.decide(snapshot(40_000, members(5))).reason, 'cooldown'); // idle, but within both cooldowns
    assert.equal(p.decide(snapshot(80_000, members(5))).reason, 'cooldown'); // past cooldownMs, within reverseCooldownMs
    const d = p.decide(snapshot(90_000, members(5)));
    assert.equal(d.action, 'in');
    assert.equal(d.reason, 'load_low');
  });

  it('judges scale-in on the load the remaining nodes would carry (hysteresis)', () => {
    const p = new AutoscalePolicy(cfg({ scaleInSustainMs: 0 }));
    // 700 rps per node is under the in threshold (800), but 4 nodes' load on 3 is 933: hold.
    assert.equal(p.decide(snapshot(0, members(4), { requestsPerSec: 700 })).reason, 'steady');
    assert.equal(p.decide(snapshot(1_000, members(4), { requestsPerSec: 500 })).action, 'in');
  });

  it('never goes below max(minNodes, N), nor below a DC\'s replica count', () => {
    const p = new AutoscalePolicy(autoscaleConfig({ minNodes: 2, maxNodes: 6 }, { n: 3 }, { scaleInSustainMs: 0 }));
    assert.equal(p.decide(snapshot(0, members(3))).reason, 'floor_n');
    const dcs = new AutoscalePolicy(autoscaleConfig({ minNodes: 3, maxNodes: 8 }, { n: 5, perDcMin: { dc1: 3, dc2: 2 } }, { scaleInSustainMs: 0 }));
    const six = [...members(3, 'dc1', 'a'), ...members(3, 'dc2', 'b')];
    const d = dcs.decide(snapshot(0, six));
    assert.equal(d.action, 'in');
    assert.equal(d.dc, 'dc2'); // dc1 is at its 3
    const atFloor = new AutoscalePolicy(autoscaleConfig({ minNodes: 3, maxNodes: 8 }, { n: 5, perDcMin: { dc1: 3, dc2: 2 } }, { scaleInSustainMs: 0 }));
    assert.equal(atFloor.decide(snapshot(0, [...members(4, 'dc1', 'a'), ...members(2, 'dc2', 'b')].slice(1))).reason, 'floor_n');
    assert.equal(atFloor.decide(snapshot(1, [...members(3, 'dc1', 'a'), ...members(2, 'dc2', 'b'), { nodeId: 'c', dc: 'dc3' }])).dc, 'dc3');
  });

  it('grows the DC below its minimum first, else the busiest one', () => {
    const p = new AutoscalePolicy(autoscaleConfig({ minNodes: 6, maxNodes: 8 }, { n: 4, perDcMin: { dc1: 2, dc2: 2 } }, {}));
    assert.equal(p.decide(snapshot(0, [...members(4, 'dc1', 'a'), ...members(1, 'dc2', 'b')])).dc, 'dc2');
    const q = new AutoscalePolicy(cfg({ scaleOutSustainMs: 0 }));
    const ms = [...members(2, 'dc1', 'a'), ...members(2, 'dc2', 'b')];
    const s = snapshot(0, ms, { requestsPerSec: 3000 });
    const busier = { ...s, samples: s.samples.map((x) => (x.dc === 'dc2' ? { ...x, requestsPerSec: 4000 } : x)) };
    assert.equal(q.decide(busier).dc, 'dc2');
  });

  it('changes nothing while under-replicated or while a transfer runs', () => {
    for (const flags of [{ underReplicated: true }, { transferInFlight: true }]) {
      const p = new AutoscalePolicy(cfg({ scaleOutSustainMs: 0, scaleInSustainMs: 0 }));
      const d1 = p.decide(snapshot(0, members(3), { requestsPerSec: 9000 }, flags));
      assert.equal(d1.action, 'hold');
      assert.equal(d1.reason, flags.underReplicated ? 'under_replicated' : 'transfer_in_flight');
      assert.equal(p.decide(snapshot(1, members(5), {}, flags)).action, 'hold');
      assert.equal(p.decide(snapshot(2, members(5), {}, {})).action, 'in');
    }
  });

  it('holds without figures from every member, and stops at the maximum', () => {
    const p = new AutoscalePolicy(cfg({ scaleOutSustainMs: 0 }));
    const s = snapshot(0, members(3), { requestsPerSec: 9000 });
    const d = p.decide({ ...s, samples: s.samples.slice(1) });
    assert.equal(d.reason, 'no_data');
    assert.match(d.detail, /n0/);
    assert.equal(p.decide(snapshot(1, members(6), { requestsPerSec: 9000 })).reason, 'at_max');
  });

  it('brings the count into the range first: below min out, above max in', () => {
    const p = new AutoscalePolicy(cfg({ scaleOutSustainMs: 999_999 }));
    assert.equal(p.decide(snapshot(0, members(2), { requestsPerSec: 100 })).reason, 'below_min');
    const q = new AutoscalePolicy(cfg({ scaleInSustainMs: 999_999 }));
    assert.equal(q.decide(snapshot(0, members(8), { requestsPerSec: 1500 })).reason, 'above_max');
  });

  it('refuses a configuration that could flap or cannot hold its floors', () => {
    assert.deepEqual(configProblems(cfg()), []);
    const bad = configProblems(cfg({ scaleIn: { requestsPerSecPerNode: 3000 }, scaleOut: { requestsPerSecPerNode: 2000 }, reverseCooldownMs: 1 }));
    assert.ok(bad.some((l) => /hysteresis/.test(l)), bad.join('; '));
    assert.ok(bad.some((l) => /reverseCooldownMs/.test(l)), bad.join('; '));
    assert.ok(configProblems(autoscaleConfig({ minNodes: 3, maxNodes: 2 }, { n: 3 })).length >= 2);
    assert.throws(() => new AutoscalePolicy(autoscaleConfig({ minNodes: 1, maxNodes: 4 }, { n: 3, perDcMin: { a: 3, b: 3 } })), /per-DC/);
  });
});
