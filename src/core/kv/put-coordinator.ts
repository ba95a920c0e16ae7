/**
 * Coordinating writes (a delete is a write of a tombstone). The coordinator — always a replica of
 * the key (see docs/architecture.md: only replicas make dots) — makes the new version from its
 * own state, writes it locally (in the same Ready as any reply it enables, so its own copy counts
 * as the first acknowledgement), sends the whole state to the other replicas, and answers after W
 * acknowledgements (or as soon as W can no longer be reached).
 *
 * Under sloppy quorum (the default) each replica is a *slot*: a replica known to be down, or one
 * that does not answer within its share of the time, is passed over at once for the next healthy
 * stand-in (the next node walking the ring), which keeps the state as a hint for that replica and
 * counts toward W. Under strict quorum only the replicas themselves count.
 */
import { coordinatorStateBudget } from '../clock/state-budget.js';
import type { CausalContext } from '../clock/context.js';
import { EMPTY_CONTEXT, joinContexts } from '../clock/context.js';
import type { KeyState, WriteResult } from '../clock/state.js';
import type { Dot } from '../clock/vclock.js';
import { CounterExhaustedError, applyWrite, encodeState } from '../clock/state.js';
import type { NodeId, PutOp, QuorumMode } from '../types.js';
import type { Requirement, TallyStatus } from '../quorum/index.js';
import { tallyRequirement } from '../quorum/index.js';
import type { KvEnv } from './env.js';
import { aliveCount, dcOfFn, deadlineTick, standInsFor } from './env.js';
import type { LocalStore } from './local-store.js';
import type { Replier, Requester } from './requester.js';
import { badRequest } from './requester.js';

/** One replica's place in a write: who holds it for now, and who has been tried. */
interface Slot {
  readonly owner: NodeId;
  target: NodeId | undefined;
  readonly tried: NodeId[];
  attemptDeadlineTick: number;
  acked: boolean;
  /** Who acknowledged (the owner, or a stand-in holding a hint for it). */
  ackedBy: NodeId | undefined;
  /** The coordinator keeps a hint for this replica itself (last resort, per-DC replication). */
  hintedHere: boolean;
}

/** A forwarded write's identity (its forwarder's dot and time): see forward-coordinator.ts. */
export interface ForwardIdentity {
  readonly dot: Dot;
  readonly tsMs: number;
}

/** A replica the key gains while the ring changes: an extra copy, not counted toward W. */
interface Extra {
  readonly target: NodeId;
  acked: boolean;
}

/** Where the coordinator keeps a hint itself (the handoff module's store). */
export interface LocalHints {
  accept(target: NodeId, key: string, state: Uint8Array): boolean;
}

/** One write in flight: its slots, and whether the client has its answer. */
export class PutRequest {
  readonly slots: Slot[];
  /** Stand-ins not yet given a slot, in the order they are tried. */
  readonly spare: NodeId[];
  /** The key's new replicas while the ring changes (dual writes); filled by the coordinator. */
  readonly extras: Extra[] = [];
  responded = false;

  constructor(
    readonly key: string,
    readonly replicas: readonly NodeId[],
    standIns: readonly NodeId[],
    /** What the level asks of the replicas (see src/core/quorum). */
    readonly need: Requirement,
    /**
     * Under a DC level: each node's DC. A slot then counts for its replica's DC only when the
     * node that acknowledged it is in that DC (a hint kept in another DC is no copy in this one).
     */
    private readonly dcOf: ((id: NodeId) => string) | undefined,
    readonly deadlineTick: number,
    /** What the client gets back: the context it sent plus the new dot. */
    readonly clientContext: CausalContext,
    readonly requester: Requester,
    readonly state: Uint8Array,
  ) {
    this.slots = replicas.map((owner) => ({ owner, target: undefined, tried: [], attemptDeadlineTick: 0, acked: false, ackedBy: undefined, hintedHere: false }));
    this.spare = [...standIns];
  }

  /** An acknowledgement from any node a slot has tried fills that slot (a late one counts too). */
  ack(from: NodeId): void {
    for (const s of this.slots) {
      if (!s.acked && s.tried.includes(from)) {
        s.acked = true;
        s.ackedBy = from;
        return;
      }
    }
    for (const e of this.extras) if (e.target === from) e.acked = true;
  }

  get acked(): number {
    return this.slots.filter((s) => s.acked).length;
  }

  /** Slots with nobody left to try. */
  get exhausted(): number {
    return this.slots.filter((s) => !s.acked && s.target === undefined).length;
  }

  get required(): number {
    return this.need.total;
  }

  /** Whether `node` counts for `owner`'s slot under this write's level. */
  private sameDc(node: NodeId, owner: NodeId): boolean {
    return this.dcOf === undefined || this.dcOf(node) === this.dcOf(owner);
  }

  /**
   * Slots count by their replica: acknowledged ones succeed (under a DC level, only by a node of
   * the replica's DC), exhausted ones fail, and so under a DC level does one held by a node of
   * another DC (it may still be acknowledged, but it cannot count).
   */
  status(): TallyStatus {
    const succeeded = new Set<NodeId>();
    const failed = new Set<NodeId>();
    for (const s of this.slots) {
      if (s.acked && s.ackedBy !== undefined && this.sameDc(s.ackedBy, s.owner)) succeeded.add(s.owner);
      else if (s.target === undefined || !this.sameDc(s.target, s.owner)) failed.add(s.owner);
    }
    return tallyRequirement(this.need, succeeded, failed);
  }

  get settled(): boolean {
    return this.slots.every((s) => s.acked || s.target === undefined) && this.extras.every((e) => e.acked);
  }
}

export class PutCoordinator {
  private readonly table = new Map<number, PutRequest>();

  constructor(
    private readonly env: KvEnv,
    private readonly store: LocalStore,
    private readonly replier: Replier,
    private readonly hints?: LocalHints,
  ) {}

  get size(): number {
    return this.table.size;
  }

  /** Creates the new version at this node (a replica of the key) and replicates it. */
  start(op: PutOp, replicas: readonly NodeId[], need: Requirement, dcAware: boolean, requester: Requester, identity?: ForwardIdentity): void {
    const required = need.total;
    const { settings } = this.env;
    const mode: QuorumMode = op.quorum ?? 'sloppy';
    const standIns = mode === 'sloppy' ? standInsFor(this.env, op.key, replicas) : [];
    const reachable = aliveCount(this.env, replicas) + aliveCount(this.env, standIns);
    if (reachable < required && replicas.length + standIns.length >= required) {
      // Enough nodes exist but too few are believed alive: answer now, before any version is made.
      // (A W no ring could meet is answered by the tally below, after the local write.)
      this.replier.insufficient(requester, required, 0);
      return;
    }
    // `supersede: 'local'` (RESP SET): the write also covers every version this replica has seen,
    // read in this same step, so repeated context-less SETs do not pile up siblings.
    // The local state is read (and decoded) once: the context and the new version both use it.
    const local = this.store.read(op.key);
    const context = op.supersede === 'local' ? joinContexts(local.context, op.context ?? EMPTY_CONTEXT) : op.context ?? EMPTY_CONTEXT;
    const result = this.newVersion(op, local, context, requester, identity);
    if (!result) return;
    const bytes = encodeState(result.state);
    // Whole states cross the wire, so each of a key's coordinators keeps to its share of the
    // bound: then no merge of their states, anywhere, can outgrow a frame (clock/state-budget.ts).
    const budget = coordinatorStateBudget(settings.stateBytesMax, this.env.ring().n);
    if (bytes.length > budget) {
      this.replier.reply(requester, {
        ok: false, error: 'value_too_large',
        message: `the key's versions would take ${bytes.length} bytes, over this coordinator's ${budget}-byte share: resolve its siblings first`,
      });
      return;
    }
    // A forward already known here changes nothing locally, but is still replicated and tallied.
    if (result.created) this.store.write(op.key, result.state, bytes);
    if (result.created) settings.observer?.({
      type: 'version-created', key: op.key, dot: result.dot, context,
      contentType: op.contentType ?? 'application/octet-stream', value: op.value,
    });
    const id = this.env.nextId();
    const deadline = deadlineTick(this.env, op.timeoutMs);
    const dcOf = dcAware ? dcOfFn(this.env) : undefined;
    const req = new PutRequest(op.key, replicas, standIns, need, dcOf, deadline, result.clientContext, requester, bytes);
    this.table.set(id, req);
    for (const slot of req.slots) this.assign(id, req, slot, slot.owner);
    this.sendExtras(id, req);
    this.decide(id, req);
  }

  /**
   * While the ring changes, the key's new replicas get the write too (partition transfer's dual
   * writes), so nothing written during the move is missing once the new ring is in force. They
   * do not count toward W; one that has not acknowledged by the deadline gets a hint kept here.
   */
  private sendExtras(id: number, req: PutRequest): void {
    for (const target of this.env.pendingReplicas?.(req.key) ?? []) {
      if (target === this.env.self || req.replicas.includes(target)) continue;
      req.extras.push({ target, acked: false });
      this.env.fx.send(target, { type: 'replica-put', id, key: req.key, state: req.state });
    }
  }

  /** A replica or stand-in acknowledged; one for another key (a stale id from an earlier run) is ignored. */
  onAck(from: NodeId, id: number, key: string): void {
    const req = this.table.get(id);
    if (!req || req.key !== key) return;
    req.ack(from);
    this.decide(id, req);
  }

  tick(): void {
    const now = this.env.time.tick;
    for (const [id, req] of this.table) {
      if (now >= req.deadlineTick) {
        for (const slot of req.slots) if (!slot.acked) this.keepHintHere(req, slot);
        for (const e of req.extras) if (!e.acked) this.hints?.accept(e.target, req.key, req.state);
        if (!req.responded) this.replier.insufficient(req.requester, req.required, req.acked);
        this.table.delete(id);
        continue;
      }
      let changed = false;
      for (const slot of req.slots) {
        if (slot.acked || slot.target === undefined || slot.target === this.env.self) continue;
        // Local failure detection: a target seen to go down is passed over; so is one that stays
        // silent, when a live stand-in is left to take its place (else it may still answer).
        const down = !this.env.detector.isAlive(slot.target);
        if (down || (now >= slot.attemptDeadlineTick && req.spare.some((n) => this.env.detector.isAlive(n)))) {
          this.assign(id, req, slot, undefined);
          changed = true;
        }
      }
      if (changed) this.decide(id, req);
    }
  }

  /**
   * Gives `slot` to `first` when it is alive, or else to the next alive stand-in; with none left
   * the slot is exhausted. The coordinator's own slot is acknowledged at once: its copy is in this
   * Ready's writes, durable before any reply of this Ready leaves.
   */
  private assign(id: number, req: PutRequest, slot: Slot, first: NodeId | undefined): void {
    const { self, detector } = this.env;
    let target = first !== undefined && (first === self || detector.isAlive(first)) ? first : undefined;
    if (target === undefined) target = takeStandIn(req.spare, slot.owner, dcOfFn(this.env), (id) => detector.isAlive(id));
    slot.target = target;
    if (target === undefined) {
      this.keepHintHere(req, slot);
      return;
    }
    slot.tried.push(target);
    if (target === self) {
      slot.acked = true;
      slot.ackedBy = self;
      return;
    }
    const now = this.env.time.tick;
    // Each attempt gets a share of the time, so a silent node still leaves room for a stand-in.
    slot.attemptDeadlineTick = now + Math.max(1, Math.floor((req.deadlineTick - now) / 3));
    const hintFor = target === slot.owner ? undefined : slot.owner;
    this.env.fx.send(target, {
      type: 'replica-put', id, key: req.key, state: req.state, ...(hintFor === undefined ? {} : { hintFor }),
    });
  }

  /**
   * Under per-DC replication a whole DC may be down with no stand-in of its own left: the
   * coordinator then keeps the hint itself (within the hint store's bounds), so the DC gets the
   * write when it returns. The hint never counts toward W: the slot stays exhausted.
   */
  private keepHintHere(req: PutRequest, slot: Slot): void {
    if (slot.hintedHere || slot.owner === this.env.self || !this.hints || this.env.ring().replication === undefined) return;
    slot.hintedHere = true;
    this.hints.accept(slot.owner, req.key, req.state);
  }

  private newVersion(op: PutOp, local: KeyState, context: CausalContext, requester: Requester, identity: ForwardIdentity | undefined): WriteResult | undefined {
    const { settings } = this.env;
    try {
      return applyWrite(local, {
        coordinator: settings.actorId,
        context,
        value: op.value,
        contentType: op.contentType ?? 'application/octet-stream',
        tsMs: identity?.tsMs ?? this.env.time.nowMs,
        ...(identity === undefined ? {} : { dot: identity.dot }),
      }, settings.bug);
    } catch (e) {
      if (!(e instanceof CounterExhaustedError)) throw e;
      this.replier.reply(requester, badRequest(e.message));
      return undefined;
    }
  }

  /** Answers once the tally is decided (won, or lost because too few nodes are left); forgets the write once settled. */
  private decide(id: number, req: PutRequest): void {
    const status = req.status();
    if (!req.responded && status === 'won') {
      req.responded = true;
      this.replier.reply(req.requester, { ok: true, op: 'put', context: req.clientContext });
    } else if (!req.responded && status === 'lost') {
      req.responded = true;
      this.replier.insufficient(req.requester, req.required, req.acked);
    }
    if (req.settled) this.table.delete(id);
  }
}

/**
 * Takes the stand-in for `owner`'s slot out of `spare`: the first alive one in the owner's DC,
 * else the first alive one anywhere. Dead ones met before it are dropped, as before DCs counted.
 */
export function takeStandIn(spare: NodeId[], owner: NodeId, dcOf: (id: NodeId) => string, alive: (id: NodeId) => boolean): NodeId | undefined {
  const dc = dcOf(owner);
  const local = spare.findIndex((id) => dcOf(id) === dc && alive(id));
  if (local >= 0) return spare.splice(local, 1)[0];
  while (spare.length > 0) {
    const next = spare.shift()!;
    if (alive(next)) return next;
  }
  return undefined;
}
