/**
 * Drives a core `Node` with real (or simulated) ports: the clock ticks it, the transport feeds
 * it, the storage engine persists what it writes. The same code runs in production and in the
 * simulator; only the ports differ.
 *
 * Ordering: Readys are released strictly in order, each after its own writes and every earlier
 * Ready's writes are durable. Writes are handed to the engine as soon as a Ready is taken, so a
 * group-commit engine batches the writes of many Readys into one fsync.
 */
import type { Envelope, Logger, PeerInfo, TimerHandle } from '../ports/index.js';
import { silentLogger } from '../ports/index.js';
import type { NodeConfig, NodeStats } from '../core/node.js';
import { HINT_RANGE } from '../core/handoff/index.js';
import { Node } from '../core/node.js';
import type { BootstrapConfig, ClusterMeta, MemberInfo } from '../core/node.js';
import type { KeyState } from '../core/clock/state.js';
import type { ClientOp, ClientReply, GetOp, Message, Ready } from '../core/types.js';
import type { Ring } from '../core/ring/index.js';
import { GossamerError } from '../core/errors.js';
import { isValidMessage } from '../core/messages.js';
import type { ClusterDefaults, LocalVersionView, MemberView, NodeService, RingState, RingView } from './service.js';
import { RUNTIME_LIMITS } from './constants.js';
import { localVersionsOf } from './local-versions.js';
import { TreeRebuild, canPurgeEntry, treeRootsOf } from './antientropy-rebuild.js';
import type { RepairProgress } from '../core/antientropy/index.js';
import { applyMembershipEvents } from './membership-view.js';
import type { AdminOp } from '../core/membership/admin.js';
import type { AdminReply } from './ring-admin.js';
import { memberViews, ringStateOf, ringViewOf, runAdmin } from './ring-admin.js';
import type { TransferProgress } from '../core/transfer/index.js';
import { roleChange } from './transfer-progress.js';

export type { RuntimeDeps, RuntimeSettings } from './runtime-deps.js';
import type { RuntimeDeps } from './runtime-deps.js';

export class NodeRuntime implements NodeService {
  readonly nodeId: string;
  private node: Node | undefined;
  /** The members of the ring installed (as the core decided them). */
  private ringMembers: readonly MemberInfo[] = [];
  /** The HTTP address each peer announced in its hello (for clients that route to replicas). */
  private readonly peerHttp = new Map<string, string>();
  private serving = false;
  private stopping = false;
  private nextReqId = 1;
  private readonly waiting = new Map<number, (reply: ClientReply) => void>();
  private tail: Promise<void> = Promise.resolve();
  private unreleased = 0;
  private tickTimer: TimerHandle | undefined;
  /** A batched flush is scheduled for the end of this turn (see RuntimeDeps.batchTurn). */
  private flushScheduled = false;
  private readonly logger: Logger;
  private fatal: Error | undefined;

  static create(deps: RuntimeDeps): NodeRuntime {
    return new NodeRuntime(deps);
  }

  private constructor(private readonly deps: RuntimeDeps) {
    this.nodeId = deps.self.nodeId;
    this.logger = deps.logger ?? silentLogger;
  }

  /**
   * Starts ticking and listening. The core loads the ring if this node already belongs to one,
   * or forms the first ring once it knows every seed; the runtime installs what it decided.
   * Unusable stored metadata stops the node with a clear error (`onFatal`), never a crash.
   */
  start(): void {
    const { transport, settings, self } = this.deps;
    transport.onMessage((env) => this.onMessage(env));
    transport.onPeer?.((peer) => this.onPeer(peer));
    const bootstrap: BootstrapConfig = {
      self, seeds: settings.seeds, partitions: settings.partitions, n: settings.n,
      ...(settings.replication ? { replication: settings.replication } : {}),
    };
    try {
      this.node = new Node(this.nodeConfig(bootstrap), this.deps.engine);
      // The hints held before a restart (or a crash) are replayed like any others.
      this.node.loadHints(this.deps.engine.scan({ gte: HINT_RANGE.gte, lt: HINT_RANGE.lt }));
      // The trees are not persisted: rebuilt from the stored keys, a page per tick.
      this.rebuild = new TreeRebuild(this.deps.engine, this.node.antiEntropy);
    } catch (e) {
      if (!(e instanceof GossamerError)) throw e;
      this.die(e, 'cannot start');
      return;
    }
    const meta = this.node.clusterMeta();
    if (meta && (meta.n !== settings.n || meta.partitions !== settings.partitions)) {
      this.logger.warn('cluster settings differ from this node\'s; using the cluster\'s', { n: meta.n, partitions: meta.partitions });
    }
    this.afterCore();
    this.scheduleTick();
  }

  /** Records a peer's facts, as a transport handshake reports them. */
  notePeer(peer: PeerInfo): void {
    this.onPeer(peer);
  }

  private onPeer(peer: PeerInfo): void {
    if (peer.http !== undefined) this.peerHttp.set(peer.nodeId, peer.http);
    if (!this.node || this.stopped) return;
    try {
      this.node.setTime(this.deps.clock.nowMs());
      this.node.notePeer(peer);
    } catch (e) {
      // Settings no ring can have (e.g. replication that does not add up to N): stop, clearly.
      if (!(e instanceof GossamerError)) throw e;
      this.die(e, 'cannot form the ring');
      return;
    }
    this.afterCore();
  }

  private nodeConfig(bootstrap: BootstrapConfig): NodeConfig {
    const s = this.deps.settings;
    return {
      nodeId: this.nodeId, bootstrap, tickMs: s.tickMs, requestTimeoutMs: s.requestTimeoutMs,
      defaultR: s.r, defaultW: s.w, incarnation: this.deps.incarnation ?? 0,
      ...(this.deps.actorId ? { actorId: this.deps.actorId } : {}),
      ...(this.deps.bug ? { bug: this.deps.bug } : {}),
      ...(this.deps.observer ? { observer: this.deps.observer } : {}),
      ...(this.deps.hintLimits ? { hintLimits: this.deps.hintLimits } : {}),
      ...(this.deps.antiEntropy ? { antiEntropy: this.deps.antiEntropy } : {}),
      ...(this.deps.self.http !== undefined ? { http: this.deps.self.http } : {}),
      generation: this.deps.generation ?? Math.floor(this.deps.clock.nowMs()),
      gossip: { ...(s.gossipIntervalMs !== undefined ? { intervalMs: s.gossipIntervalMs } : {}), ...this.deps.gossip },
      ...(this.deps.transfer ? { transfer: this.deps.transfer } : {}),
    };
  }

  /** Installs a ring the core has just loaded or formed, then persists and releases its Readys. */
  private afterCore(): void {
    const node = this.node;
    if (!node) return;
    const meta = node.clusterMeta();
    if (meta && this.ringMembers !== meta.members) {
      const first = this.ringMembers.length === 0;
      this.ringMembers = meta.members;
      node.setTime(this.deps.clock.nowMs());
      if (!this.stopping && !this.fatal) this.serving = true;
      this.logger.info(first ? 'ring ready' : 'ring changed', { members: meta.members.length, partitions: meta.partitions, n: meta.n, version: meta.version, clusterId: meta.clusterId });
    }
    const said = meta !== this.lastMeta && meta ? roleChange(this.lastMeta, meta, this.nodeId) : undefined;
    if (said) this.logger.info(said, { version: meta?.version });
    this.lastMeta = meta;
    this.pump();
  }

  /** What gossip reported since the last look: log lines, peers to dial or forget. */
  private drainMembership(): void {
    const events = this.node?.gossip?.takeEvents();
    if (events && events.length > 0) applyMembershipEvents(events, { logger: this.logger, transport: this.deps.transport, peerHttp: this.peerHttp });
  }

  private lastMeta: ClusterMeta | undefined;
  private rebuild: TreeRebuild | undefined;

  private scheduleTick(): void {
    const dueMs = this.deps.clock.nowMs() + this.deps.settings.tickMs;
    this.tickTimer = this.deps.clock.setTimer(this.deps.settings.tickMs, () => {
      if (this.node && !this.fatal) {
        if (this.node.hasRing()) {
          // How late this tick fires is the event loop's lag: anti-entropy's rate backs off on it.
          this.node.antiEntropy.noteLag(Math.max(0, this.deps.clock.nowMs() - dueMs));
          if (this.rebuild && !this.rebuild.finished) this.rebuild.step();
        }
        // Gossip runs before there is a ring too: that is how a node forms or adopts one.
        this.node.tick(this.deps.clock.nowMs());
        this.afterCore();
      }
      if (!this.stopped) this.scheduleTick();
    });
  }

  private stopped = false;
  private onMessage(env: Envelope<Message>): void {
    if (this.deps.onFamilyMessage?.(env)) return;
    if (!this.node || this.stopped || this.fatal) return;
    if (!isValidMessage(env.msg)) return void this.logger.warn('dropped a malformed message', { from: env.from });
    this.deps.wire?.received(env.from, env.msg);
    this.node.setTime(this.deps.clock.nowMs());
    try {
      this.node.step(env.from, env.msg);
    } catch (e) {
      // A bug or undecodable local data must not take the node down with one message.
      this.logger.error('a message could not be handled', { from: env.from, type: env.msg.type, error: String(e) });
    }
    // A message may have installed a new cluster document (ring-push, gossip).
    this.afterCoreSoon();
  }

  /** afterCore now, or once at the end of this turn when Readys are batched. */
  private afterCoreSoon(): void {
    if (!this.deps.batchTurn) return this.afterCore();
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.deps.batchTurn(() => { this.flushScheduled = false; if (!this.stopped) this.afterCore(); });
  }

  /**
   * A read answered now — no promise, no Ready — where the core can (Node.getNow: this node is
   * the key's only replica and its state is durable); undefined otherwise: `submit` it then.
   */
  getNow(op: GetOp): ClientReply | undefined {
    return this.answerNow((node) => node.getNow(op));
  }

  /** A Redis GET's answer now (the newest value; null: none), where `getNow` would answer; else undefined. */
  newestNow(key: string): Uint8Array | null | undefined {
    return this.answerNow((node) => node.newestNow(key));
  }

  private answerNow<T>(read: (node: Node) => T | undefined): T | undefined {
    const node = this.node;
    if (!node || !this.serving || this.fatal) return undefined;
    try {
      return read(node);
    } catch {
      return undefined; // undecodable local data: the usual path reports it
    }
  }

  submit(op: ClientOp): Promise<ClientReply> {
    const node = this.node;
    if (!node || !this.serving) {
      return Promise.resolve({ ok: false, error: 'unavailable', message: this.stopping ? 'node is shutting down' : 'node is starting' });
    }
    if (this.waiting.size >= RUNTIME_LIMITS.requestsInFlightMax) {
      return Promise.resolve({ ok: false, error: 'unavailable', message: 'too many requests in flight' });
    }
    const reqId = this.nextReqId++;
    const p = new Promise<ClientReply>((resolve) => this.waiting.set(reqId, resolve));
    node.setTime(this.deps.clock.nowMs());
    try {
      node.request(reqId, op);
    } catch (e) {
      this.logger.error('a request could not be handled', { key: op.key, error: String(e) });
      this.waiting.delete(reqId);
      this.afterCoreSoon();
      return Promise.resolve({ ok: false, error: 'unavailable', message: `the node could not handle the request: ${String(e)}` });
    }
    this.afterCoreSoon();
    return p;
  }

  private pump(): void {
    const node = this.node;
    if (!node) return;
    this.drainMembership();
    while (node.hasReady()) {
      const rd = node.ready();
      if (rd.writes.length === 0 && this.unreleased === 0) {
        this.release(rd);
        continue;
      }
      this.unreleased++;
      const durable = rd.writes.length > 0 ? this.deps.engine.write(rd.writes) : undefined;
      const prev = this.tail;
      this.tail = (async () => {
        await prev;
        if (durable) {
          try {
            await durable;
          } catch (e) {
            this.die(e as Error);
            return;
          }
        }
        if (this.fatal) return;
        this.unreleased--;
        this.release(rd);
      })();
    }
  }

  private release(rd: Ready): void {
    if (this.stopped) return;
    const { transport } = this.deps;
    for (const m of rd.messages) {
      transport.send({ from: this.nodeId, to: m.to, msg: m.msg });
      this.deps.wire?.sent(m.to, m.msg);
    }
    for (const r of rd.replies) {
      const resolve = this.waiting.get(r.reqId);
      if (resolve) {
        this.waiting.delete(r.reqId);
        resolve(r.reply);
      }
    }
    this.node?.advance(rd);
  }

  private die(err: Error, what = 'storage failed'): void {
    if (this.fatal) return;
    this.fatal = err;
    this.serving = false;
    this.logger.error(`${what}; the node stops serving`, { error: err.message });
    for (const [, resolve] of this.waiting) {
      resolve({ ok: false, error: 'insufficient_replicas', message: `${what} before the request was confirmed (a write may still be stored)` });
    }
    this.waiting.clear();
    this.deps.onFatal?.(err);
  }

  /** Stops accepting requests, lets in-flight ones finish (bounded), then stops ticking. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopping = true;
    this.serving = false;
    const deadline = this.deps.clock.nowMs() + this.deps.settings.requestTimeoutMs + RUNTIME_LIMITS.shutdownGraceMs;
    while (this.waiting.size > 0 && this.deps.clock.nowMs() < deadline) {
      await new Promise<void>((resolve) => this.deps.clock.setTimer(this.deps.settings.tickMs, resolve));
    }
    if (this.flushScheduled) this.afterCore();
    await this.tail;
    this.stopped = true;
    if (this.tickTimer) this.deps.clock.clearTimer(this.tickTimer);
    for (const [, resolve] of this.waiting) resolve({ ok: false, error: 'insufficient_replicas', message: 'the node stopped before the request was confirmed (a write may still be stored)' });
    this.waiting.clear();
  }

  /** Abandons everything at once, as a crash would (the simulator uses it). */
  halt(): void {
    this.stopped = true;
    this.serving = false;
    if (this.tickTimer) this.deps.clock.clearTimer(this.tickTimer);
    this.waiting.clear();
  }

  // --- NodeService ----------------------------------------------------------------------------

  isServing(): boolean { return this.serving; }

  coreRing(): Ring | undefined { return this.node?.hasRing() ? this.node.currentRing : undefined; }

  ring(): RingView | undefined {
    const ring = this.coreRing();
    return ring ? ringViewOf(ring, this.node?.clusterMeta()) : undefined;
  }

  /** Ring members and every other member gossip knows, with their state and heartbeat here. */
  members(): MemberView[] {
    if (!this.node) return [];
    const gossip = new Map((this.node.gossip?.members() ?? []).map((m) => [m.nodeId, m]));
    return memberViews(this.node, this.deps.self, (id) => this.peerHttp.get(id) ?? gossip.get(id)?.http, gossip);
  }

  ringState(): RingState | undefined {
    return this.node ? ringStateOf(this.node) : undefined;
  }

  /** An operator's staging, plan or commit; answered once the document it made is durable (and pushed). */
  async admin(op: AdminOp): Promise<AdminReply> {
    const node = this.node;
    if (!node || !this.serving) return { ok: false, error: 'unavailable', message: this.stopping ? 'node is shutting down' : 'node is starting' };
    node.setTime(this.deps.clock.nowMs());
    const result = runAdmin(node, op, this.deps.engine, this.logger);
    this.afterCore();
    await this.tail;
    return this.fatal ? { ok: false, error: 'unavailable', message: 'the node stopped before the change was durable' } : result;
  }

  /** This node's own state of `key` (tests and the simulator). */
  localState(key: string): KeyState | undefined {
    return this.node?.hasRing() ? this.node.localState(key) : undefined;
  }

  localVersions(key: string): LocalVersionView[] {
    return this.node?.hasRing() ? localVersionsOf(this.node, this.deps.engine, key) : [];
  }

  /** Hints, read repairs, transfer counters (undefined until the node has started). */
  stats(): NodeStats | undefined { return this.node?.stats(); }

  defaults(): ClusterDefaults {
    const s = this.deps.settings;
    const replication = this.coreRing()?.replication ?? s.replication;
    return {
      n: this.coreRing()?.n ?? s.n, r: s.r, w: s.w, maxValueBytes: s.maxValueBytes, requestTimeoutMs: s.requestTimeoutMs,
      ...(replication ? { replication } : {}),
    };
  }

  /** Starts anti-entropy with every fellow replica of `partition` (of every one it replicates when omitted). */
  repair(partition?: number): RepairProgress | undefined {
    const node = this.node;
    if (!node?.hasRing() || !this.serving) return undefined;
    const progress = node.antiEntropy.repair(partition);
    this.pump();
    return progress;
  }

  repairProgress(): RepairProgress | undefined { return this.node?.hasRing() ? this.node.antiEntropy.progress() : undefined; }

  /** The engine's compaction predicate: may this stored entry be dropped (a confirmed tombstone)? */
  canPurge(key: Uint8Array, value: Uint8Array): boolean { return this.node?.hasRing() === true && !this.stopped && canPurgeEntry(this.node, key, value); }

  /** The root hash of each partition this node replicates (undefined while the trees are rebuilt). */
  treeRoots(): Record<number, number> | undefined { return this.node?.hasRing() ? treeRootsOf(this.node, this.nodeId) : undefined; }

  /** The ring change under way as this node sees it (for `GET /admin/transition` and metrics). */
  transferProgress(): TransferProgress | undefined { return this.node?.hasRing() ? this.node.transferProgress() : undefined; }
  /** The cluster document in force (undefined before the node has one). */
  clusterMeta(): ClusterMeta | undefined { return this.node?.clusterMeta(); }
  /** Installs a cluster document if it wins (`Membership.install`): how the simulator commits a change. */
  installClusterMeta(meta: ClusterMeta): boolean {
    const installed = !!this.node && !this.stopped && this.node.installClusterMeta(meta);
    this.afterCore();
    return installed;
  }

  /** Requests waiting for a reply (for metrics and shutdown). */
  inFlight(): number { return this.waiting.size; }
}
