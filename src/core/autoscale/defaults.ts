/**
 * Default thresholds and timings. The out band sits well above the in band, and scale-in is
 * judged on the load one node fewer would carry, so the two never meet. The figures are starting
 * points for a 2-core node (docs/autoscale.md says how to tune them), not measured limits.
 */
import type { AutoscaleConfig, Thresholds } from './types.js';

export const DEFAULT_SCALE_OUT: Thresholds = {
  requestsPerSecPerNode: 2000,
  eventLoopUtilization: 0.75,
  p99LatencyMs: 250,
  storedBytesPerNode: 64 * 1024 ** 3,
  stallsPerSec: 1,
};

export const DEFAULT_SCALE_IN: Thresholds = {
  requestsPerSecPerNode: 800,
  eventLoopUtilization: 0.35,
  p99LatencyMs: 100,
  storedBytesPerNode: 32 * 1024 ** 3,
  stallsPerSec: 0.01,
};

export const DEFAULT_TIMINGS = {
  scaleOutSustainMs: 30_000,
  scaleInSustainMs: 120_000,
  cooldownMs: 60_000,
  reverseCooldownMs: 300_000,
  changeTimeoutMs: 600_000,
} as const;

/** A whole configuration from the range and the cluster's replica settings, defaults elsewhere. */
export function autoscaleConfig(
  range: { minNodes: number; maxNodes: number }, cluster: { n: number; perDcMin?: Readonly<Record<string, number>> },
  overrides: Partial<AutoscaleConfig> = {},
): AutoscaleConfig {
  return {
    ...DEFAULT_TIMINGS,
    scaleOut: DEFAULT_SCALE_OUT,
    scaleIn: DEFAULT_SCALE_IN,
    minNodes: range.minNodes,
    maxNodes: range.maxNodes,
    n: cluster.n,
    ...(cluster.perDcMin ? { perDcMin: cluster.perDcMin } : {}),
    ...overrides,
  };
}
