/**
 * Forwarding writes. Only a replica of a key may create a dot *of its own* for it (its local
 * state holds all of its earlier dots), so a node outside the key's replicas hands a write to the
 * replicas in order. A replica that takes it says so at once (`forward-accepted`); only a replica
 * that stays silent for its share of the time is passed over.
 *
 * Delivery is at least once: the acceptance may be lost or slow, or the forward may wait in the
 * transport's queue for a replica that is down and arrive after it restarts, long after the next
 * replica coordinated the write. So the forwarder gives each write its identity: a dot of its
 * own, `(<node>^<id>, c)` — an actor per key and per run of the forwarder (`id` a request id of
 * this run, so unique to it; `^` is in no node id), numbering that key's forwarded writes
 * 1, 2, … — and the time it stamps. Every replica that coordinates the
 * forward makes the *same* version (same dot, value and timestamp), and replicas merge equal dots
 * as one: a forward coordinated twice is one version, never a duplicate sibling, and the client's
 * context (which names that dot) supersedes it wherever it is. Why this and not an expiry:
 * docs/architecture.md, "Coordinator hazards".
 */
import type { CausalContext } from '../clock/context.js';
import { EMPTY_CONTEXT, decodeContextToken, encodeContextToken } from '../clock/context.js';
import type { ClientOp, NodeId, PutOp } from '../types.js';
import type { KvEnv } from './env.js';
import { deadlineTick } from './env.js';
import type { ForwardDot, WireOp, WireReply } from './messages.js';
import type { Replier, Requester } from './requester.js';

/** One forwarded write: which replica has it now, and until when. */
export class ForwardRequest {
  attempt = 0;
  attemptDeadlineTick = 0;
  accepted = false;

  constructor(
    readonly op: WireOp,
    readonly targets: readonly NodeId[],
    readonly deadlineTick: number,
    /** Each target gets an equal share of the time before the next one is tried. */
    readonly ticksPerAttempt: number,
    /** The W asked for, reported when forwarding fails. */
    readonly required: number,
    readonly requester: Requester,
  ) {}

  get target(): NodeId | undefined {
    return this.targets[this.attempt];
  }
}

/** Keys whose forward actor a node remembers (least recently used forgotten first). */
export const FORWARD_ACTORS_MAX = 4096;

export class ForwardCoordinator {
  private readonly table = new Map<number, ForwardRequest>();
  /**
   * Per key: the actor this run forwards its writes under, and its last counter. A key met
   * afresh (or forgotten, or whose last forward failed) gets a new actor named by a fresh request
   * id, which is unique to this run (ids start from the run's incarnation): no dot is ever reused.
   */
  private readonly actors = new Map<string, { node: string; counter: number }>();

  constructor(private readonly env: KvEnv, private readonly replier: Replier) {}

  get size(): number {
    return this.table.size;
  }

  start(op: PutOp, replicas: readonly NodeId[], required: number, requester: Requester): void {
    // Replicas believed alive are tried first: the write goes to the first live one, which
    // coordinates it (with stand-ins for the others under sloppy quorum). Those believed down
    // come last rather than never: a link that drops for a moment must not fail the write.
    const alive = replicas.filter((r) => this.env.detector.isAlive(r));
    const targets = [...alive, ...replicas.filter((r) => !alive.includes(r))];
    if (alive.length === 0) {
      this.replier.insufficient(requester, required, 0);
      return;
    }
    const id = this.env.nextId();
    const deadline = deadlineTick(this.env, op.timeoutMs);
    const perAttempt = Math.max(1, Math.floor((deadline - this.env.time.tick) / Math.max(1, targets.length)));
    const wire: WireOp = { ...(toWireOp(op) as Extract<WireOp, { op: 'put' }>), dot: this.mint(op.key), tsMs: this.env.time.nowMs };
    const req = new ForwardRequest(wire, targets, deadline, perAttempt, required, requester);
    this.table.set(id, req);
    this.send(id, req);
  }

  onAccepted(from: NodeId, id: number): void {
    const req = this.table.get(id);
    if (req && req.target === from) req.accepted = true;
  }

  onReply(from: NodeId, id: number, reply: WireReply): void {
    const req = this.table.get(id);
    if (!req || req.target !== from) return;
    this.table.delete(id);
    if (!reply.ok) {
      this.retire(req);
      this.replier.reply(req.requester, reply);
      return;
    }
    let context: CausalContext;
    try {
      context = decodeContextToken(reply.context);
    } catch {
      context = EMPTY_CONTEXT;
    }
    this.replier.reply(req.requester, { ok: true, op: 'put', context });
  }

  tick(): void {
    const now = this.env.time.tick;
    for (const [id, req] of this.table) {
      if (now >= req.deadlineTick) {
        this.table.delete(id);
        this.retire(req);
        this.replier.insufficient(req.requester, req.required, 0);
      } else if (!req.accepted && (now >= req.attemptDeadlineTick || this.passOver(req))) {
        req.attempt++;
        this.send(id, req);
      }
    }
  }

  /** The next dot of `key`'s forward actor (a new actor for a key not met, or forgotten). */
  private mint(key: string): ForwardDot {
    let actor = this.actors.get(key);
    if (actor) {
      this.actors.delete(key); // re-inserted below: the map's order is least recently used first
    } else {
      actor = { node: `${this.env.self}^${this.env.nextId().toString(36)}`, counter: 0 };
      if (this.actors.size >= FORWARD_ACTORS_MAX) this.actors.delete(this.actors.keys().next().value!);
    }
    actor.counter++;
    this.actors.set(key, actor);
    return { node: actor.node, counter: actor.counter };
  }

  /**
   * A forward that failed may never have been coordinated anywhere, leaving a gap in its actor's
   * counters that no replica's clock could fold past (every later dot of it would stay a single
   * dot in the cloud). The key's next forwarded write starts a new actor instead.
   */
  private retire(req: ForwardRequest): void {
    const dot = req.op.op === 'put' ? req.op.dot : undefined;
    if (dot !== undefined && this.actors.get(req.op.key)?.node === dot.node) this.actors.delete(req.op.key);
  }

  /** A target seen to go down is passed over at once, unless it is the last one left. */
  private passOver(req: ForwardRequest): boolean {
    return req.attempt + 1 < req.targets.length && !this.env.detector.isAlive(req.target ?? '');
  }

  private send(id: number, req: ForwardRequest): void {
    const target = req.target;
    if (target === undefined) {
      this.table.delete(id);
      this.retire(req);
      this.replier.insufficient(req.requester, req.required, 0);
      return;
    }
    const now = this.env.time.tick;
    req.attemptDeadlineTick = now + req.ticksPerAttempt;
    // The replica gets what is left of the client's time, not the whole of it again.
    const timeoutMs = Math.max(1, (req.deadlineTick - now) * this.env.settings.tickMs);
    this.env.fx.send(target, { type: 'forward', id, op: { ...req.op, timeoutMs } });
  }
}

export function toWireOp(op: PutOp): WireOp {
  // Only defined fields: msgpack would otherwise carry explicit nils.
  const { context, ...rest } = op;
  const w: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) w[k] = v;
  if (context !== undefined) w['context'] = encodeContextToken(context);
  return w as WireOp;
}

/** Throws `ContextError` when the op's context token is malformed. */
export function fromWireOp(w: WireOp): ClientOp {
  if (w.op === 'get') return { ...w };
  const { context, dot: _dot, tsMs: _tsMs, ...rest } = w;
  return context === undefined ? { ...rest } : { ...rest, context: decodeContextToken(context) };
}
