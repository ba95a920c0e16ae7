/**
 * Drives a policy against a ScalableCluster: every `evalEveryMs` of (virtual) time it lets the
 * cluster advance, takes a snapshot, asks the policy, and carries out a change (scale in removes
 * the newest member of the chosen DC, as an orchestrator stopping its highest ordinal would).
 * `drive` runs a synchronous cluster (the modelled one); `driveAsync` one whose time passes
 * asynchronously (the simulator's real nodes, sim-cluster.ts). Both share one step.
 */
import { AutoscalePolicy } from '../../core/autoscale/index.js';
import type { AutoscaleConfig, Decision } from '../../core/autoscale/index.js';
import type { AsyncScalableCluster, ScalableCluster } from './scalable.js';

export interface DriveOptions {
  evalEveryMs: number;
  durationMs: number;
  /** Called with every decision (the log). */
  onDecision?: (tMs: number, d: Decision) => void;
}

export interface Change { tMs: number; action: 'out' | 'in'; reason: string; from: number; to: number }

export interface DriveResult {
  changes: Change[];
  /** Members counted at each evaluation. */
  counts: { tMs: number; nodes: number }[];
  peakNodes: number;
  finalNodes: number;
  /** Direction reversals (out after in or in after out); a ramp up and down has exactly one. */
  reversals: number;
}

type Acting = Pick<ScalableCluster, 'snapshot' | 'addNode' | 'removeNode'>;

/** One evaluation at `t`: snapshot, decision, and the change carried out. */
function evaluate(cluster: Acting, policy: AutoscalePolicy, t: number, o: DriveOptions, changes: Change[], counts: DriveResult['counts']): void {
  const snap = cluster.snapshot(t);
  const d = policy.decide(snap);
  o.onDecision?.(t, d);
  counts.push({ tMs: t, nodes: snap.members.length });
  if (d.action === 'hold') return;
  changes.push({ tMs: t, action: d.action, reason: d.reason, from: d.actualNodes, to: d.desiredNodes });
  if (d.action === 'out') cluster.addNode(d.dc ?? snap.members[0]?.dc ?? 'dc1');
  else {
    const inDc = snap.members.filter((m) => m.dc === d.dc);
    const victim = inDc.at(-1);
    if (victim) cluster.removeNode(victim.nodeId);
  }
}

function summary(changes: Change[], counts: DriveResult['counts']): DriveResult {
  let reversals = 0;
  for (let i = 1; i < changes.length; i++) if (changes[i]!.action !== changes[i - 1]!.action) reversals++;
  return {
    changes, counts, reversals,
    peakNodes: Math.max(...counts.map((c) => c.nodes)),
    finalNodes: counts.at(-1)?.nodes ?? 0,
  };
}

export function drive(cluster: ScalableCluster, config: AutoscaleConfig, o: DriveOptions): DriveResult {
  const policy = new AutoscalePolicy(config);
  const changes: Change[] = [];
  const counts: DriveResult['counts'] = [];
  for (let t = 0; t <= o.durationMs; t += o.evalEveryMs) {
    cluster.advanceTo(t);
    evaluate(cluster, policy, t, o, changes, counts);
  }
  return summary(changes, counts);
}

/** The same loop over a cluster whose time passes asynchronously. */
export async function driveAsync(cluster: AsyncScalableCluster, config: AutoscaleConfig, o: DriveOptions): Promise<DriveResult> {
  const policy = new AutoscalePolicy(config);
  const changes: Change[] = [];
  const counts: DriveResult['counts'] = [];
  for (let t = 0; t <= o.durationMs; t += o.evalEveryMs) {
    await cluster.advanceTo(t);
    evaluate(cluster, policy, t, o, changes, counts);
  }
  return summary(changes, counts);
}
