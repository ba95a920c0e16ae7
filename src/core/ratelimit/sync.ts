/**
 * Cluster-wide limits: how nodes share their counts, as a pure state machine (messages in,
 * messages out, on ticks). It carries the `rl-*` message family over the inter-node transport.
 *
 * Each node counts, per cluster-scoped rule and key, the requests that *arrive* at it (demand),
 * smooths the rate (EWMA over sync periods) and tells every connected peer each period. A node
 * then enforces its share of the cluster limit for that key:
 *
 *     share = local demand / (local demand + Σ fresh peer demands)
 *
 * so the shares of all nodes add up to about 1 whatever way the client spreads its requests,
 * and the admitted total is about the cluster limit, not nodes × limit. Before a key's demand
 * is known (its first `warmupMs` on this node, unless peers already report it) a node takes
 * 1/(cluster size), so a client spreading a burst over every node at once cannot collect every
 * node's whole bucket.
 *
 * Eventually consistent and fail-open: reports older than `staleMs` are ignored, so a peer that
 * goes silent (crash, partition, broken sync) stops counting and the nodes left share the limit
 * among themselves; a node cut off from all peers enforces the whole limit alone.
 * Malformed messages are dropped and counted, never thrown.
 */
import type { ShareSource } from './limiter.js';

export const RL_DEMAND = 'rl-demand';
export const RL_PROTOCOL_VERSION = 1;

export const SYNC_DEFAULTS = {
  intervalMs: 100,
  /** Peer reports older than this are ignored. */
  staleMs: 500,
  /** A key's first period(s) on a node: without peer reports it takes 1/(cluster size). */
  warmupMs: 250,
  /** Cluster-limited (rule, key) pairs tracked at once; past it, new ones are enforced at share 1. */
  keysMax: 50_000,
  /** Entries per message, and messages per peer per tick. */
  entriesPerMessageMax: 500,
  messagesPerTickMax: 8,
  /** Smallest share a node gives itself (its bucket still refills). */
  shareMin: 0.02,
  ruleCharsMax: 64,
  keyCharsMax: 512,
  peersMax: 64,
  demandMax: 1e9,
} as const;

export interface SyncOptions {
  intervalMs?: number;
  staleMs?: number;
  warmupMs?: number;
  keysMax?: number;
}

/** [rule name, key, demand in requests per second] */
export type DemandEntry = [string, string, number];

export interface RlDemandMessage {
  type: typeof RL_DEMAND;
  v: typeof RL_PROTOCOL_VERSION;
  entries: DemandEntry[];
}

export type RlMessage = RlDemandMessage;

export interface Outgoing {
  to: string;
  msg: RlMessage;
}

export interface SyncStats {
  keys: number;
  messagesSent: number;
  messagesReceived: number;
  /** Messages dropped because they failed validation. */
  malformed: number;
  /** Arrivals for keys past `keysMax`, enforced at share 1. */
  untracked: number;
  /** Entries not sent because a tick's messages were full. */
  truncated: number;
}

interface PeerReport {
  demand: number;
  atMs: number;
}

interface KeyDemand {
  rule: string;
  key: string;
  firstSeenMs: number;
  arrivals: number;
  /** Smoothed arrivals per second; undefined before the first period ends. */
  demand: number | undefined;
  reportedNonZero: boolean;
  peers: Map<string, PeerReport> | undefined;
}

/** True for messages of this family (the runtime routes them here before its own validator). */
export function isRateLimitMessage(msg: unknown): boolean {
  if (typeof msg !== 'object' || msg === null) return false;
  const t = (msg as { type?: unknown }).type;
  return typeof t === 'string' && t.startsWith('rl-');
}

export function isValidRlMessage(msg: unknown): msg is RlMessage {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return false;
  const m = msg as Record<string, unknown>;
  if (m['type'] !== RL_DEMAND || m['v'] !== RL_PROTOCOL_VERSION) return false;
  const entries = m['entries'];
  if (!Array.isArray(entries) || entries.length > SYNC_DEFAULTS.entriesPerMessageMax) return false;
  for (const e of entries as unknown[]) {
    if (!Array.isArray(e) || e.length !== 3) return false;
    const [rule, key, demand] = e as unknown[];
    if (typeof rule !== 'string' || rule.length === 0 || rule.length > SYNC_DEFAULTS.ruleCharsMax) return false;
    if (typeof key !== 'string' || key.length === 0 || key.length > SYNC_DEFAULTS.keyCharsMax) return false;
    if (typeof demand !== 'number' || !Number.isFinite(demand) || demand < 0 || demand > SYNC_DEFAULTS.demandMax) return false;
  }
  return true;
}

const pairId = (rule: string, key: string): string => `${rule}\u0000${key}`;

export class RateLimitSync implements ShareSource {
  private readonly opts: Required<SyncOptions>;
  private readonly keys = new Map<string, KeyDemand>();
  private peers: readonly string[] = [];
  private lastTickMs: number | undefined;
  private readonly counters = { messagesSent: 0, messagesReceived: 0, malformed: 0, untracked: 0, truncated: 0 };

  constructor(opts: SyncOptions = {}) {
    this.opts = {
      intervalMs: opts.intervalMs ?? SYNC_DEFAULTS.intervalMs,
      staleMs: opts.staleMs ?? SYNC_DEFAULTS.staleMs,
      warmupMs: opts.warmupMs ?? SYNC_DEFAULTS.warmupMs,
      keysMax: opts.keysMax ?? SYNC_DEFAULTS.keysMax,
    };
  }

  /** Records one arrival of `key` under cluster rule `rule` and returns this node's share now. */
  share(rule: string, key: string, nowMs: number): number {
    const id = pairId(rule, key);
    let k = this.keys.get(id);
    if (!k) {
      if (this.keys.size >= this.opts.keysMax) {
        this.counters.untracked++;
        return 1;
      }
      k = { rule, key, firstSeenMs: nowMs, arrivals: 0, demand: undefined, reportedNonZero: false, peers: undefined };
      this.keys.set(id, k);
    }
    k.arrivals++;
    return this.shareOf(k, nowMs);
  }

  private shareOf(k: KeyDemand, nowMs: number): number {
    let peerDemand = 0;
    let reporting = 0;
    if (k.peers) {
      for (const r of k.peers.values()) {
        if (nowMs - r.atMs > this.opts.staleMs) continue;
        peerDemand += r.demand;
        reporting++;
      }
    }
    const clusterSize = this.peers.length + 1;
    if (k.demand === undefined || (reporting === 0 && nowMs - k.firstSeenMs < this.opts.warmupMs)) {
      // Not measured yet here: split evenly with whoever reports it, or with the whole cluster.
      return reporting > 0 ? 1 / (reporting + 1) : 1 / clusterSize;
    }
    if (peerDemand <= 0) return 1;
    return Math.max(SYNC_DEFAULTS.shareMin, k.demand / (k.demand + peerDemand));
  }

  /** A message from a peer. False (and counted) when malformed; it is then ignored. */
  receive(from: string, msg: unknown, nowMs: number): boolean {
    if (typeof from !== 'string' || from.length === 0 || from.length > 256 || !isValidRlMessage(msg)) {
      this.counters.malformed++;
      return false;
    }
    this.counters.messagesReceived++;
    for (const [rule, key, demand] of msg.entries) {
      const id = pairId(rule, key);
      let k = this.keys.get(id);
      if (!k) {
        if (demand === 0 || this.keys.size >= this.opts.keysMax) continue;
        k = { rule, key, firstSeenMs: nowMs, arrivals: 0, demand: undefined, reportedNonZero: false, peers: undefined };
        this.keys.set(id, k);
      }
      k.peers ??= new Map();
      if (!k.peers.has(from) && k.peers.size >= SYNC_DEFAULTS.peersMax) continue;
      k.peers.set(from, { demand, atMs: nowMs });
    }
    return true;
  }

  /**
   * Time passes. Once per interval: close the period (update each key's smoothed demand),
   * forget keys nobody uses, and report demand to every peer in `peers` (the connected ones).
   */
  tick(nowMs: number, peers: readonly string[]): Outgoing[] {
    this.peers = peers;
    if (this.lastTickMs === undefined) {
      this.lastTickMs = nowMs;
      return [];
    }
    const periodMs = nowMs - this.lastTickMs;
    if (periodMs < this.opts.intervalMs) return [];
    this.lastTickMs = nowMs;
    const entries: DemandEntry[] = [];
    const room = SYNC_DEFAULTS.entriesPerMessageMax * SYNC_DEFAULTS.messagesPerTickMax;
    for (const [id, k] of this.keys) {
      const rate = (k.arrivals * 1000) / periodMs;
      k.arrivals = 0;
      k.demand = k.demand === undefined ? rate : 0.5 * rate + 0.5 * k.demand;
      if (k.demand < 0.01) k.demand = 0;
      if (k.demand > 0 || k.reportedNonZero) {
        if (entries.length < room) {
          entries.push([k.rule, k.key, k.demand]);
          k.reportedNonZero = k.demand > 0;
        } else {
          this.counters.truncated++;
        }
      }
      if (k.demand === 0 && !k.reportedNonZero && !this.hasFreshPeer(k, nowMs)) this.keys.delete(id);
    }
    return this.messagesFor(entries, peers);
  }

  private hasFreshPeer(k: KeyDemand, nowMs: number): boolean {
    if (!k.peers) return false;
    for (const [p, r] of k.peers) {
      if (nowMs - r.atMs <= this.opts.staleMs) return true;
      k.peers.delete(p);
    }
    return false;
  }

  private messagesFor(entries: DemandEntry[], peers: readonly string[]): Outgoing[] {
    const out: Outgoing[] = [];
    if (entries.length === 0) return out;
    for (let i = 0; i < entries.length; i += SYNC_DEFAULTS.entriesPerMessageMax) {
      const chunk = entries.slice(i, i + SYNC_DEFAULTS.entriesPerMessageMax);
      for (const to of peers) out.push({ to, msg: { type: RL_DEMAND, v: RL_PROTOCOL_VERSION, entries: chunk } });
    }
    this.counters.messagesSent += out.length;
    return out;
  }

  stats(): SyncStats {
    return { keys: this.keys.size, ...this.counters };
  }
}
