/**
 * Coordinating reads. A read at a plain level (`one`, `quorum`, a number, `all`) asks only the
 * replicas the level needs — this node first when it is one, then the others believed alive in
 * preference-list order — and keeps the rest as spares: a spare is asked when an asked replica
 * fails, and every spare once the asked ones have not all answered after the 99th percentile of
 * recent replica round trips, and never before `readSpareAfterMs` (Cassandra's speculative retry:
 * read-latency.ts). A read at a DC level (`local_*`, `each_quorum`) or with
 * blocking repair asks every replica (in every DC). The client is answered once the level's
 * requirement is met (or as soon as it can no longer be: under `local_*` only the coordinator's
 * DC's replies count, under `each_quorum` a majority of each DC's); the read keeps listening until
 * every replica it asked has answered or time runs out, and then repairs every replica that
 * answered with less than the merged state.
 *
 * With `repair: 'blocking'` the answer waits instead: for every replica's reply (or the
 * deadline, once R is met), then for the repaired replicas' acknowledgements, so a client that
 * reads this way knows every replica that answered holds what it read.
 */
import { readAnswer } from '../clock/state.js';
import type { KeyState } from '../clock/state.js';
import { EMPTY_STATE, decodeState, encodeState, statesEqual, syncStates } from '../clock/state.js';
import { KV_TIMING } from '../constants.js';
import type { NodeId } from '../types.js';
import type { Requirement, TallyStatus } from '../quorum/index.js';
import { tallyRequirement } from '../quorum/index.js';
import type { KvEnv } from './env.js';
import type { LocalStore } from './local-store.js';
import { ReadLatency } from './read-latency.js';
import type { Replier, Requester } from './requester.js';

/** One read in flight: the replies so far, and whether the client has its answer. */
export class GetRequest {
  readonly replies = new Map<NodeId, KeyState>();
  private readonly failed = new Set<NodeId>();
  /** The replicas asked so far (this node included when it is one) and the tick each was asked at. */
  readonly askedAt = new Map<NodeId, number>();
  /** Replicas not asked yet, in the order they would be. */
  spares: NodeId[] = [];
  private mergedCache: KeyState | undefined;
  responded = false;
  /** Blocking repair: replicas whose repair is not acknowledged yet (undefined: none sent). */
  repairing: Set<NodeId> | undefined;

  constructor(
    readonly key: string,
    readonly replicas: readonly NodeId[],
    /** What the level asks (one group, or one per DC): see src/core/quorum. */
    readonly need: Requirement,
    readonly deadlineTick: number,
    readonly requester: Requester,
    readonly blocking: boolean,
    /** The tick after which the spares are asked (speculative retry). */
    readonly sparesTick: number,
  ) {}

  /** Records a replica's state, once per replica; anything from a non-replica is ignored. */
  record(from: NodeId, state: KeyState): void {
    if (!this.replicas.includes(from) || this.replies.has(from) || this.failed.has(from)) return;
    this.replies.set(from, state);
    this.mergedCache = undefined;
  }

  /** A replica answered with something unusable: it counts as a failure, once. */
  fail(from: NodeId): void {
    if (this.replicas.includes(from) && !this.replies.has(from)) this.failed.add(from);
  }

  hasFailed(node: NodeId): boolean {
    return this.failed.has(node);
  }

  /** The requirement's total: what an `insufficient_replicas` answer reports as `required`. */
  get required(): number {
    return this.need.total;
  }

  status(): TallyStatus {
    return tallyRequirement(this.need, new Set(this.replies.keys()), this.failed);
  }

  /** Asked replicas that have neither answered nor failed. */
  get outstanding(): number {
    let n = 0;
    for (const node of this.askedAt.keys()) if (!this.replies.has(node) && !this.failed.has(node)) n++;
    return n;
  }

  /** Every replica asked has answered or failed, and no spare is left that the level still needs. */
  get complete(): boolean {
    return this.outstanding === 0 && (this.spares.length === 0 || this.status() === 'won');
  }

  /** The join of every reply so far (kept until the next reply: the answer and read repair both need it). */
  merged(): KeyState {
    if (this.mergedCache) return this.mergedCache;
    let m = EMPTY_STATE;
    for (const s of this.replies.values()) m = syncStates(m, s);
    this.mergedCache = m;
    return m;
  }

  /** Replicas whose reply differs from the merged state: the read-repair targets. */
  stale(merged: KeyState): NodeId[] {
    const out: NodeId[] = [];
    for (const [node, s] of this.replies) if (!statesEqual(s, merged)) out.push(node);
    return out;
  }
}

export class GetCoordinator {
  private readonly table = new Map<number, GetRequest>();
  /** When a read asks its spares: the 99th percentile of recent round trips, at least readSpareAfterMs. */
  private readonly latency = new ReadLatency();
  /** Read-repair writes sent (to peers or applied locally) since this run started. */
  repairsSent = 0;

  constructor(private readonly env: KvEnv, private readonly store: LocalStore, private readonly replier: Replier) {}

  get size(): number {
    return this.table.size;
  }

  /** `targeted`: ask only the replicas the level needs, the others as spares (a plain level without blocking repair). */
  start(key: string, replicas: readonly NodeId[], need: Requirement, deadline: number, requester: Requester, blocking = false, targeted = false): void {
    const { self, detector, settings, time } = this.env;
    const id = this.env.nextId();
    const sparesTick = time.tick + this.latency.spareDelay(Math.max(1, Math.ceil(KV_TIMING.readSpareAfterMs / settings.tickMs)));
    const req = new GetRequest(key, replicas, need, deadline, requester, blocking, sparesTick);
    this.table.set(id, req);
    // Replicas believed down count as failed from the start: when R is out of reach of the rest,
    // the read answers once those have replied, not after the timeout.
    for (const node of replicas) if (node !== self && !detector.isAlive(node)) req.fail(node);
    const mine = replicas.includes(self);
    const others = replicas.filter((node) => node !== self && !req.hasFailed(node));
    const asked = targeted ? Math.max(0, need.total - (mine ? 1 : 0)) : others.length;
    req.spares = others.slice(asked);
    for (const node of others.slice(0, asked)) this.ask(id, req, node);
    if (mine) {
      req.askedAt.set(self, time.tick);
      req.record(self, this.store.read(key));
    }
    this.decide(id, req);
  }

  private ask(id: number, req: GetRequest, node: NodeId): void {
    req.askedAt.set(node, this.env.time.tick);
    this.env.fx.send(node, { type: 'replica-get', id, key: req.key });
  }

  /** Asks spares: `count` of them, or every one. */
  private askSpares(id: number, req: GetRequest, count = req.spares.length): void {
    for (const node of req.spares.splice(0, count)) this.ask(id, req, node);
  }

  /** A replica's answer; one for another key (a stale id from an earlier run) is ignored. */
  onReply(from: NodeId, id: number, key: string, state: Uint8Array | null): void {
    const req = this.table.get(id);
    if (!req || req.key !== key) return;
    let decoded = EMPTY_STATE;
    if (state !== null) {
      try {
        decoded = decodeState(state);
      } catch {
        req.fail(from);
        this.decide(id, req);
        return;
      }
    }
    const askedAt = req.askedAt.get(from);
    if (askedAt !== undefined && !req.replies.has(from)) this.latency.add(this.env.time.tick - askedAt);
    req.record(from, decoded);
    this.decide(id, req);
  }

  /** A repaired replica acknowledged (blocking repair); false when `id` is no read of ours. */
  onRepairAck(from: NodeId, id: number, key: string): boolean {
    const req = this.table.get(id);
    if (!req || req.key !== key) return false;
    req.repairing?.delete(from);
    if (req.repairing?.size === 0) {
      this.table.delete(id);
      this.answer(req);
    }
    return true;
  }

  tick(): void {
    for (const [id, req] of this.table) {
      if (req.spares.length > 0 && !req.responded && this.env.time.tick >= req.sparesTick) this.askSpares(id, req);
      if (this.env.time.tick < req.deadlineTick) continue;
      if (req.repairing) {
        // Blocking repair out of time: answer with what was read; the repairs are on their way.
        this.table.delete(id);
        this.answer(req);
        continue;
      }
      if (!req.responded && req.status() !== 'won') {
        req.responded = true;
        this.replier.insufficient(req.requester, req.required, req.replies.size);
      }
      this.finish(id, req);
    }
  }

  private answer(req: GetRequest): void {
    if (req.responded) return;
    req.responded = true;
    const merged = readAnswer(req.merged(), this.env.settings.bug);
    this.replier.reply(req.requester, { ok: true, op: 'get', siblings: merged.siblings, context: merged.context });
  }

  private decide(id: number, req: GetRequest): void {
    if (req.repairing) return; // every reply is in; waiting for repair acknowledgements
    // An asked replica failed: a spare takes its place while the level is still short.
    if (!req.responded && req.spares.length > 0) {
      const short = req.need.total - req.replies.size - req.outstanding;
      if (short > 0) this.askSpares(id, req, short);
    }
    const status = req.status();
    if (!req.responded && status === 'won' && !req.blocking) {
      this.answer(req);
    } else if (!req.responded && status === 'lost' && req.complete) {
      req.responded = true;
      this.replier.insufficient(req.requester, req.required, req.replies.size);
    }
    if (req.complete) this.finish(id, req);
  }

  /**
   * Read repair: every replica that answered with less than the merged state gets the merge.
   * A blocking read answers once those repairs are acknowledged (or at the deadline); the local
   * repair is in this Ready's writes, so it is durable before the answer leaves.
   */
  private finish(id: number, req: GetRequest): void {
    this.table.delete(id);
    const stale = req.replies.size < 2 ? [] : req.stale(req.merged());
    const remote = stale.filter((node) => node !== this.env.self);
    const waitForAcks = req.blocking && !req.responded && remote.length > 0 && this.env.time.tick < req.deadlineTick;
    if (stale.length > 0) {
      const merged = req.merged();
      const bytes = encodeState(merged);
      for (const node of stale) {
        this.repairsSent++;
        if (node === this.env.self) this.store.merge(req.key, merged);
        else this.env.fx.send(node, { type: 'replica-put', id: waitForAcks ? id : 0, key: req.key, state: bytes });
      }
    }
    if (waitForAcks) {
      req.repairing = new Set(remote);
      this.table.set(id, req);
    } else if (req.blocking && req.status() === 'won') {
      this.answer(req);
    }
  }
}
