/**
 * What a node is configured with and reports, and the small pieces of wiring between its
 * protocol modules (kept apart so node.ts stays a dispatcher).
 */
import type { AntiEntropySettings, AntiEntropyStats, RepairProgress } from './antientropy/index.js';
import { ANTIENTROPY_LIMITS } from './antientropy/index.js';
import type { ReconcileBug } from './clock/state.js';
import { fromUtf8 } from './bytes.js';
import { CORE_LIMITS } from './constants.js';
import type { KvSettings, NodeEvent } from './kv/env.js';
import type { FailureDetector, HandoffStats, HintLimits } from './handoff/index.js';
import type { BootstrapConfig, Membership } from './membership/index.js';
import { GossipProtocol } from './membership/gossip.js';
import type { GossipStats } from './membership/gossip-events.js';
import type { GossipSettings } from './membership/gossip-constants.js';
import { defaultGossipSettings } from './membership/gossip-constants.js';
import type { RingAdminStats } from './membership/admin.js';
import type { Effects } from './ready.js';
import type { Ring } from './ring/index.js';
import type { Consistency, NodeId } from './types.js';
import type { TransferOptions, TransferStats } from './transfer/index.js';

export interface NodeConfig {
  readonly nodeId: NodeId;
  /**
   * The ring to use (tests). Without it the node loads the cluster metadata its store holds, or
   * else forms the first ring as `bootstrap` says once it knows every seed (see `notePeer`).
   */
  readonly ring?: Ring;
  readonly bootstrap?: BootstrapConfig;
  /** The cluster's replication factor; when given with `ring` it must equal the ring's N. */
  readonly n?: number;
  readonly tickMs: number;
  readonly requestTimeoutMs: number;
  readonly defaultR: Consistency;
  readonly defaultW: Consistency;
  /** Test-only: break the node on purpose so tests can show the checkers catch it. */
  readonly bug?: ReconcileBug;
  /**
   * A number chosen afresh each time the node starts (the runtime draws it at random). Request
   * ids start from it, so replies that peers queued for an earlier run of this node — a TCP
   * transport delivers them after a reconnect — never match a request of this run.
   */
  readonly incarnation?: number;
  /**
   * The name this node's dots carry; the node id by default. A node whose writes are
   * acknowledged before they are durable (commit log `periodic` or `none`) must use a name of
   * its own per run (e.g. `node-1~k3x9`): after a crash it may have forgotten dots it already
   * handed out, and a new run reusing them would make two different versions share one dot.
   */
  readonly actorId?: string;
  /** Largest encoded state of one key a write may create (whole states cross the wire). */
  readonly maxStateBytes?: number;
  /** Sees every version this node creates as a coordinator (the simulator's history uses it). */
  readonly observer?: (event: NodeEvent) => void;
  /**
   * Which peers are believed alive. By default, membership's gossip failure detector when the
   * node runs gossip (it has `bootstrap`), else none (only timeouts pass a silent peer over).
   */
  readonly detector?: FailureDetector;
  /**
   * Membership gossip and failure detection (the defaults derive from `intervalMs`, 1000 by
   * default). Gossip runs when `bootstrap` is given (a node of a real or simulated cluster).
   */
  readonly gossip?: Partial<GossipSettings>;
  /** New and larger at every start (the runtime passes the start's wall-clock ms; the simulator virtual time). */
  readonly generation?: number;
  /** This node's client HTTP address, announced by gossip. */
  readonly http?: string;
  /** Bounds of the hints this node keeps as a stand-in (HANDOFF_LIMITS by default). */
  readonly hintLimits?: Partial<HintLimits>;
  /** Anti-entropy's interval and throttle (ANTIENTROPY_LIMITS by default). */
  readonly antiEntropy?: Partial<AntiEntropySettings>;
  /** Partition transfer's settle time, chunk bounds and pacing (TRANSFER_LIMITS by default). */
  readonly transfer?: Partial<TransferOptions>;
}

/** What a node counts about itself (shown in /cluster and /metrics). */
export interface NodeStats {
  readonly hints: HandoffStats;
  readonly readRepairs: number;
  /** Requests this node coordinates now (a write stays until every slot is settled). */
  readonly coordinating: number;
  readonly antiEntropy: AntiEntropyStats;
  /** Gossip and failure detection (absent when the node runs no gossip). */
  readonly membership?: GossipStats;
  /** Cluster documents pushed to peers and received from them (ring-push). */
  readonly ringAdmin: RingAdminStats;
  readonly transfer: TransferStats;
}

/** Below the transport's 8 MiB frame limit, with room for the message around the state. */
export const DEFAULT_MAX_STATE_BYTES = CORE_LIMITS.stateBytesMax;

/** What the runtime drives of anti-entropy (the rest stays inside the core). */
export interface AntiEntropyControl {
  beginLoad(): void;
  load(key: string, ringHash: number, state: Uint8Array): void;
  finishLoad(): void;
  readonly isRebuilding: boolean;
  repair(partition?: number): RepairProgress;
  progress(): RepairProgress;
  root(partition: number): number;
  noteLag(lagMs: number): void;
  canPurge(key: string, ringHash: number, state: Uint8Array): boolean;
}

export function antiEntropyDefaults(tickMs: number): AntiEntropySettings {
  return {
    intervalTicks: Math.max(1, Math.round((ANTIENTROPY_LIMITS.intervalTicks * 10) / tickMs)),
    concurrentExchangesMax: ANTIENTROPY_LIMITS.concurrentExchangesMax,
    bytesPerSecondMax: ANTIENTROPY_LIMITS.bytesPerSecondMax,
    bytesPerSecondMin: ANTIENTROPY_LIMITS.bytesPerSecondMin,
    tombstoneGraceMs: ANTIENTROPY_LIMITS.tombstoneGraceMs,
  };
}

/**
 * The Effects the key-value protocol writes through: the node's own, plus a look at every write
 * of key data, so anti-entropy's trees follow each one without reaching into the kv module.
 */
export function dataWriteHook(fx: Effects, onData: (key: string, ringHash: number, value: Uint8Array | null) => void): Effects {
  return {
    get seq() {
      return fx.seq;
    },
    write(w) {
      fx.write(w);
      if (w.space !== 'data') return;
      const k = w.key;
      const hash = ((k[1]! << 24) | (k[2]! << 16) | (k[3]! << 8) | k[4]!) >>> 0;
      onData(fromUtf8(k.subarray(5)), hash, w.value);
    },
    send: (to, msg) => fx.send(to, msg),
    reply: (reqId, reply) => fx.reply(reqId, reply),
  };
}

/** The gossip protocol of a node that has `bootstrap` (undefined otherwise). */
export function createGossip(
  cfg: NodeConfig, fx: Effects, time: { readonly tick: number }, membership: Membership, nextId: () => number,
): GossipProtocol | undefined {
  const b = cfg.bootstrap;
  if (!b) return undefined;
  const settings = { ...defaultGossipSettings(cfg.gossip?.intervalMs), ...cfg.gossip };
  return new GossipProtocol({
    self: { ...b.self, ...(cfg.http !== undefined ? { http: cfg.http } : {}) }, fx, time, tickMs: cfg.tickMs, membership, settings,
    generation: cfg.generation ?? 0, seed: (cfg.incarnation ?? 0) >>> 0, nextId,
  });
}

/** The key-value protocol's settings from the node's configuration. */
export function kvSettings(cfg: NodeConfig): KvSettings {
  return {
    tickMs: cfg.tickMs, requestTimeoutMs: cfg.requestTimeoutMs, defaultR: cfg.defaultR, defaultW: cfg.defaultW,
    actorId: cfg.actorId ?? cfg.nodeId, stateBytesMax: cfg.maxStateBytes ?? CORE_LIMITS.stateBytesMax,
    bug: cfg.bug ?? 'none', observer: cfg.observer,
  };
}
