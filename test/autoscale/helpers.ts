import type { ClusterSnapshot, NodeSample } from '../../src/core/autoscale/index.js';

export interface Member { nodeId: string; dc: string }

export function members(count: number, dc = 'dc1', prefix = 'n'): Member[] {
  return Array.from({ length: count }, (_, i) => ({ nodeId: `${prefix}${i}`, dc }));
}

/** Every member with the same figures (the fields given override a quiet node). */
export function snapshot(nowMs: number, ms: readonly Member[], fig: Partial<Omit<NodeSample, 'nodeId' | 'dc'>> = {}, flags: Partial<Pick<ClusterSnapshot, 'underReplicated' | 'transferInFlight'>> = {}): ClusterSnapshot {
  return {
    nowMs,
    members: ms,
    samples: ms.map((m) => ({
      nodeId: m.nodeId, dc: m.dc, requestsPerSec: 0, eventLoopUtilization: 0.05, p99LatencyMs: 5, storedBytes: 1000, stallsPerSec: 0, ...fig,
    })),
    underReplicated: flags.underReplicated ?? false,
    transferInFlight: flags.transferInFlight ?? false,
  };
}
