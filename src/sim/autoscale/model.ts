/**
 * A modelled cluster for the autoscale driver: no real nodes, only the figures a policy reads.
 * Offered load follows a profile and divides over the serving nodes; each node's event-loop
 * share, p99 and stalls follow from its share with seeded noise; joins and leaves take time
 * (a transfer is in flight meanwhile); faults are seeded spikes (one node's p99 and stalls jump
 * for a few seconds) and crashes (a node stops answering and its partitions are under-replicated
 * until it returns).
 */
import type { ClusterSnapshot, NodeSample } from '../../core/autoscale/index.js';
import { Prng } from '../prng.js';
import type { ScalableCluster } from './scalable.js';

/** Offered load (requests per second, the whole cluster) over time. */
export type LoadProfile = (nowMs: number) => number;

/** Base → peak → base: a linear ramp up, a plateau, a linear ramp down, then base again. */
export function rampProfile(p: { baseRps: number; peakRps: number; startMs: number; upMs: number; holdMs: number; downMs: number }): LoadProfile {
  return (t) => {
    const x = t - p.startMs;
    if (x <= 0) return p.baseRps;
    if (x < p.upMs) return p.baseRps + (p.peakRps - p.baseRps) * (x / p.upMs);
    if (x < p.upMs + p.holdMs) return p.peakRps;
    if (x < p.upMs + p.holdMs + p.downMs) return p.peakRps - (p.peakRps - p.baseRps) * ((x - p.upMs - p.holdMs) / p.downMs);
    return p.baseRps;
  };
}

export interface ModelOptions {
  seed: number;
  profile: LoadProfile;
  initialNodes: number;
  /** Requests per second one node serves at a fully busy event loop. */
  capacityRps: number;
  /** Time a join (or a leave) keeps a transfer in flight before it is done. */
  transferMs: number;
  /** Bytes of data in the cluster, spread over the nodes. */
  dataBytes: number;
  /** Relative noise on each figure (0.1 = ±10%). */
  noise: number;
  /** Chance per second that some node spikes (p99 and stalls), and how long a spike lasts. */
  spikePerSec: number;
  spikeMs: number;
  /** Chance per second that some node crashes, and how long it stays down. */
  crashPerSec: number;
  crashMs: number;
}

interface ModelNode { nodeId: string; dc: string; spikeUntilMs: number; downUntilMs: number }
interface Move { kind: 'join' | 'leave'; nodeId: string; dc: string; doneAtMs: number }

export class ModelledCluster implements ScalableCluster {
  private readonly rng: Prng;
  private nodes: ModelNode[] = [];
  private readonly moves: Move[] = [];
  private nowMs = 0;
  private seq = 0;
  /** Every fault it injected (for the test's report). */
  readonly faults: { tMs: number; kind: 'spike' | 'crash'; nodeId: string }[] = [];

  constructor(private readonly o: ModelOptions) {
    this.rng = new Prng(o.seed);
    for (let i = 0; i < o.initialNodes; i++) this.nodes.push(this.fresh('dc1'));
  }

  private fresh(dc: string): ModelNode {
    return { nodeId: `node-${this.seq++}`, dc, spikeUntilMs: 0, downUntilMs: 0 };
  }

  advanceTo(nowMs: number): void {
    const from = this.nowMs;
    this.nowMs = Math.max(this.nowMs, nowMs);
    const seconds = Math.max(0, (this.nowMs - from) / 1000);
    for (const m of this.moves.filter((x) => x.doneAtMs <= this.nowMs)) {
      this.moves.splice(this.moves.indexOf(m), 1);
      if (m.kind === 'join') this.nodes.push({ nodeId: m.nodeId, dc: m.dc, spikeUntilMs: 0, downUntilMs: 0 });
      else this.nodes = this.nodes.filter((n) => n.nodeId !== m.nodeId);
    }
    const up = this.nodes.filter((n) => n.downUntilMs <= this.nowMs);
    if (up.length > 0 && this.rng.chance(1 - (1 - this.o.spikePerSec) ** seconds)) {
      const n = this.rng.pick(up);
      n.spikeUntilMs = this.nowMs + this.o.spikeMs;
      this.faults.push({ tMs: this.nowMs, kind: 'spike', nodeId: n.nodeId });
    }
    if (up.length > 1 && this.rng.chance(1 - (1 - this.o.crashPerSec) ** seconds)) {
      const n = this.rng.pick(up);
      n.downUntilMs = this.nowMs + this.o.crashMs;
      this.faults.push({ tMs: this.nowMs, kind: 'crash', nodeId: n.nodeId });
    }
  }

  snapshot(nowMs: number): ClusterSnapshot {
    const serving = this.nodes.filter((n) => n.downUntilMs <= nowMs);
    const offered = this.o.profile(nowMs);
    const perNode = offered / Math.max(1, serving.length);
    const jitter = (): number => 1 + this.o.noise * (2 * this.rng.next() - 1);
    const samples: NodeSample[] = serving.map((n) => {
      const spiking = n.spikeUntilMs > nowMs;
      const elu = Math.min(1, (perNode / this.o.capacityRps) * jitter());
      const p99 = (2 + 8 / Math.max(0.05, 1 - Math.min(elu, 0.95))) * jitter();
      return {
        nodeId: n.nodeId, dc: n.dc, requestsPerSec: perNode * jitter(), eventLoopUtilization: elu,
        p99LatencyMs: spiking ? 900 : p99, storedBytes: (this.o.dataBytes / Math.max(1, this.nodes.length)) * jitter(),
        stallsPerSec: spiking ? 4 : 0,
      };
    });
    return {
      nowMs, members: this.nodes.map((n) => ({ nodeId: n.nodeId, dc: n.dc })), samples,
      underReplicated: serving.length < this.nodes.length, transferInFlight: this.moves.length > 0,
    };
  }

  addNode(dc: string): void {
    const n = this.fresh(dc);
    this.moves.push({ kind: 'join', nodeId: n.nodeId, dc, doneAtMs: this.nowMs + this.o.transferMs });
  }

  removeNode(nodeId: string): void {
    const n = this.nodes.find((x) => x.nodeId === nodeId);
    if (!n || this.moves.some((m) => m.nodeId === nodeId)) return;
    this.moves.push({ kind: 'leave', nodeId, dc: n.dc, doneAtMs: this.nowMs + this.o.transferMs });
  }
}
