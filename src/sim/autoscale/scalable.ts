/**
 * What the autoscale driver needs from a cluster, whatever it is: the modelled cluster of
 * model.ts today; the simulator's cluster of real nodes once it has join and leave steps (an
 * adapter that maps `addNode` to a new node + join + commit, `removeNode` to leave + commit,
 * `sample` to the node's own counters over the interval, and `advanceTo` to the virtual clock).
 * The driver never looks inside.
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
