/**
 * The key-value protocol of one node: client requests, the replica side of peers' requests, and
 * three coordinators that each own their table of requests (reads, writes, forwarded writes).
 * Effects leave only through the Ready builder in `KvEnv`.
 */
import type { KeyState } from '../clock/state.js';
import { EMPTY_STATE, decodeState, newestValueOfEncoded, readAnswer } from '../clock/state.js';
import { assert, assertNever } from '../errors.js';
import { isDcLevel, resolveConsistency, resolveRequirement } from '../quorum/index.js';
import type { ClientOp, ClientReply, GetOp, NodeId, StoreReader } from '../types.js';
import type { KvEnv } from './env.js';
import { dcOfFn, deadlineTick, replicasFor } from './env.js';
import { ForwardCoordinator, fromWireOp } from './forward-coordinator.js';
import { GetCoordinator } from './get-coordinator.js';
import { LocalStore } from './local-store.js';
import type { KvMessage, WireOp } from './messages.js';
import type { ForwardIdentity } from './put-coordinator.js';
import { PutCoordinator } from './put-coordinator.js';
import type { Requester } from './requester.js';
import { Replier, badRequest } from './requester.js';

/** Where a stand-in keeps the states it holds for other nodes (the handoff module). */
export interface HintSink {
  /** Keeps `state` for `target`; false when refused (the write is then not acknowledged). */
  accept(target: NodeId, key: string, state: Uint8Array): boolean;
}

export class KvProtocol {
  private readonly store: LocalStore;
  private readonly replier: Replier;
  private readonly gets: GetCoordinator;
  private readonly puts: PutCoordinator;
  private readonly forwards: ForwardCoordinator;

  constructor(private readonly env: KvEnv, reader: StoreReader, private readonly hints?: HintSink) {
    this.store = new LocalStore(reader, env.fx);
    this.replier = new Replier(env.fx);
    this.gets = new GetCoordinator(env, this.store, this.replier);
    this.puts = new PutCoordinator(env, this.store, this.replier, hints);
    this.forwards = new ForwardCoordinator(env, this.replier);
  }

  request(reqId: number, op: ClientOp): void {
    this.coordinate(op, { kind: 'local', reqId }, false);
  }

  /**
   * A read answered at once, outside the Ready pipeline, when that changes nothing a client can
   * see: this node is the key's only replica (so the read asks nobody else and has nothing to
   * repair), the level is met by that one replica, and the key's state is durable (no write of
   * it waits in a Ready, so the answer shows nothing that a crash could still take back — the
   * reason answers otherwise wait for the Readys before them). Undefined: take the usual path.
   */
  getNow(op: GetOp): ClientReply | undefined {
    const raw = this.durableNow(op);
    if (raw === undefined) return undefined;
    // Answered and dropped at once: the values may stay views into the store's bytes.
    const answer = readAnswer(raw === null ? EMPTY_STATE : decodeState(raw, true), this.env.settings.bug);
    return { ok: true, op: 'get', siblings: answer.siblings, context: answer.context };
  }

  /**
   * What a Redis GET answers (the newest sibling's value; null: none, or a tombstone) when
   * `getNow` would answer, read from the stored bytes without decoding the state; else undefined.
   */
  newestNow(key: string): Uint8Array | null | undefined {
    const raw = this.durableNow({ op: 'get', key });
    return raw === undefined ? undefined : raw === null ? null : newestValueOfEncoded(raw);
  }

  /** The key's stored state (null: none) where `getNow` may answer from it, else undefined. */
  private durableNow(op: GetOp): Uint8Array | null | undefined {
    const { settings, self } = this.env;
    const replicas = replicasFor(this.env, op.key);
    if (replicas.length !== 1 || replicas[0] !== self) return undefined;
    // One replica, this node: every level that resolves to one reply (the DC levels included:
    // the only replica is in this node's DC) is met by this node's own read.
    const level = resolveConsistency(op.r ?? settings.defaultR, this.env.ring().n, 1, 'r');
    if (!level.ok || level.count > 1) return undefined;
    return this.store.durableBytes(op.key);
  }

  step(from: NodeId, msg: KvMessage): void {
    switch (msg.type) {
      case 'replica-get':
        if (this.env.acceptsReplicaTraffic?.() === false) return; // left the ring: its copies are stale
        this.env.fx.send(from, { type: 'replica-get-reply', id: msg.id, key: msg.key, state: this.store.readEncoded(msg.key) });
        return;
      case 'replica-put':
        this.onReplicaPut(from, msg.id, msg.key, msg.state, msg.hintFor);
        return;
      case 'replica-get-reply':
        this.gets.onReply(from, msg.id, msg.key, msg.state);
        return;
      case 'replica-put-ack':
        if (!this.gets.onRepairAck(from, msg.id, msg.key)) this.puts.onAck(from, msg.id, msg.key);
        return;
      case 'forward':
        this.onForward(from, msg.id, msg.op);
        return;
      case 'forward-accepted':
        this.forwards.onAccepted(from, msg.id);
        return;
      case 'forward-reply':
        this.forwards.onReply(from, msg.id, msg.reply);
        return;
      default:
        assertNever(msg, 'key-value message');
    }
  }

  /** Time passed: each coordinator times out what is due. */
  tick(): void {
    this.gets.tick();
    this.puts.tick();
    this.forwards.tick();
  }

  /** The Ready `seq` is durable. */
  advance(seq: number): void {
    this.store.advance(seq);
  }

  localState(key: string): KeyState {
    return this.store.read(key);
  }

  inFlight(): number {
    return this.gets.size + this.puts.size + this.forwards.size;
  }

  /** Read-repair writes sent since this run started. */
  readRepairs(): number {
    return this.gets.repairsSent;
  }

  /** This node's state of `key` as stored (`null`: none), without decoding it where it is durable. */
  localEncoded(key: string): Uint8Array | null {
    return this.store.readEncoded(key);
  }

  /** Merges a state handed back by a stand-in into this node's own data (a replica merge). */
  mergeLocal(key: string, state: KeyState, bytes?: Uint8Array): { state: KeyState; changed: boolean } {
    return this.store.merge(key, state, false, bytes);
  }

  /** Removes this node's copy of `key`: the transfer's sweep of partitions given away. */
  dropLocal(key: string): void {
    this.store.drop(key);
  }

  /**
   * A replica stores what a coordinator (or read repair, with id 0: no ack) sends; a stand-in
   * (`hintFor` names the replica it stands for) keeps it as a hint, durable in the same Ready as
   * its acknowledgement.
   */
  private onReplicaPut(from: NodeId, id: number, key: string, state: Uint8Array, hintFor: string | undefined): void {
    let incoming: KeyState;
    try {
      incoming = decodeState(state);
    } catch {
      return; // a malformed state from a peer is dropped, never merged
    }
    if (hintFor !== undefined && hintFor !== this.env.self && this.hints) {
      if (this.hints.accept(hintFor, key, state) && id !== 0) this.env.fx.send(from, { type: 'replica-put-ack', id, key });
      return;
    }
    // A node that left the ring stores no more replica writes: the coordinator's older document
    // counts it out (no acknowledgement), and a stand-in takes its place.
    if (this.env.acceptsReplicaTraffic?.() === false) return;
    // A replica with nothing newer (a fresh key: most puts) stores the coordinator's bytes as
    // they came, without encoding the state it decoded from them again.
    this.store.merge(key, incoming, this.env.settings.bug === 'replica-overwrites', state);
    if (id !== 0) this.env.fx.send(from, { type: 'replica-put-ack', id, key });
  }

  private onForward(from: NodeId, id: number, wire: WireOp): void {
    const { fx, self } = this.env;
    let op: ClientOp;
    try {
      op = fromWireOp(wire);
    } catch {
      fx.send(from, { type: 'forward-reply', id, reply: badRequest('malformed context') });
      return;
    }
    if (op.op === 'put' && !replicasFor(this.env, op.key).includes(self)) {
      // Our rings disagree: only a replica may create a dot, so refuse rather than coordinate.
      fx.send(from, {
        type: 'forward-reply', id,
        reply: { ok: false, error: 'unavailable', message: `${self} is not a replica of this key in its ring` },
      });
      return;
    }
    if (op.op === 'put') fx.send(from, { type: 'forward-accepted', id });
    // The forwarder's dot and time make this the same version wherever the forward is coordinated.
    const identity = wire.op === 'put' && wire.dot !== undefined ? { dot: wire.dot, tsMs: wire.tsMs ?? this.env.time.nowMs } : undefined;
    this.coordinate(op, { kind: 'forward', reqId: id, from }, true, identity);
  }

  private coordinate(op: ClientOp, requester: Requester, forwarded: boolean, identity?: ForwardIdentity): void {
    const { settings, self } = this.env;
    const replicas = replicasFor(this.env, op.key);
    assert(replicas.length > 0, 'a ring with members gives every key at least one replica');
    const n = this.env.ring().n;
    const dcOf = dcOfFn(this.env);
    const level = op.op === 'get' ? op.r ?? settings.defaultR : op.w ?? settings.defaultW;
    const resolved = resolveRequirement(level, n, replicas, dcOf, dcOf(self), op.op === 'get' ? 'r' : 'w');
    if (!resolved.ok) return this.replier.reply(requester, badRequest(resolved.message));
    if (op.op === 'get') {
      const blocking = op.repair === 'blocking';
      this.gets.start(op.key, replicas, resolved.req, deadlineTick(this.env, op.timeoutMs), requester, blocking, !blocking && !isDcLevel(level));
      return;
    }
    if (!replicas.includes(self) && !forwarded) {
      // Only a replica may create a dot for a key: its local state holds all of its earlier dots.
      // Replicas of this node's DC are tried first, so `local_*` counts in the same DC.
      const selfDc = dcOf(self);
      const ordered = [...replicas.filter((id) => dcOf(id) === selfDc), ...replicas.filter((id) => dcOf(id) !== selfDc)];
      this.forwards.start(op, ordered, resolved.req.total, requester);
      return;
    }
    this.puts.start(op, replicas, resolved.req, isDcLevel(level), requester, identity);
  }
}
