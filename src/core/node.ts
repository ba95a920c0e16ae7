/**
 * One Gossamer node as a deterministic state machine, in the manner of etcd's raft `Node`:
 * inputs are `request` (a client op), `step` (a message from a peer) and `tick` (time passes);
 * outputs accumulate in a `Ready` of storage writes, messages and client replies.
 *
 * Contract with the runtime: take `ready()`, make its writes durable, then send its messages and
 * give its replies, then call `advance(ready)`; handle Readys in order. Because a reply never
 * leaves before the writes of its Ready (and of every earlier Ready) are durable, an
 * acknowledged write is on disk at the coordinator and at every replica that acknowledged it.
 *
 * Reads of local state are synchronous (the engine serves them from memory or with one pread);
 * writes not yet persisted are kept in an overlay so the node always reads its own writes.
 */
import type { KeyState, ReconcileBug } from './clock/state.js';
import { CounterExhaustedError, EMPTY_STATE, applyWrite, decodeState, encodeState, statesEqual, syncStates } from './clock/state.js';
import type { CausalContext } from './clock/context.js';
import { EMPTY_CONTEXT, decodeContextToken, encodeContextToken, joinContexts } from './clock/context.js';
import type { Dot } from './clock/vclock.js';
import { utf8 } from './bytes.js';
import { dataKeyFromBytes } from './keys.js';
import type { Ring } from './ring/index.js';
import { keyHash, preferenceListForKey } from './ring/index.js';
import { resolveConsistency } from './quorum/index.js';
import { Forwarding, GetCoordination, PutCoordination } from './coordinator/index.js';
import type {
  ClientOp, ClientReply, Consistency, ErrorResult, Message, NodeId, OutMessage, PutOp, Ready, Reply,
  StorageWrite, StoreReader, WireOp, WireReply,
} from './types.js';

export interface NodeConfig {
  readonly nodeId: NodeId;
  readonly ring: Ring;
  /** The cluster's replication factor. */
  readonly n: number;
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
}

/** Below the transport's 8 MiB frame limit, with room for the message around the state. */
export const DEFAULT_MAX_STATE_BYTES = 7 * 1024 * 1024;

export type NodeEvent = {
  type: 'version-created';
  key: string;
  dot: Dot;
  /** The context the client sent: the versions this one supersedes. */
  context: CausalContext;
  contentType: string;
  value: Uint8Array | null;
};

interface Requester {
  /** A local client request, or a forwarded one to answer with a message. */
  kind: 'local' | 'forward';
  reqId: number;
  from?: NodeId;
}

interface Pending<T> {
  coord: T;
  requester: Requester;
}

export class Node {
  readonly id: NodeId;
  private ring: Ring;
  private tickCount = 0;
  private nowMs = 0;
  private seq = 0;
  private nextMsgId: number;
  private writes: StorageWrite[] = [];
  private writtenKeys: string[] = [];
  private messages: OutMessage[] = [];
  private replies: Reply[] = [];
  private readonly overlay = new Map<string, { state: KeyState; seq: number }>();
  private readonly keysBySeq = new Map<number, string[]>();
  private readonly gets = new Map<number, Pending<GetCoordination>>();
  private readonly puts = new Map<number, Pending<PutCoordination>>();
  private readonly forwards = new Map<number, Pending<Forwarding<WireOp>>>();

  constructor(private readonly cfg: NodeConfig, private readonly store: StoreReader) {
    this.id = cfg.nodeId;
    this.ring = cfg.ring;
    // 2^21 ids per incarnation step keeps every id a safe integer for incarnations below 2^31.
    this.nextMsgId = (((cfg.incarnation ?? 0) >>> 0) % 2 ** 31) * 2 ** 21 + 1;
  }

  setRing(ring: Ring): void {
    this.ring = ring;
  }

  get currentRing(): Ring {
    return this.ring;
  }

  /** Time moves on by one tick; `nowMs` is the wall clock, used only for timestamps. */
  tick(nowMs: number): void {
    this.tickCount++;
    this.nowMs = Math.floor(nowMs);
    for (const [id, p] of this.gets) {
      if (this.tickCount < p.coord.deadlineTick) continue;
      if (!p.coord.responded) this.fail(p.requester, 'insufficient_replicas', p.coord.required, p.coord.replies.size);
      this.finishGet(id, p);
    }
    for (const [id, p] of this.puts) {
      if (this.tickCount < p.coord.deadlineTick) continue;
      if (!p.coord.responded) this.fail(p.requester, 'insufficient_replicas', p.coord.required, p.coord.acked.size);
      this.puts.delete(id);
    }
    for (const [id, p] of this.forwards) {
      const f = p.coord;
      if (this.tickCount >= f.deadlineTick) {
        this.forwards.delete(id);
        this.fail(p.requester, 'insufficient_replicas', f.required, 0);
      } else if (!f.accepted && this.tickCount >= f.attemptDeadlineTick) {
        f.attempt++;
        this.sendForward(id, p);
      }
    }
  }

  setTime(nowMs: number): void {
    this.nowMs = Math.floor(nowMs);
  }

  request(reqId: number, op: ClientOp): void {
    this.handleOp(op, { kind: 'local', reqId }, false);
  }

  step(from: NodeId, msg: Message): void {
    switch (msg.type) {
      case 'replica-get': {
        this.send(from, { type: 'replica-get-reply', id: msg.id, key: msg.key, state: this.readLocalEncoded(msg.key) });
        return;
      }
      case 'replica-put': {
        let incoming: KeyState;
        try {
          incoming = decodeState(msg.state);
        } catch {
          return; // a malformed state from a peer is dropped, never merged
        }
        const local = this.readLocal(msg.key);
        const merged = this.cfg.bug === 'replica-overwrites' ? incoming : syncStates(local, incoming);
        if (!statesEqual(merged, local)) this.writeLocal(msg.key, merged);
        if (msg.id !== 0) this.send(from, { type: 'replica-put-ack', id: msg.id, key: msg.key });
        return;
      }
      case 'replica-get-reply': {
        const p = this.gets.get(msg.id);
        if (!p || p.coord.key !== msg.key) return;
        let state = EMPTY_STATE;
        if (msg.state !== null) {
          try {
            state = decodeState(msg.state);
          } catch {
            p.coord.fail(from);
            this.afterGetReply(msg.id, p);
            return;
          }
        }
        p.coord.record(from, state);
        this.afterGetReply(msg.id, p);
        return;
      }
      case 'replica-put-ack': {
        const p = this.puts.get(msg.id);
        if (!p || p.coord.key !== msg.key) return;
        p.coord.ack(from);
        this.afterPutAck(msg.id, p);
        return;
      }
      case 'forward': {
        let op: ClientOp;
        try {
          op = fromWireOp(msg.op);
        } catch {
          this.send(from, { type: 'forward-reply', id: msg.id, reply: badRequest('malformed context') });
          return;
        }
        if (op.op === 'put' && !this.replicasFor(op.key).includes(this.id)) {
          // Our rings disagree: only a replica may create a dot, so refuse rather than coordinate.
          this.send(from, {
            type: 'forward-reply', id: msg.id,
            reply: { ok: false, error: 'unavailable', message: `${this.id} is not a replica of this key in its ring` },
          });
          return;
        }
        if (op.op === 'put') this.send(from, { type: 'forward-accepted', id: msg.id });
        this.handleOp(op, { kind: 'forward', reqId: msg.id, from }, true);
        return;
      }
      case 'forward-accepted': {
        const p = this.forwards.get(msg.id);
        if (p && p.coord.target === from) p.coord.accepted = true;
        return;
      }
      case 'forward-reply': {
        const p = this.forwards.get(msg.id);
        if (!p || p.coord.target !== from) return;
        this.forwards.delete(msg.id);
        const r = msg.reply;
        if (r.ok) {
          let context: CausalContext;
          try {
            context = decodeContextToken(r.context);
          } catch {
            context = EMPTY_CONTEXT;
          }
          this.reply(p.requester, { ok: true, op: 'put', context });
        } else {
          this.reply(p.requester, r);
        }
        return;
      }
    }
  }

  hasReady(): boolean {
    return this.writes.length > 0 || this.messages.length > 0 || this.replies.length > 0;
  }

  ready(): Ready {
    const rd: Ready = { seq: ++this.seq, writes: this.writes, messages: this.messages, replies: this.replies };
    if (this.writtenKeys.length > 0) this.keysBySeq.set(rd.seq, this.writtenKeys);
    this.writes = [];
    this.writtenKeys = [];
    this.messages = [];
    this.replies = [];
    return rd;
  }

  /** The runtime made `rd`'s writes durable: the engine now serves them, the overlay can let go. */
  advance(rd: Ready): void {
    const keys = this.keysBySeq.get(rd.seq);
    if (!keys) return;
    this.keysBySeq.delete(rd.seq);
    for (const k of keys) {
      const o = this.overlay.get(k);
      if (o && o.seq <= rd.seq) this.overlay.delete(k);
    }
  }

  /** What this node holds for `key` (overlay included). */
  localState(key: string): KeyState {
    return this.readLocal(key);
  }

  /** Number of requests in flight (for graceful shutdown and metrics). */
  inFlight(): number {
    return this.gets.size + this.puts.size + this.forwards.size;
  }

  // --- coordination ---------------------------------------------------------------------------

  private replicasFor(key: string): readonly NodeId[] {
    return preferenceListForKey(this.ring, utf8(key));
  }

  private deadline(timeoutMs: number | undefined): number {
    const ms = timeoutMs ?? this.cfg.requestTimeoutMs;
    return this.tickCount + Math.max(1, Math.ceil(ms / this.cfg.tickMs));
  }

  private handleOp(op: ClientOp, requester: Requester, forwarded: boolean): void {
    const replicas = this.replicasFor(op.key);
    if (op.op === 'get') {
      const r = resolveConsistency(op.r ?? this.cfg.defaultR, this.cfg.n, replicas.length, 'r');
      if (!r.ok) return this.reply(requester, badRequest(r.message));
      this.startGet(op.key, replicas, r.count, this.deadline(op.timeoutMs), requester);
      return;
    }
    const w = resolveConsistency(op.w ?? this.cfg.defaultW, this.cfg.n, replicas.length, 'w');
    if (!w.ok) return this.reply(requester, badRequest(w.message));
    if (!replicas.includes(this.id) && !forwarded) {
      // Only a replica may create a dot for a key: its local state holds all of its earlier dots.
      this.startForward(op, replicas, w.count, requester);
      return;
    }
    this.startPut(op, replicas, w.count, requester);
  }

  private startGet(key: string, replicas: readonly NodeId[], required: number, deadline: number, requester: Requester): void {
    const id = this.nextMsgId++;
    const coord = new GetCoordination(id, key, replicas, required, deadline);
    const p = { coord, requester };
    this.gets.set(id, p);
    for (const node of replicas) {
      if (node !== this.id) this.send(node, { type: 'replica-get', id, key });
    }
    if (replicas.includes(this.id)) {
      coord.record(this.id, this.readLocal(key));
      this.afterGetReply(id, p);
    }
  }

  private afterGetReply(id: number, p: Pending<GetCoordination>): void {
    const status = p.coord.status();
    if (!p.coord.responded && status === 'won') {
      p.coord.responded = true;
      const merged = p.coord.merged();
      this.reply(p.requester, { ok: true, op: 'get', siblings: merged.siblings, context: merged.context });
    } else if (!p.coord.responded && status === 'lost') {
      p.coord.responded = true;
      this.fail(p.requester, 'insufficient_replicas', p.coord.required, p.coord.replies.size);
    }
    if (p.coord.complete) this.finishGet(id, p);
  }

  /** Read repair: every replica that answered with less than the merged state gets the merge. */
  private finishGet(id: number, p: Pending<GetCoordination>): void {
    this.gets.delete(id);
    if (p.coord.replies.size < 2) return;
    const merged = p.coord.merged();
    const stale = p.coord.stale(merged);
    if (stale.length === 0) return;
    const bytes = encodeState(merged);
    for (const node of stale) {
      if (node === this.id) {
        const local = this.readLocal(p.coord.key);
        const m = syncStates(local, merged);
        if (!statesEqual(m, local)) this.writeLocal(p.coord.key, m);
      } else {
        this.send(node, { type: 'replica-put', id: 0, key: p.coord.key, state: bytes });
      }
    }
  }

  private startPut(op: PutOp, replicas: readonly NodeId[], required: number, requester: Requester): void {
    const local = this.readLocal(op.key);
    const context = op.supersede === 'local' ? joinContexts(local.context, op.context ?? EMPTY_CONTEXT) : op.context ?? EMPTY_CONTEXT;
    let result: ReturnType<typeof applyWrite>;
    try {
      result = applyWrite(local, {
        coordinator: this.cfg.actorId ?? this.id,
        context,
        value: op.value,
        contentType: op.contentType ?? 'application/octet-stream',
        tsMs: this.nowMs,
      }, this.cfg.bug ?? 'none');
    } catch (e) {
      if (!(e instanceof CounterExhaustedError)) throw e;
      this.reply(requester, badRequest(e.message));
      return;
    }
    const bytes = encodeState(result.state);
    const maxBytes = this.cfg.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES;
    if (bytes.length > maxBytes) {
      // Whole states cross the wire; one past the frame limit could never replicate.
      this.reply(requester, {
        ok: false, error: 'value_too_large',
        message: `the key's versions would take ${bytes.length} bytes, over the ${maxBytes}-byte limit: resolve its siblings first`,
      });
      return;
    }
    this.writeLocalBytes(op.key, result.state, bytes);
    this.cfg.observer?.({
      type: 'version-created', key: op.key, dot: result.dot, context,
      contentType: op.contentType ?? 'application/octet-stream', value: op.value,
    });
    const id = this.nextMsgId++;
    const coord = new PutCoordination(id, op.key, replicas, required, this.deadline(op.timeoutMs), result.clientContext);
    const p = { coord, requester };
    for (const node of replicas) if (node !== this.id) this.send(node, { type: 'replica-put', id, key: op.key, state: bytes });
    this.puts.set(id, p);
    // The local copy is in this Ready's writes: it is durable before any reply of this Ready leaves.
    coord.ack(this.id);
    this.afterPutAck(id, p);
  }

  /** Answers once the tally is decided (won, or lost because too few replicas exist); forgets the put once all acked. */
  private afterPutAck(id: number, p: Pending<PutCoordination>): void {
    const status = p.coord.status();
    if (!p.coord.responded && status === 'won') this.respondPut(p);
    else if (!p.coord.responded && status === 'lost') {
      p.coord.responded = true;
      this.fail(p.requester, 'insufficient_replicas', p.coord.required, p.coord.acked.size);
    }
    if (p.coord.acked.size >= p.coord.replicas.length) this.puts.delete(id);
  }

  private respondPut(p: Pending<PutCoordination>): void {
    p.coord.responded = true;
    this.reply(p.requester, { ok: true, op: 'put', context: p.coord.clientContext });
  }

  private startForward(op: PutOp, replicas: readonly NodeId[], required: number, requester: Requester): void {
    const id = this.nextMsgId++;
    const deadline = this.deadline(op.timeoutMs);
    const perAttempt = Math.max(1, Math.floor((deadline - this.tickCount) / Math.max(1, replicas.length)));
    const p = { coord: new Forwarding(id, toWireOp(op), replicas, deadline, perAttempt, required), requester };
    this.forwards.set(id, p);
    this.sendForward(id, p);
  }

  private sendForward(id: number, p: Pending<Forwarding<WireOp>>): void {
    const target = p.coord.target;
    if (target === undefined) {
      this.forwards.delete(id);
      this.fail(p.requester, 'insufficient_replicas', p.coord.required, 0);
      return;
    }
    p.coord.attemptDeadlineTick = this.tickCount + p.coord.ticksPerAttempt;
    // The replica gets what is left of the client's time, not the whole of it again.
    const timeoutMs = Math.max(1, (p.coord.deadlineTick - this.tickCount) * this.cfg.tickMs);
    this.send(target, { type: 'forward', id, op: { ...p.coord.op, timeoutMs } });
  }

  // --- plumbing -------------------------------------------------------------------------------

  private readLocal(key: string): KeyState {
    const o = this.overlay.get(key);
    if (o) return o.state;
    const k = utf8(key);
    const raw = this.store.get(dataKeyFromBytes(k, keyHash(k)));
    return raw === undefined ? EMPTY_STATE : decodeState(raw);
  }

  /** Returns the encoded state, which is also what replicas are sent. */
  /**
   * The local state of `key` as `replica-get-reply` carries it: `null` when empty. A durable state
   * goes out as the engine's bytes, without decoding and re-encoding it: both ends decode to the
   * same state (decoding normalizes, and normalizing a normalized state changes nothing).
   */
  private readLocalEncoded(key: string): Uint8Array | null {
    const o = this.overlay.get(key);
    if (o) return isEmpty(o.state) ? null : encodeState(o.state);
    const k = utf8(key);
    const raw = this.store.get(dataKeyFromBytes(k, keyHash(k)));
    return raw === undefined || isEmptyEncoding(raw) ? null : raw;
  }

  private writeLocal(key: string, state: KeyState): void {
    this.writeLocalBytes(key, state, encodeState(state));
  }

  private writeLocalBytes(key: string, state: KeyState, value: Uint8Array): void {
    const k = utf8(key);
    this.overlay.set(key, { state, seq: this.seq + 1 });
    this.writes.push({ key: dataKeyFromBytes(k, keyHash(k)), value });
    this.writtenKeys.push(key);
  }

  private send(to: NodeId, msg: Message): void {
    this.messages.push({ to, msg });
  }

  private reply(requester: Requester, reply: ClientReply): void {
    if (requester.kind === 'local') {
      this.replies.push({ reqId: requester.reqId, reply });
      return;
    }
    let wire: WireReply;
    if (!reply.ok) wire = reply;
    else if (reply.op === 'put') wire = { ok: true, op: 'put', context: encodeContextToken(reply.context) };
    else wire = badRequest('forwarded reads are not supported');
    this.send(requester.from!, { type: 'forward-reply', id: requester.reqId, reply: wire });
  }

  private fail(requester: Requester, error: 'insufficient_replicas', required: number, received: number): void {
    this.reply(requester, {
      ok: false, error, required, received,
      message: `needed ${required} replies, received ${received} within the timeout`,
    });
  }
}

function isEmpty(s: KeyState): boolean {
  return s.siblings.length === 0 && s.context.clock.length === 0 && s.context.cloud.length === 0;
}

/** `encodeState(EMPTY_STATE)`: format 1, no clock entries, no dots, no siblings. */
function isEmptyEncoding(b: Uint8Array): boolean {
  return b.length === 4 && b[0] === 1 && b[1] === 0 && b[2] === 0 && b[3] === 0;
}

function badRequest(message: string): ErrorResult {
  return { ok: false, error: 'bad_request', message };
}

function toWireOp(op: PutOp): WireOp {
  // Only defined fields: msgpack would otherwise carry explicit nils.
  const { context, ...rest } = op;
  const w: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) w[k] = v;
  if (context !== undefined) w['context'] = encodeContextToken(context);
  return w as WireOp;
}

function fromWireOp(w: WireOp): ClientOp {
  if (w.op === 'get') return { ...w };
  const { context, ...rest } = w;
  return context === undefined ? { ...rest } : { ...rest, context: decodeContextToken(context) };
}
