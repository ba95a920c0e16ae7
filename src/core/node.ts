/**
 * One Gossamer node as a deterministic state machine, in the manner of etcd's raft `Node`:
 * inputs are `request` (a client op), `step` (a message from a peer) and `tick` (time passes);
 * outputs accumulate in a `Ready` of storage writes, messages and client replies.
 *
 * The node only routes: each protocol module (see docs/architecture.md) owns its messages, state
 * and timeouts, and produces effects only through the one Ready builder the node hands it.
 *
 * Contract with the runtime: take `ready()`, make its writes durable, then send its messages and
 * give its replies, then call `advance(ready)`; handle Readys in order. Because a reply never
 * leaves before the writes of its Ready (and of every earlier Ready) are durable, an
 * acknowledged write is on disk at the coordinator and at every replica that acknowledged it.
 */
import { AntiEntropyProtocol } from './antientropy/index.js';
import { dataKeysIn } from './keys.js';
import type { KeyState } from './clock/state.js';
import { assert, assertNever } from './errors.js';
import { ALWAYS_ALIVE, HANDOFF_LIMITS, HandoffProtocol } from './handoff/index.js';
import { KvProtocol } from './kv/protocol.js';
import type { Message } from './messages.js';
import { isMembershipMessage } from './messages.js';
import type { ClusterMeta, MemberInfo } from './membership/index.js';
import { Membership } from './membership/index.js';
import type { GossipProtocol } from './membership/gossip.js';
import type { AdminOp, AdminResult } from './membership/admin.js';
import { RingAdmin } from './membership/admin.js';
import { ReadyBuilder } from './ready.js';
import type { Ring } from './ring/index.js';
import type { ClientOp, ClientReply, GetOp, NodeId, Ready, StoreReader } from './types.js';
import type { AntiEntropyControl, NodeConfig, NodeStats } from './node-config.js';
import { antiEntropyDefaults, createGossip, dataWriteHook, kvSettings } from './node-config.js';
import type { TransferProgress } from './transfer/index.js';
import { TransferProtocol, transferSettings } from './transfer/index.js';

export type { NodeEvent } from './kv/env.js';
export type { BootstrapConfig, ClusterMeta, MemberInfo } from './membership/index.js';
export type { AdminOp, AdminResult } from './membership/admin.js';
export type { AntiEntropyControl, NodeConfig, NodeStats } from './node-config.js';
export { DEFAULT_MAX_STATE_BYTES } from './node-config.js';

export class Node {
  readonly id: NodeId;
  private readonly time = { tick: 0, nowMs: 0 };
  private nextMsgId: number;
  private advancedSeq = 0;
  private readonly fx = new ReadyBuilder();
  private readonly membership: Membership;
  private readonly kv: KvProtocol;
  private readonly handoff: HandoffProtocol;
  private readonly ae: AntiEntropyProtocol;
  /** Membership gossip and the failure detector (when the node has `bootstrap`). */
  readonly gossip: GossipProtocol | undefined;
  /** The operator's side of membership: staging, plan, commit, ring-push. */
  readonly ringAdmin: RingAdmin;
  private readonly xfer: TransferProtocol;

  /** Throws `MetadataError` when the store holds cluster metadata that cannot be used. */
  constructor(cfg: NodeConfig, store: StoreReader) {
    this.id = cfg.nodeId;
    // 2^21 ids per incarnation step keeps every id a safe integer for incarnations below 2^31.
    this.nextMsgId = (((cfg.incarnation ?? 0) >>> 0) % 2 ** 31) * 2 ** 21 + 1;
    this.membership = new Membership(this.fx, cfg.bootstrap);
    this.gossip = createGossip(cfg, this.fx, this.time, this.membership, () => this.nextMsgId++);
    this.ringAdmin = new RingAdmin(this.id, this.fx, this.membership);
    const detector = cfg.detector ?? this.gossip ?? ALWAYS_ALIVE;
    this.handoff = new HandoffProtocol({
      self: this.id, fx: this.fx, time: this.time, detector, limits: { ...HANDOFF_LIMITS, ...cfg.hintLimits },
      nextId: () => this.nextMsgId++, applyDelivered: (key, state, bytes) => this.kv.mergeLocal(key, state, bytes),
    }, store);
    this.ae = new AntiEntropyProtocol({
      self: this.id, fx: this.fx, time: this.time, tickMs: cfg.tickMs, seed: cfg.incarnation ?? 0,
      settings: { ...antiEntropyDefaults(cfg.tickMs), ...cfg.antiEntropy },
      ring: () => this.membership.ring, nextId: () => this.nextMsgId++, keysIn: (gte, lt) => dataKeysIn(store, gte, lt),
      read: (key) => this.kv.localEncoded(key), merge: (key, state, bytes) => this.kv.mergeLocal(key, state, bytes),
    });
    this.kv = new KvProtocol({
      self: this.id,
      settings: kvSettings(cfg),
      fx: dataWriteHook(this.fx, (key, hash, value) => this.ae.noteWrite(key, hash, value)),
      time: this.time, detector, ring: () => this.currentRing, nextId: () => this.nextMsgId++,
      pendingReplicas: (key) => this.xfer.pendingReplicas(key),
      acceptsReplicaTraffic: () => this.xfer.acceptsReplicaTraffic(),
    }, store, this.handoff);
    this.xfer = new TransferProtocol({
      self: this.id, fx: this.fx, time: this.time, detector, settings: transferSettings(cfg.tickMs, cfg.transfer), reader: store,
      membership: this.membership, merge: (key, state) => this.kv.mergeLocal(key, state), drop: (key) => this.kv.dropLocal(key),
      nextId: () => this.nextMsgId++,
    });
    if (cfg.ring) {
      assert(cfg.n === undefined || cfg.n === cfg.ring.n, () => `NodeConfig.n=${cfg.n} differs from the ring's N=${cfg.ring?.n}`);
      this.membership.setRing(cfg.ring);
    } else {
      this.membership.start(store);
    }
    this.gossip?.start();
  }

  setRing(ring: Ring): void { this.membership.setRing(ring); }
  /** Installs a cluster document if it wins (a peer's, or a test's): `Membership.install`. */
  installClusterMeta(meta: ClusterMeta): boolean { return this.membership.install(meta); }

  /** Whether the node has a ring (loaded, formed or given); it serves only then. */
  hasRing(): boolean { return this.membership.ring !== undefined; }

  get currentRing(): Ring { assert(this.membership.ring, 'the node has no ring yet'); return this.membership.ring; }

  /** The cluster metadata in force (members with their addresses, Q, N), once loaded or formed. */
  clusterMeta(): ClusterMeta | undefined { return this.membership.clusterMeta; }

  /** An operator's staging, plan or commit (src/core/membership/admin.ts); answered at once. */
  admin(op: AdminOp): AdminResult { return this.ringAdmin.handle(op); }

  /** A peer's facts, as a transport handshake reports them (gossip asks it for news). */
  notePeer(peer: MemberInfo): void { this.membership.notePeer(peer); this.gossip?.notePeer(peer); }

  /** Time moves on by one tick; `nowMs` is the wall clock, used only for timestamps. */
  tick(nowMs: number): void {
    this.time.tick++;
    this.time.nowMs = Math.floor(nowMs);
    this.gossip?.tick();
    if (!this.hasRing()) return;
    this.kv.tick();
    this.handoff.tick();
    this.ae.tick();
    this.xfer.tick();
  }

  setTime(nowMs: number): void { this.time.nowMs = Math.floor(nowMs); }
  request(reqId: number, op: ClientOp): void {
    if (!this.hasRing()) {
      this.fx.reply(reqId, { ok: false, error: 'unavailable', message: 'node is starting: no ring yet' });
      return;
    }
    this.kv.request(reqId, op);
  }

  /** A read this node answers at once, outside the Ready pipeline, or undefined (KvProtocol.getNow). */
  getNow(op: GetOp): ClientReply | undefined { return this.hasRing() ? this.kv.getNow(op) : undefined; }
  /** A Redis GET's answer (the newest value) where `getNow` would answer, else undefined (KvProtocol.newestNow). */
  newestNow(key: string): Uint8Array | null | undefined { return this.hasRing() ? this.kv.newestNow(key) : undefined; }

  /** Routes a peer's message to the protocol that owns its type. */
  step(from: NodeId, msg: Message): void {
    if (isMembershipMessage(msg)) return this.gossip?.step(from, msg);
    // A document may come before this node has a ring (a joiner).
    if (msg.type === 'xfer-doc') return this.gossip?.refuses(from) ? undefined : this.xfer.step(from, msg);
    // Kv, hints and anti-entropy wait for a ring; a node of another cluster is refused.
    if (!this.hasRing() || this.gossip?.refuses(from)) return;
    switch (msg.type) {
      case 'replica-get': case 'replica-put': case 'replica-get-reply': case 'replica-put-ack':
      case 'forward': case 'forward-accepted': case 'forward-reply':
        return this.kv.step(from, msg);
      case 'hint-deliver': case 'hint-ack':
        return this.handoff.step(from, msg);
      case 'ae-hashes': case 'ae-hashes-reply': case 'ae-keys': case 'ae-keys-reply': case 'ae-sync': case 'ae-sync-reply':
        return this.ae.step(from, msg);
      case 'ring-push':
        return this.ringAdmin.step(from, msg);
      case 'xfer-pull': case 'xfer-chunk': case 'xfer-refuse':
        return this.xfer.step(from, msg);
      default:
        assertNever(msg, 'message type');
    }
  }

  hasReady(): boolean { return this.fx.hasReady(); }
  ready(): Ready { return this.fx.take(); }

  /** The runtime made `rd`'s writes durable: the engine now serves them. */
  advance(rd: Ready): void {
    assert(rd.seq > this.advancedSeq, () => `Ready ${rd.seq} advanced after Ready ${this.advancedSeq}: Readys must be handled in order`);
    this.advancedSeq = rd.seq;
    this.kv.advance(rd.seq);
  }

  /** What this node holds for `key` (writes not yet durable included). */
  localState(key: string): KeyState { return this.kv.localState(key); }

  /** The hint records a start-up scan of the `hint` keyspace found (damaged ones are counted). */
  loadHints(entries: Iterable<readonly [Uint8Array, Uint8Array]>): void { this.handoff.store.load(entries); }

  /** The hints this node holds for `key`, with their target (the states stay on disk). */
  hintsForKey(key: string): readonly { readonly target: NodeId; readonly storageKey: Uint8Array }[] { return this.handoff.store.hintsForKey(key); }

  stats(): NodeStats {
    return {
      hints: this.handoff.stats(), readRepairs: this.kv.readRepairs(), coordinating: this.kv.inFlight(), antiEntropy: this.ae.stats(),
      ringAdmin: this.ringAdmin.stats(), transfer: this.xfer.stats(), ...(this.gossip ? { membership: this.gossip.stats() } : {}),
    };
  }

  /** The change under way as this node sees it, and its own moving partitions (GET /admin/transition). */
  transferProgress(): TransferProgress { return this.xfer.progress(); }

  /** Anti-entropy's side of the node: the start-up rebuild, repairs, roots and load. */
  get antiEntropy(): AntiEntropyControl { return this.ae; }

  /** Number of requests in flight (for graceful shutdown and metrics). */
  inFlight(): number { return this.kv.inFlight(); }
}
