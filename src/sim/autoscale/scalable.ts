/**
 * What the autoscale driver needs from a cluster, whatever it is: the modelled cluster of
 * model.ts, or the simulator's real nodes (sim-cluster.ts: `addNode` starts a spare and commits
 * its join, `removeNode` commits a leave and stops the node once the ring no longer names it,
 * `advanceTo` runs the virtual clock). The driver never looks inside.
 */
import type { ClusterSnapshot } from '../../core/autoscale/index.js';

export interface ScalableCluster {
  /** Lets (virtual) time pass up to `nowMs`: load, joins and leaves progress, faults come and go. */
  advanceTo(nowMs: number): void;
  /** The members, their figures over the last interval, and the safety flags, at `nowMs`. */
  snapshot(nowMs: number): ClusterSnapshot;
  /** Starts a new node in `dc` that joins (and commits its claim) when it is ready. */
  addNode(dc: string): void;
  /** Starts the departure of `nodeId`: it hands its partitions over, then leaves. */
  removeNode(nodeId: string): void;
}

/** The same, for a cluster whose time passes asynchronously (the simulator's event queue). */
export interface AsyncScalableCluster extends Omit<ScalableCluster, 'advanceTo'> {
  advanceTo(nowMs: number): Promise<void>;
}
