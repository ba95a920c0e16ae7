/**
 * What a NodeRuntime is built from: the cluster's settings as this node starts with them, and its
 * ports (engine, transport, clock) with the optional hooks tests, the simulator and the CLI use.
 */
import type { Clock, Envelope, Logger, PeerInfo, StorageEngine, Transport } from '../ports/index.js';
import type { NodeEvent } from '../core/node.js';
import type { HintLimits } from '../core/handoff/index.js';
import type { ReconcileBug } from '../core/clock/state.js';
import type { Consistency, Message } from '../core/types.js';
import type { AntiEntropySettings } from '../core/antientropy/index.js';
import type { GossipSettings } from '../core/membership/gossip-constants.js';
import type { TransferOptions } from '../core/transfer/index.js';

export interface RuntimeSettings {
  n: number;
  partitions: number;
  tickMs: number;
  requestTimeoutMs: number;
  r: Consistency;
  w: Consistency;
  maxValueBytes: number;
  replication?: Record<string, number>;
  /** Inter-node addresses of the nodes that form the first ring together (this node's may be among them). */
  seeds: string[];
  /** A gossip round every this many ms (1000 by default); the failure detector's timings follow it. */
  gossipIntervalMs?: number;
}

export interface RuntimeDeps {
  self: PeerInfo;
  settings: RuntimeSettings;
  engine: StorageEngine;
  transport: Transport<Message>;
  clock: Clock;
  logger?: Logger;
  /** Drawn at random at each start (NodeConfig.incarnation): replies queued for an earlier run never match. */
  incarnation?: number;
  /** The name this run's dots carry (see NodeConfig.actorId); the node id by default. */
  actorId?: string;
  /** Test-only fault injection (see ReconcileBug). */
  bug?: ReconcileBug;
  observer?: (event: NodeEvent) => void;
  /** Sees every inter-node message sent and every valid one received (metrics: RPC latencies). */
  wire?: { sent(to: string, msg: Message): void; received(from: string, msg: Message): void };
  /** This start's generation (gossip: new and larger at every start); default the clock's ms at `start`. */
  generation?: number;
  /** Gossip and failure-detector settings beyond the interval (tests; test-only knobs included). */
  gossip?: Partial<GossipSettings>;
  /** Bounds of the hints this node keeps as a stand-in (tests; the core's defaults otherwise). */
  hintLimits?: Partial<HintLimits>;
  /** Anti-entropy's interval and throttle (the core's defaults otherwise). */
  antiEntropy?: Partial<AntiEntropySettings>;
  /** Partition transfer's settle time, chunk bounds and pacing (the core's defaults otherwise). */
  transfer?: Partial<TransferOptions>;
  /** Called when the node can no longer run safely (a failed fsync): the process should exit. */
  onFatal?: (err: Error) => void;
  /**
   * Messages of other families (e.g. the rate limiter's `rl-*`), offered before the core's
   * validator: return true when taken.
   */
  onFamilyMessage?: (env: Envelope<unknown>) => boolean;
  /**
   * One Ready per event-loop turn: requests and messages of a turn are stepped into the core at
   * once and their effects taken together when `flush` runs (`setImmediate` in production).
   * Without it every event is pumped at once (the simulator: only its virtual clock schedules).
   */
  batchTurn?: (flush: () => void) => void;
}
