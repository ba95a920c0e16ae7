/**
 * The autoscale policy's inputs and outputs. The policy reads only what the cluster says about
 * itself (each node's /metrics, its ring facts) and answers with one decision and its reason;
 * whoever acts on it (the dev actuator, an orchestrator, the simulator) is outside.
 */

/** One serving node's figures over the last scrape interval. */
export interface NodeSample {
  readonly nodeId: string;
  readonly dc: string;
  /** Client requests this node coordinated, per second. */
  readonly requestsPerSec: number;
  /** Share of the interval the event loop was busy (or the process's CPU share), 0..1. */
  readonly eventLoopUtilization: number;
  /** p99 latency of the client requests in the interval, milliseconds. */
  readonly p99LatencyMs: number;
  /** Bytes stored on this node (tables and memtables). */
  readonly storedBytes: number;
  /** Storage write stalls per second over the interval. */
  readonly stallsPerSec: number;
}

/** What the policy sees at one evaluation. */
export interface ClusterSnapshot {
  /** Injected time (ms); the policy never reads a clock. */
  readonly nowMs: number;
  /** The members that count as nodes now (joined, not left), by DC. */
  readonly members: readonly { readonly nodeId: string; readonly dc: string }[];
  /** Samples of the members that answered; a member without one makes the policy hold. */
  readonly samples: readonly NodeSample[];
  /** Some partition has fewer live replicas than it should. */
  readonly underReplicated: boolean;
  /** A partition transfer (join, leave, removal) is under way. */
  readonly transferInFlight: boolean;
}

/** Thresholds of one direction; a signal left out is not consulted. */
export interface Thresholds {
  readonly requestsPerSecPerNode?: number;
  readonly eventLoopUtilization?: number;
  readonly p99LatencyMs?: number;
  readonly storedBytesPerNode?: number;
  readonly stallsPerSec?: number;
}

export interface AutoscaleConfig {
  readonly minNodes: number;
  readonly maxNodes: number;
  /** Replicas per key: the cluster never shrinks below N nodes. */
  readonly n: number;
  /** Replicas per data centre (the `replication` setting): each DC keeps at least that many nodes. */
  readonly perDcMin?: Readonly<Record<string, number>>;
  /** Scale out when ANY of these is exceeded (cluster mean per node; p99 and stalls: the worst node). */
  readonly scaleOut: Thresholds;
  /** Scale in only when ALL of these hold, judged on the load the remaining nodes would carry. */
  readonly scaleIn: Thresholds;
  /** How long a condition must hold before it is acted on (a spike is not a trend). */
  readonly scaleOutSustainMs: number;
  readonly scaleInSustainMs: number;
  /** No change within this long of the previous one. */
  readonly cooldownMs: number;
  /** No change in the opposite direction within this long of the previous one (≥ cooldownMs). */
  readonly reverseCooldownMs: number;
  /** A change not seen in the membership after this long is given up (the next can start). */
  readonly changeTimeoutMs: number;
}

export type Action = 'out' | 'in' | 'hold';

/** Bounded set of reasons (they label `gossamer_autoscale_decisions_total`). */
export const REASONS = [
  // out
  'below_min', 'requests_high', 'event_loop_high', 'p99_high', 'bytes_high', 'stalls_high',
  // in
  'above_max', 'load_low',
  // hold
  'steady', 'sustaining', 'cooldown', 'change_pending', 'change_timeout', 'at_max', 'floor_n', 'floor_dc',
  'under_replicated', 'transfer_in_flight', 'no_data',
] as const;
export type Reason = typeof REASONS[number];

export interface Decision {
  readonly action: Action;
  readonly reason: Reason;
  /** The node count the policy aims at now (the metric `gossamer_autoscale_desired_nodes`). */
  readonly desiredNodes: number;
  /** The members it counted (`gossamer_autoscale_actual_nodes`). */
  readonly actualNodes: number;
  /** For a change: the data centre to add a node to or remove one from. */
  readonly dc?: string;
  /** For the log: the figures the decision was made on. */
  readonly detail: string;
}
