/**
 * Coordinating writes (a delete is a write of a tombstone). The coordinator makes the new
 * version from its own state, writes it locally — in the same Ready as any reply it enables, so
 * its own copy counts as the first acknowledgement — sends the whole state to the other
 * replicas, and answers after W acknowledgements (or as soon as W can no longer be reached).
 */
import { coordinatorStateBudget } from '../clock/state-budget.js';
import type { CausalContext } from '../clock/context.js';
import { EMPTY_CONTEXT, joinContexts } from '../clock/context.js';
import type { WriteResult } from '../clock/state.js';
import { CounterExhaustedError, applyWrite, encodeState } from '../clock/state.js';
import type { NodeId, PutOp } from '../types.js';
import type { TallyStatus } from '../quorum/index.js';
import { tally } from '../quorum/index.js';
import type { KvEnv } from './env.js';
import { deadlineTick } from './env.js';
import type { LocalStore } from './local-store.js';
import type { Replier, Requester } from './requester.js';
import { badRequest } from './requester.js';

/** One write in flight: the replicas that acknowledged it, and whether the client has its answer. */
export class PutRequest {
  readonly acked = new Set<NodeId>();
  responded = false;

  constructor(
    readonly key: string,
    readonly replicas: readonly NodeId[],
    readonly required: number,
    readonly deadlineTick: number,
    /** What the client gets back: the context it sent plus the new dot. */
    readonly clientContext: CausalContext,
    readonly requester: Requester,
  ) {}

  ack(from: NodeId): void {
    if (this.replicas.includes(from)) this.acked.add(from);
  }

  status(): TallyStatus {
    return tally(this.required, this.replicas.length, this.acked.size, 0);
  }
}

export class PutCoordinator {
  private readonly table = new Map<number, PutRequest>();

  constructor(private readonly env: KvEnv, private readonly store: LocalStore, private readonly replier: Replier) {}

  get size(): number {
    return this.table.size;
  }

  /** Creates the new version at this node (a replica of the key) and replicates it. */
  start(op: PutOp, replicas: readonly NodeId[], required: number, requester: Requester): void {
    const { settings } = this.env;
    // `supersede: 'local'` (RESP SET): the write also covers every version this replica has seen,
    // read in this same step, so repeated context-less SETs do not pile up siblings.
    const context = op.supersede === 'local'
      ? joinContexts(this.store.read(op.key).context, op.context ?? EMPTY_CONTEXT)
      : op.context ?? EMPTY_CONTEXT;
    const result = this.newVersion(op, context, requester);
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
    this.store.write(op.key, result.state, bytes);
    settings.observer?.({
      type: 'version-created', key: op.key, dot: result.dot, context,
      contentType: op.contentType ?? 'application/octet-stream', value: op.value,
    });
    const id = this.env.nextId();
    const req = new PutRequest(op.key, replicas, required, deadlineTick(this.env, op.timeoutMs), result.clientContext, requester);
    for (const node of replicas) if (node !== this.env.self) this.env.fx.send(node, { type: 'replica-put', id, key: op.key, state: bytes });
    this.table.set(id, req);
    // The local copy is in this Ready's writes: it is durable before any reply of this Ready leaves.
    req.ack(this.env.self);
    this.decide(id, req);
  }

  /** A replica acknowledged; one for another key (a stale id from an earlier run) is ignored. */
  onAck(from: NodeId, id: number, key: string): void {
    const req = this.table.get(id);
    if (!req || req.key !== key) return;
    req.ack(from);
    this.decide(id, req);
  }

  tick(): void {
    for (const [id, req] of this.table) {
      if (this.env.time.tick < req.deadlineTick) continue;
      if (!req.responded) this.replier.insufficient(req.requester, req.required, req.acked.size);
      this.table.delete(id);
    }
  }

  private newVersion(op: PutOp, context: CausalContext, requester: Requester): WriteResult | undefined {
    const { settings } = this.env;
    try {
      return applyWrite(this.store.read(op.key), {
        coordinator: settings.actorId,
        context,
        value: op.value,
        contentType: op.contentType ?? 'application/octet-stream',
        tsMs: this.env.time.nowMs,
      }, settings.bug);
    } catch (e) {
      if (!(e instanceof CounterExhaustedError)) throw e;
      this.replier.reply(requester, badRequest(e.message));
      return undefined;
    }
  }

  /** Answers once the tally is decided (won, or lost because too few replicas exist); forgets the write once all acked. */
  private decide(id: number, req: PutRequest): void {
    const status = req.status();
    if (!req.responded && status === 'won') {
      req.responded = true;
      this.replier.reply(req.requester, { ok: true, op: 'put', context: req.clientContext });
    } else if (!req.responded && status === 'lost') {
      req.responded = true;
      this.replier.insufficient(req.requester, req.required, req.acked.size);
    }
    if (req.acked.size >= req.replicas.length) this.table.delete(id);
  }
}
