export type { Action, AutoscaleConfig, ClusterSnapshot, Decision, NodeSample, Reason, Thresholds } from './types.js';
export { REASONS } from './types.js';
export { AutoscalePolicy, aggregate, configProblems, dcToGrow, dcToShrink, idleEnough, outReason, projectedWithOneFewer } from './policy.js';
export type { Aggregate } from './policy.js';
export { DEFAULT_SCALE_IN, DEFAULT_SCALE_OUT, DEFAULT_TIMINGS, autoscaleConfig } from './defaults.js';
