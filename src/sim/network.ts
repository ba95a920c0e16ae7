/**
 * A simulated network: each message is delayed by a random latency (so messages reorder), may
 * be dropped or duplicated, and never crosses a partition or reaches a crashed node.
 */
import type { Envelope, Transport } from '../ports/index.js';
import type { EventQueue } from './virtual-time.js';
import type { Prng } from './prng.js';

export interface NetworkFaults {
  minLatencyMs: number;
  maxLatencyMs: number;
  dropRate: number;
  duplicateRate: number;
}

export const CALM_NETWORK: NetworkFaults = { minLatencyMs: 1, maxLatencyMs: 3, dropRate: 0, duplicateRate: 0 };

export class SimNetwork {
  private readonly handlers = new Map<string, (env: Envelope) => void>();
  private readonly up = new Set<string>();
  /** Pairs "a|b" that cannot talk (both directions are listed). */
  private readonly cut = new Set<string>();
  faults: NetworkFaults = CALM_NETWORK;
  sent = 0;
  delivered = 0;
  dropped = 0;

  constructor(private readonly queue: EventQueue, private readonly rng: Prng) {}

  transport<M>(nodeId: string): Transport<M> {
    return {
      localId: nodeId,
      send: (env: Envelope<M>): void => this.send(env as Envelope),
      onMessage: (handler: (env: Envelope<M>) => void): void => {
        this.handlers.set(nodeId, handler as (env: Envelope) => void);
      },
      close: async (): Promise<void> => {
        this.handlers.delete(nodeId);
      },
    };
  }

  setUp(nodeId: string, isUp: boolean): void {
    if (isUp) this.up.add(nodeId);
    else {
      this.up.delete(nodeId);
      this.handlers.delete(nodeId);
    }
  }

  isUp(nodeId: string): boolean {
    return this.up.has(nodeId);
  }

  /** Splits the nodes into groups that cannot reach each other. */
  partition(groups: readonly (readonly string[])[]): void {
    this.cut.clear();
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i]!) for (const b of groups[j]!) this.cut.add(`${a}|${b}`);
      }
    }
  }

  heal(): void {
    this.cut.clear();
    this.faults = CALM_NETWORK;
  }

  canReach(a: string, b: string): boolean {
    return !this.cut.has(`${a}|${b}`);
  }

  private send(env: Envelope): void {
    this.sent++;
    if (!this.up.has(env.from)) return;
    const f = this.faults;
    if (f.dropRate > 0 && this.rng.chance(f.dropRate)) {
      this.dropped++;
      return;
    }
    const copies = f.duplicateRate > 0 && this.rng.chance(f.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const latency = f.minLatencyMs + this.rng.next() * (f.maxLatencyMs - f.minLatencyMs);
      this.queue.schedule(latency, () => this.deliver(env));
    }
  }

  private deliver(env: Envelope): void {
    // A partition cut after sending still stops delivery: the packets were in flight.
    if (!this.up.has(env.to) || !this.up.has(env.from) || this.cut.has(`${env.from}|${env.to}`)) {
      this.dropped++;
      return;
    }
    const h = this.handlers.get(env.to);
    if (!h) {
      this.dropped++;
      return;
    }
    this.delivered++;
    h(env);
  }
}
