/**
 * The autoscale ramp over the simulator's real nodes: the policy drives real joins and leaves
 * (partition transfer streams the data) from 3 nodes to 6 and back, with nodes crashing and the
 * network dropping messages, while the simulator's clients read and write; the lost-write checker
 * and the convergence check judge the run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { autoscaleConfig } from '../../src/core/autoscale/index.js';
import { rampProfile } from '../../src/sim/autoscale/model.js';
import { runSimRamp } from '../../src/sim/autoscale/sim-ramp.js';
import type { SimRampResult } from '../../src/sim/autoscale/sim-ramp.js';

/** Virtual seconds: thresholds on requests per node, timings short enough for a 90 s ramp. */
const config = autoscaleConfig({ minNodes: 3, maxNodes: 6 }, { n: 3 }, {
  scaleOut: { requestsPerSecPerNode: 1000 }, scaleIn: { requestsPerSecPerNode: 400 },
  scaleOutSustainMs: 2_000, scaleInSustainMs: 4_000, cooldownMs: 3_000, reverseCooldownMs: 10_000, changeTimeoutMs: 60_000,
});
/** 900 requests/s (3 nodes idle along) → 7,000 (more than 6 nodes at 1,000 each) → 900. */
const profile = rampProfile({ baseRps: 900, peakRps: 7_000, startMs: 5_000, upMs: 20_000, holdMs: 15_000, downMs: 20_000 });
const FAULTS = { everyMs: 8_000, downMs: 2_000, dropRateMax: 0.05 };

function ramp(seed: number): Promise<SimRampResult> {
  return runSimRamp({ seed, initialNodes: 3, maxNodes: 6, profile, noise: 0.1, faults: FAULTS }, config, { evalEveryMs: 500, durationMs: 110_000 });
}

describe('simulator: the autoscale ramp over real joins and leaves', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 3 → 6 → 3 with real transfer, under faults, no acknowledged write lost`, async (t) => {
      const r = await ramp(seed);
      const why = `seed ${seed}; changes ${JSON.stringify(r.drive.changes)}; violations ${JSON.stringify(r.violations.slice(0, 3))}\n${r.log.join('\n')}`;
      assert.equal(r.drive.counts[0]!.nodes, 3, why);
      assert.equal(r.drive.peakNodes, 6, why);
      assert.equal(r.drive.finalNodes, 3, why);
      assert.equal(r.drive.reversals, 1, why);
      assert.deepEqual(r.drive.changes.map((c) => c.action), ['out', 'out', 'out', 'in', 'in', 'in'], why);
      for (let i = 1; i < r.drive.changes.length; i++) {
        const gap = r.drive.changes[i]!.tMs - r.drive.changes[i - 1]!.tMs;
        const reverse = r.drive.changes[i]!.action !== r.drive.changes[i - 1]!.action;
        assert.ok(gap >= (reverse ? config.reverseCooldownMs : config.cooldownMs), `${gap} ms between changes; ${why}`);
      }
      // Each change a real ring change: committed, and the ring ends on the three founders at every node.
      assert.ok(r.ringChanges.every((c) => c.atMs !== undefined), `every join and leave committed: ${JSON.stringify(r.ringChanges)}`);
      assert.deepEqual(r.ringChanges.map((c) => `${c.kind} ${c.node}`), ['join n3', 'join n4', 'join n5', 'leave n5', 'leave n4', 'leave n3'], why);
      assert.equal(r.finalMembers, 'n0,n1,n2', why);
      assert.ok(r.streamedKeys > 0, 'partition transfer streamed keys');
      // The checkers: no acknowledged write lost, no superseded value back, replicas converged.
      assert.deepEqual(r.violations, [], why);
      assert.ok(r.converged, why);
      // Not a quiet run: the clients wrote through the whole ramp, and nodes crashed meanwhile.
      assert.ok(r.acknowledgedWrites > 300, `${r.acknowledgedWrites} writes acknowledged`);
      assert.ok(r.writesAfterLastChange > 0, 'writes acknowledged after the last leave');
      assert.ok(r.faults.length >= 5, `${r.faults.length} crashes`);
      t.diagnostic(`changes at ${r.drive.changes.map((c) => `${(c.tMs / 1000).toFixed(1)} s ${c.from}→${c.to}`).join(', ')}; `
        + `${r.acknowledgedWrites} writes acknowledged (${r.writesAfterLastChange} after the last leave), ${r.streamedKeys} keys streamed, ${r.faults.length} crashes; `
        + `${r.violations.length} false siblings`);
    });
  }
});
