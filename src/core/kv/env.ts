/**
 * What the key-value protocol needs from the node it runs in: its settings, the Ready builder,
 * the ring, time in ticks, and request ids. Timeouts are counted in ticks here.
 */
import type { CausalContext } from '../clock/context.js';
import type { ReconcileBug } from '../clock/state.js';
import type { Dot } from '../clock/vclock.js';
import type { Effects } from '../ready.js';
import type { FailureDetector } from '../handoff/detector.js';
import type { Ring } from '../ring/index.js';
import { partitionOf } from '../ring/index.js';
import { keyFacts } from './key-facts.js';
import type { Consistency, NodeId } from '../types.js';

/** Every version a node creates as a coordinator (the simulator's history records them). */
export type NodeEvent = {
  type: 'version-created';
  key: string;
  dot: Dot;
  /** The context the client sent: the versions this one supersedes. */
  context: CausalContext;
  contentType: string;
  value: Uint8Array | null;
};

export interface KvSettings {
  readonly tickMs: number;
  readonly requestTimeoutMs: number;
  readonly defaultR: Consistency;
  readonly defaultW: Consistency;
  /** The name this node's dots carry (see NodeConfig.actorId). */
  readonly actorId: string;
  /** Largest encoded state of one key a write may create. */
  readonly stateBytesMax: number;
  readonly bug: ReconcileBug;
  readonly observer: ((event: NodeEvent) => void) | undefined;
}

/** Time as the node counts it: ticks for timeouts, the wall clock only for timestamps. */
export interface NodeTime {
  readonly tick: number;
  readonly nowMs: number;
}

export interface KvEnv {
  readonly self: NodeId;
  readonly settings: KvSettings;
  readonly fx: Effects;
  readonly time: NodeTime;
  /** Which peers are believed alive (the transport's links today, gossip later). */
  readonly detector: FailureDetector;
  /** The ring in force (the protocol only runs once the node has one). */
  ring(): Ring;
  /** A fresh request id (unique across every coordinator of this node and of this run). */
  nextId(): number;
  /**
   * While the ring changes: the replicas `key` gains (partition transfer). Writes also go to
   * them, as extra copies that do not count toward W.
   */
  pendingReplicas?(key: string): readonly NodeId[];
  /** Whether this node takes replica traffic (false once it has left the ring). */
  acceptsReplicaTraffic?(): boolean;
}

/** The key's replicas, in preference order. */
export function replicasFor(env: KvEnv, key: string): readonly NodeId[] {
  const ring = env.ring();
  return ring.preferenceList(partitionOf(keyFacts(key).hash, ring.partitionCount));
}

/** The tick at which a request given `timeoutMs` (or the node's default) times out. */
export function deadlineTick(env: KvEnv, timeoutMs: number | undefined): number {
  const ms = timeoutMs ?? env.settings.requestTimeoutMs;
  return env.time.tick + Math.max(1, Math.ceil(ms / env.settings.tickMs));
}

/**
 * The nodes that may stand in for the key's replicas under sloppy quorum, in the order they are
 * tried: the owners met walking the partitions clockwise from the key's (skipping its replicas),
 * then members that own no partition. Each write slot then takes the first alive one in its
 * replica's DC, else the first alive one anywhere (`takeStandIn` in put-coordinator.ts).
 */
export function standInsFor(env: KvEnv, key: string, replicas: readonly NodeId[]): NodeId[] {
  const ring = env.ring();
  const seen = new Set(replicas);
  const out: NodeId[] = [];
  const q = ring.partitionCount;
  const p = partitionOf(keyFacts(key).hash, q);
  for (let i = 0; i < q && seen.size < ring.members.length; i++) {
    const owner = ring.owners[(p + i) % q]!;
    if (seen.has(owner)) continue;
    seen.add(owner);
    out.push(owner);
  }
  for (const m of ring.members) {
    if (!seen.has(m.nodeId) && m.weight > 0) out.push(m.nodeId);
  }
  return out;
}

/** Each node's data centre as the ring records it (a node the ring does not know: ''). */
export function dcOfFn(env: KvEnv): (id: NodeId) => string {
  const ring = env.ring();
  return (id) => ring.member(id)?.dc ?? '';
}

/** How many of `nodes` are believed alive (this node always is). */
export function aliveCount(env: KvEnv, nodes: readonly NodeId[]): number {
  let n = 0;
  for (const id of nodes) if (id === env.self || env.detector.isAlive(id)) n++;
  return n;
}
