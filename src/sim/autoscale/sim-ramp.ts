/**
 * A whole autoscale ramp over the simulator's real nodes (sim-cluster.ts): the first ring forms,
 * the workload and the faults start, the policy is driven over the ramp (real joins and leaves,
 * real partition transfer), then faults stop, the workload finishes, the liveness phase repairs
 * and reads every replica, and the simulator's checkers judge what the clients saw.
 */
import type { AutoscaleConfig, Decision } from '../../core/autoscale/index.js';
import { checkInvariants } from '../checker.js';
import type { Violation } from '../checker.js';
import { livenessPhase, runUntil } from '../run.js';
import { driveAsync } from './driver.js';
import type { DriveResult } from './driver.js';
import type { RingChangeRecord } from '../ring-change.js';
import { SimScalableCluster } from './sim-cluster.js';
import type { FaultRecord, SimScalableOptions } from './sim-cluster.js';

export interface SimRampResult {
  drive: DriveResult;
  violations: Violation[];
  converged: boolean;
  acknowledged: number;
  /** Acknowledged writes (puts and deletes). */
  acknowledgedWrites: number;
  /** Keys received by partition transfer, summed over every node and incarnation. */
  streamedKeys: number;
  faults: FaultRecord[];
  /** The joins and leaves the driver asked for, each with the virtual time it was committed at. */
  ringChanges: RingChangeRecord[];
  /** Writes acknowledged after the last change was committed (the workload ran through the whole ramp). */
  writesAfterLastChange: number;
  /** Members of the final ring, as every serving node has it ('' when they disagree or are moving). */
  finalMembers: string;
  /** Decisions other than holds, and holds whose reason changed (the log). */
  log: string[];
}

export async function runSimRamp(options: SimScalableOptions, config: AutoscaleConfig, o: { evalEveryMs: number; durationMs: number }): Promise<SimRampResult> {
  const sim = new SimScalableCluster(options);
  const { finished } = await sim.start();
  let done = false;
  void finished.then(() => { done = true; });
  const log: string[] = [];
  let lastReason = '';
  const onDecision = (t: number, d: Decision): void => {
    if (d.action === 'hold' && d.reason === lastReason) return;
    lastReason = d.action === 'hold' ? d.reason : '';
    log.push(`${(t / 1000).toFixed(1)}s ${d.action} ${d.reason} ${d.actualNodes}→${d.desiredNodes} ${d.detail}`);
  };
  const drive = await driveAsync(sim, config, { ...o, onDecision });
  sim.stopFaults();
  await runUntil(sim.cluster, () => done);
  const { converged, finalStates } = await livenessPhase(sim.cluster, sim.workload.keys, true);
  const violations = checkInvariants({ history: sim.workload.history, created: sim.created, finalStates });
  const up = sim.cluster.upNodes();
  const rings = up.map((n) => n.runtime?.clusterMeta()).map((m) => (m && !m.transition ? m.members.map((x) => x.nodeId).join(',') : ''));
  const ok = sim.workload.history.filter((r) => r.outcome === 'ok');
  const lastChangeMs = Math.max(...sim.changes.map((c) => c.atMs ?? Infinity));
  const result: SimRampResult = {
    drive, violations, converged, log,
    acknowledged: ok.length,
    acknowledgedWrites: ok.filter((r) => r.kind !== 'get').length,
    streamedKeys: sim.streamedKeys(),
    faults: sim.faults,
    ringChanges: sim.changes,
    writesAfterLastChange: ok.filter((r) => r.kind !== 'get' && r.startMs > lastChangeMs).length,
    finalMembers: rings.every((r) => r === rings[0]) ? rings[0] ?? '' : '',
  };
  for (const n of sim.cluster.nodes) n.runtime?.halt();
  return result;
}
