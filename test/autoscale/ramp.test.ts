/**
 * The simulated ramp: offered load rises from what 3 nodes carry easily to more than 6 can, stays,
 * and falls back, with noise, spikes and crashes; the policy drives a modelled cluster
 * (joins and leaves take time) from N to the maximum and back without flapping.
 * The modelled cluster stands in for the simulator's real nodes until those can join and leave
 * (src/sim/autoscale/scalable.ts says how an adapter plugs in).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { autoscaleConfig } from '../../src/core/autoscale/index.js';
import { ModelledCluster, rampProfile } from '../../src/sim/autoscale/model.js';
import { drive } from '../../src/sim/autoscale/driver.js';
import type { DriveResult } from '../../src/sim/autoscale/driver.js';

const MIN = 60_000;
const config = autoscaleConfig({ minNodes: 3, maxNodes: 6 }, { n: 3 });
const profile = rampProfile({ baseRps: 1000, peakRps: 14_000, startMs: 5 * MIN, upMs: 15 * MIN, holdMs: 10 * MIN, downMs: 15 * MIN });

function rampRun(seed: number): { result: DriveResult; cluster: ModelledCluster; log: string[] } {
  const cluster = new ModelledCluster({
    seed, profile, initialNodes: 3, capacityRps: 3000, transferMs: 20_000, dataBytes: 30e9, noise: 0.1,
    spikePerSec: 0.01, spikeMs: 10_000, crashPerSec: 0.0015, crashMs: 15_000,
  });
  const log: string[] = [];
  const result = drive(cluster, config, {
    evalEveryMs: 5_000, durationMs: 75 * MIN,
    onDecision: (t, d) => { if (d.action !== 'hold' || log.length < 400) log.push(`${(t / 1000).toFixed(0)}s ${d.action} ${d.reason} ${d.actualNodes}→${d.desiredNodes} ${d.detail}`); },
  });
  return { result, cluster, log };
}

describe('simulated ramp (modelled cluster)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}: N → max → N, one reversal, cooldowns kept, under faults`, () => {
      const { result, cluster, log } = rampRun(seed);
      const why = `seed ${seed}; changes: ${JSON.stringify(result.changes)}\n${log.filter((l) => !l.includes(' hold ')).join('\n')}`;
      assert.equal(result.counts[0]!.nodes, 3, why);
      assert.equal(result.peakNodes, 6, why);
      assert.equal(result.finalNodes, 3, why);
      assert.equal(result.reversals, 1, why);
      assert.equal(result.changes.filter((c) => c.action === 'out').length, 3, why);
      assert.equal(result.changes.filter((c) => c.action === 'in').length, 3, why);
      for (let i = 1; i < result.changes.length; i++) {
        const gap = result.changes[i]!.tMs - result.changes[i - 1]!.tMs;
        const reverse = result.changes[i]!.action !== result.changes[i - 1]!.action;
        assert.ok(gap >= (reverse ? config.reverseCooldownMs : config.cooldownMs), `${gap} ms between changes; ${why}`);
      }
      assert.ok(result.counts.every((c) => c.nodes >= 3 && c.nodes <= 6), why);
      // The faults happened (the test is not run on a quiet cluster).
      assert.ok(cluster.faults.some((f) => f.kind === 'spike'), why);
      assert.ok(cluster.faults.some((f) => f.kind === 'crash'), why);
    });
  }

  it('a flat load between the bands changes nothing', () => {
    const cluster = new ModelledCluster({
      seed: 9, profile: () => 4500, initialNodes: 3, capacityRps: 3000, transferMs: 20_000, dataBytes: 30e9, noise: 0.1,
      spikePerSec: 0.01, spikeMs: 10_000, crashPerSec: 0, crashMs: 0,
    });
    const result = drive(cluster, config, { evalEveryMs: 5_000, durationMs: 60 * MIN });
    assert.deepEqual(result.changes, []);
  });
});
