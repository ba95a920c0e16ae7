/**
 * The simulated network: the one in-memory transport (src/adapters/memory-transport.ts) on
 * virtual time, with this class as its link conditioner. Every message is encoded into a real
 * frame and decoded at the far end, so a message the wire cannot carry fails in simulation first.
 *
 * Each data frame is delayed by a random latency (so frames reorder), may be dropped or
 * duplicated, never crosses a partition (one cut while it flew loses it), and waits longer on a
 * clogged link. A crashed node's transport is closed: frames in flight to it are lost, frames
 * its peers send meanwhile wait in their bounded per-peer queues and arrive after its restart,
 * as they would over TCP.
 */
import type { PeerInfo } from '../ports/index.js';
import { MemoryNetwork } from '../adapters/memory-transport.js';
import type { LinkConditioner, MemoryTransport } from '../adapters/memory-transport.js';
import type { TransportLimits } from '../adapters/transport-common.js';
import type { EventQueue } from './virtual-time.js';
import { SimClock } from './virtual-time.js';
import type { Prng } from './prng.js';

export interface NetworkFaults {
  minLatencyMs: number;
  maxLatencyMs: number;
  dropRate: number;
  duplicateRate: number;
}

export const CALM_NETWORK: NetworkFaults = { minLatencyMs: 1, maxLatencyMs: 3, dropRate: 0, duplicateRate: 0 };

/** What the wire refused: frames too large to encode, frames a receiver could not decode. */
export interface WireFailures {
  tooLarge: number;
  malformed: number;
}

/** A data frame the network holds until a script delivers or drops it (`holding` mode). */
export interface HeldFrame {
  from: string;
  to: string;
  frame: Uint8Array;
  deliver: () => void;
  /** The transport the frame was aimed at (a restarted node has a new one). */
  target: MemoryTransport | undefined;
}

export class SimNetwork implements LinkConditioner {
  /**
   * Scripted mode (the scenario tests): every data frame waits in `held`, in send order, until
   * the script delivers or drops it. Off in simulation runs.
   */
  holding = false;
  held: HeldFrame[] = [];
  readonly hub: MemoryNetwork;
  /** Pairs "a|b" that cannot talk (both directions are listed). */
  private readonly cut = new Set<string>();
  /** Directed links "a|b" slowed by a clog, and the latency it adds in ms. */
  private readonly clogs = new Map<string, number>();
  private readonly transports = new Map<string, MemoryTransport>();
  private readonly closedFailures: WireFailures = { tooLarge: 0, malformed: 0 };
  faults: NetworkFaults = CALM_NETWORK;
  /** Data frames put on the wire (each copy of a duplicate counts). */
  sent = 0;

  /** `limits` go to every node's transport (a test shrinks the frame bound to see the wire fail). */
  constructor(queue: EventQueue, private readonly rng: Prng, private readonly limits: Partial<TransportLimits> = {}) {
    this.hub = new MemoryNetwork({ timers: new SimClock(queue), conditioner: this });
  }

  /** A node's transport: registered at its address, dialling every seed. */
  open<M>(self: PeerInfo, seeds: readonly string[]): MemoryTransport<M> {
    // The transport's own randomness (fault hooks) is seeded too, so nothing escapes the seed.
    const t = this.hub.createTransport<M>({ self, seeds: [...seeds], limits: this.limits, random: this.rng.fork() });
    this.transports.set(self.nodeId, t as MemoryTransport);
    return t;
  }

  /** A crash: the node's transport closes and whatever was in flight to it is lost. */
  close(nodeId: string): void {
    const t = this.transports.get(nodeId);
    if (!t) return;
    const s = t.stats();
    this.closedFailures.tooLarge += s.droppedTooLarge;
    this.closedFailures.malformed += s.malformedFrames;
    this.transports.delete(nodeId);
    void t.close();
  }

  get dropped(): number {
    return this.hub.droppedByConditioner + this.hub.droppedInFlight;
  }

  wireFailures(): WireFailures {
    const f = { ...this.closedFailures };
    for (const t of this.transports.values()) {
      const s = t.stats();
      f.tooLarge += s.droppedTooLarge;
      f.malformed += s.malformedFrames;
    }
    return f;
  }

  isUp(nodeId: string): boolean {
    return this.transports.has(nodeId);
  }

  /** Splits the nodes into groups that cannot reach each other; `[]` heals every cut. */
  partition(groups: readonly (readonly string[])[]): void {
    this.cut.clear();
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i]!) for (const b of groups[j]!) this.cut.add(`${a}|${b}`);
      }
    }
  }

  /** Slows the link `from` → `to` by `extraMs` per frame (FoundationDB's clogging). */
  clog(from: string, to: string, extraMs: number): void {
    this.clogs.set(`${from}|${to}`, extraMs);
  }

  unclog(from: string, to: string): void {
    this.clogs.delete(`${from}|${to}`);
  }

  get clogged(): number {
    return this.clogs.size;
  }

  /** No cuts, no clogs, calm weather. */
  heal(): void {
    this.cut.clear();
    this.clogs.clear();
    this.faults = CALM_NETWORK;
  }

  canReach(a: string, b: string): boolean {
    return !this.cut.has(`${a}|${b}`);
  }

  route(from: string, to: string): readonly number[] {
    const f = this.faults;
    if (f.dropRate > 0 && this.rng.chance(f.dropRate)) return [];
    const copies = f.duplicateRate > 0 && this.rng.chance(f.duplicateRate) ? 2 : 1;
    const clog = this.clogs.get(`${from}|${to}`) ?? 0;
    const delays: number[] = [];
    for (let i = 0; i < copies; i++) delays.push(clog + f.minLatencyMs + this.rng.next() * (f.maxLatencyMs - f.minLatencyMs));
    this.sent += copies;
    return delays;
  }

  intercept(from: string, to: string, frame: Uint8Array, deliver: () => void): boolean {
    if (!this.holding) return false;
    this.held.push({ from, to, frame, deliver, target: this.transports.get(to) });
    return true;
  }

  /** Whether a held frame would still reach its node: false once that node crashed since. */
  reaches(h: HeldFrame): boolean {
    return h.target !== undefined && this.transports.get(h.to) === h.target;
  }

  deliverable(from: string, to: string): boolean {
    return !this.cut.has(`${from}|${to}`);
  }
}
