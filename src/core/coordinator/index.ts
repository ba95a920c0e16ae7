/**
 * Coordinator state machines for one client request each. They only count and decide; the
 * node (src/core/node.ts) sends the messages and writes the state they ask for.
 */
import type { KeyState } from '../clock/state.js';
import { EMPTY_STATE, statesEqual, syncStates } from '../clock/state.js';
import type { CausalContext } from '../clock/context.js';
import type { NodeId } from '../types.js';
import { tally } from '../quorum/index.js';

/** A read: ask every replica, answer after R, keep listening for read repair until all answer or time runs out. */
export class GetCoordination {
  readonly replies = new Map<NodeId, KeyState>();
  private readonly failed = new Set<NodeId>();
  responded = false;
  constructor(
    readonly reqId: number,
    readonly key: string,
    readonly replicas: readonly NodeId[],
    readonly required: number,
    readonly deadlineTick: number,
  ) {}

  /** Records a replica's state; returns the tally afterwards. */
  record(from: NodeId, state: KeyState): 'pending' | 'won' | 'lost' {
    if (!this.replicas.includes(from) || this.replies.has(from) || this.failed.has(from)) return this.status();
    this.replies.set(from, state);
    this.mergedCache = undefined;
    return this.status();
  }

  private mergedCache: KeyState | undefined;

  /** A replica answered with something unusable: it counts as a failure, once. */
  fail(from: NodeId): void {
    if (this.replicas.includes(from) && !this.replies.has(from)) this.failed.add(from);
  }

  status(): 'pending' | 'won' | 'lost' {
    return tally(this.required, this.replicas.length, this.replies.size, this.failed.size);
  }

  get complete(): boolean {
    return this.replies.size + this.failed.size >= this.replicas.length;
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

/** A write: the coordinator's own persisted copy counts as the first ack; answer after W. */
export class PutCoordination {
  readonly acked = new Set<NodeId>();
  responded = false;
  constructor(
    readonly reqId: number,
    readonly key: string,
    readonly replicas: readonly NodeId[],
    readonly required: number,
    readonly deadlineTick: number,
    readonly clientContext: CausalContext,
  ) {}

  ack(from: NodeId): 'pending' | 'won' | 'lost' {
    if (this.replicas.includes(from)) this.acked.add(from);
    return this.status();
  }

  status(): 'pending' | 'won' | 'lost' {
    return tally(this.required, this.replicas.length, this.acked.size, 0);
  }
}

/**
 * A write received by a node outside the key's replicas: handed to the replicas in order. A
 * replica that takes it says so at once; only a replica that stays silent for its share of the
 * time is passed over. (If the acceptance itself is lost, the next replica coordinates the write
 * too: delivery is at least once, and the duplicate shows as one more sibling.)
 */
export class Forwarding<Op = unknown> {
  attempt = 0;
  attemptDeadlineTick = 0;
  accepted = false;
  constructor(
    readonly reqId: number,
    readonly op: Op,
    readonly targets: readonly NodeId[],
    readonly deadlineTick: number,
    /** Each target gets an equal share of the time before the next one is tried. */
    readonly ticksPerAttempt: number,
    /** The W asked for, reported when forwarding fails. */
    readonly required: number,
  ) {}
  get target(): NodeId | undefined {
    return this.targets[this.attempt];
  }
}
