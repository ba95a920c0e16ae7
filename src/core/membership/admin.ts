/**
 * The operator's surface of membership: staging (join, leave, removenode), plan, commit and
 * clear, Riak's plan/commit without a leader. Every change is `Membership.propose` of the
 * cluster document (version + 1), which this node installs at once and pushes (`ring-push`) to
 * every node the document concerns; gossip spreads it too, and installing is idempotent.
 *
 * Two operators staging through two nodes at the same moment make two documents of the same
 * version; `supersedes` keeps one everywhere, and the other's change is gone. The node that
 * staged it remembers it and `plan` lists it as `lost`, so the operator can stage it again —
 * which is why operators should stage through one node at a time (docs/membership.md).
 *
 * `Node.admin(op)` answers synchronously; the document it proposed is in the Ready being built,
 * and the runtime answers the operator only once that Ready is durable.
 */
import { CORE_LIMITS } from '../constants.js';
import { assertNever } from '../errors.js';
import type { Effects } from '../ready.js';
import { RingError } from '../ring/index.js';
import type { NodeId } from '../types.js';
import type { Membership } from './index.js';
import type { ClusterMeta, MemberInfo, StagedChange } from './meta.js';
import { encodeClusterMeta } from './meta.js';
import type { RingMessage } from './messages.js';
import { decodedDoc } from './messages.js';
import type { RingPlan, TransitionView } from './plan.js';
import { membersAfter, planOf, stagedRing, transitionView } from './plan.js';

export type { OwnershipChange, ReplicaMove, RingPlan, TransitionView } from './plan.js';

/** What an operator asks of the node it addresses. */
export type AdminOp =
  | { readonly op: 'stage-join' }
  | { readonly op: 'stage-leave' }
  | { readonly op: 'stage-remove'; readonly nodeId: NodeId }
  | { readonly op: 'plan' }
  | { readonly op: 'commit' }
  | { readonly op: 'clear' }
  | { readonly op: 'transition' };

/** The API's codes for a refusal: 400, 404, 409, 503. */
export type AdminErrorCode = 'bad_request' | 'not_found' | 'conflict' | 'unavailable';

export interface AdminError {
  readonly ok: false;
  readonly error: AdminErrorCode;
  readonly message: string;
}

export type AdminResult =
  | {
    readonly ok: true; readonly op: 'stage-join' | 'stage-leave' | 'stage-remove' | 'clear';
    /** The document in force after the operation; `staged`: its staged changes. */
    readonly version: number; readonly staged: readonly StagedChange[]; readonly change?: StagedChange;
  }
  | { readonly ok: true; readonly op: 'plan'; readonly plan: RingPlan }
  | { readonly ok: true; readonly op: 'commit'; readonly version: number; readonly plan: RingPlan }
  | { readonly ok: true; readonly op: 'transition'; readonly version: number; readonly transition: TransitionView | null }
  | AdminError;

/** What the ring-admin side of a node counts. */
export interface RingAdminStats {
  readonly pushesSent: number;
  /** Pushed documents installed (newer than this node's). */
  readonly pushesInstalled: number;
  /** Pushed documents not installed: older or equal, or of another cluster. */
  readonly pushesIgnored: number;
}

const NODE_ID_CHARS_MAX = 256;

const fail = (error: AdminErrorCode, message: string): AdminError => ({ ok: false, error, message });
const has = (ms: readonly MemberInfo[] | undefined, id: NodeId): boolean => ms?.some((m) => m.nodeId === id) ?? false;
const same = (a: StagedChange, b: StagedChange): boolean =>
  a.kind === b.kind && a.nodeId === b.nodeId && JSON.stringify(a.member ?? null) === JSON.stringify(b.member ?? null);

/** Whether a staged change has taken effect in `meta` (committed: in the transition, or done). */
function applied(meta: ClusterMeta, c: StagedChange): boolean {
  const t = meta.transition;
  if (c.kind === 'join') return has(meta.members, c.nodeId) || has(t?.members, c.nodeId);
  return !has(meta.members, c.nodeId) || (t !== undefined && !has(t.members, c.nodeId));
}

/** Members of the ring and of the transition. */
function nodesOf(meta: ClusterMeta): MemberInfo[] {
  return [...meta.members, ...(meta.transition?.members ?? [])];
}

export class RingAdmin {
  /** Changes staged through this node that have not taken effect yet. */
  private mine: StagedChange[] = [];
  /** Members that left the ring while this node watched, oldest first (shown as `left`). */
  private readonly gone = new Map<NodeId, MemberInfo>();
  private readonly counts = { pushesSent: 0, pushesInstalled: 0, pushesIgnored: 0 };

  constructor(private readonly self: NodeId, private readonly fx: Effects, private readonly membership: Membership) {
    membership.onPropose((next, prev) => this.push(next, prev));
    membership.onChange((next, prev) => this.noteChange(next, prev));
  }

  handle(op: AdminOp): AdminResult {
    const meta = this.membership.clusterMeta;
    if (!meta) return fail('unavailable', 'this node has no cluster document yet: it has neither formed nor found a ring');
    try {
      switch (op.op) {
        case 'stage-join': return this.stageJoin(meta);
        case 'stage-leave':
          if (!has(meta.members, this.self)) return fail('conflict', `${this.self} is not a ring member: it has nothing to leave`);
          return this.stage(meta, { kind: 'leave', nodeId: this.self });
        case 'stage-remove': return this.stageRemove(meta, op.nodeId);
        case 'plan': return { ok: true, op: 'plan', plan: planOf(meta, this.lost(meta)) };
        case 'commit': return this.commit(meta);
        case 'clear': return this.clear(meta);
        case 'transition': return { ok: true, op: 'transition', version: meta.version, transition: transitionView(meta) };
        default: return assertNever(op, 'admin op');
      }
    } catch (e) {
      if (e instanceof RingError) return fail('conflict', `the staged changes cannot make a ring: ${e.message}`);
      throw e;
    }
  }

  /** A document a peer pushed (validated by the message's validator): installed if it wins. */
  step(_from: NodeId, msg: RingMessage): void {
    const meta = decodedDoc(msg.meta);
    if (meta && this.membership.install(meta)) this.counts.pushesInstalled++;
    else this.counts.pushesIgnored++;
  }

  /** Members that left the ring since this node started watching (itself included, if it left). */
  departed(): MemberInfo[] {
    return [...this.gone.values()];
  }

  stats(): RingAdminStats {
    return { ...this.counts };
  }

  private stageJoin(meta: ClusterMeta): AdminResult {
    const me = this.membership.knownPeer(this.self);
    if (!me) return fail('unavailable', `${this.self} does not know its own address yet`);
    if (has(meta.members, this.self)) return fail('conflict', `${this.self} is already a ring member`);
    if (has(meta.transition?.members, this.self)) return fail('conflict', `${this.self} is joining already, in the transition under way`);
    return this.stage(meta, { kind: 'join', nodeId: this.self, member: me });
  }

  private stageRemove(meta: ClusterMeta, id: NodeId): AdminResult {
    if (typeof id !== 'string' || id === '' || id.length > NODE_ID_CHARS_MAX) return fail('bad_request', `a node id is 1 to ${NODE_ID_CHARS_MAX} characters`);
    if (id === this.self) return fail('bad_request', `${id} is the node addressed: use leave for it (removenode is for another node, typically a dead one)`);
    if (!has(meta.members, id)) return fail('not_found', `no ring member ${id}`);
    return this.stage(meta, { kind: 'remove', nodeId: id });
  }

  private stage(meta: ClusterMeta, change: StagedChange): AdminResult {
    const op = change.kind === 'join' ? 'stage-join' : change.kind === 'leave' ? 'stage-leave' : 'stage-remove';
    if (meta.transition) return fail('conflict', `a transition is under way (version ${meta.version}): stage the next change once it has finished`);
    const current = meta.staged ?? [];
    if (current.some((c) => same(c, change))) {
      this.remember(change);
      return { ok: true, op, version: meta.version, staged: current, change };
    }
    const staged = [...current.filter((c) => c.nodeId !== change.nodeId), change];
    if (change.kind !== 'join') {
      const left = membersAfter(meta.members, staged).length;
      if (left === 0) return fail('conflict', `${change.nodeId} is the last member: a cluster cannot lose its last node`);
      if (left < meta.n) {
        return fail('conflict', `the ring would keep ${left} member${left === 1 ? '' : 's'}, fewer than N=${meta.n} replicas per key: add a node first`);
      }
    }
    // Refuse now what commit could not do: a ring whose members all have weight 0 claims nothing.
    if (!membersAfter(meta.members, staged).some((m) => m.weight > 0)) return fail('conflict', 'every member left after the staged changes has weight 0: nothing could own the partitions');
    const next = this.membership.propose((cur) => ({ ...cur, staged }));
    this.remember(change);
    return { ok: true, op, version: next.version, staged: next.staged ?? [], change };
  }

  private commit(meta: ClusterMeta): AdminResult {
    const t = transitionView(meta);
    if (t) {
      return fail('conflict', `a transition is under way (version ${meta.version}, ${t.done.length} of ${t.moving.length} moving partitions done): commit again once it has finished`);
    }
    if ((meta.staged ?? []).length === 0) return fail('conflict', 'nothing is staged: stage a join, leave or removenode first');
    const rings = stagedRing(meta);
    const plan = planOf(meta, [], rings);
    const { next, members } = rings;
    const doc = this.membership.propose((cur) => ({ ...cur, staged: [], transition: { members, owners: next.owners, done: [] } }));
    this.mine = [];
    return { ok: true, op: 'commit', version: doc.version, plan };
  }

  private clear(meta: ClusterMeta): AdminResult {
    this.mine = [];
    if ((meta.staged ?? []).length === 0) return { ok: true, op: 'clear', version: meta.version, staged: [] };
    const next = this.membership.propose((cur) => ({ ...cur, staged: [] }));
    return { ok: true, op: 'clear', version: next.version, staged: [] };
  }

  private remember(change: StagedChange): void {
    this.mine = [...this.mine.filter((c) => c.nodeId !== change.nodeId), change];
  }

  /** Changes staged here that the document in force neither holds nor has applied. */
  private lost(meta: ClusterMeta): StagedChange[] {
    const staged = meta.staged ?? [];
    return this.mine.filter((c) => !staged.some((s) => same(s, c)) && !applied(meta, c));
  }

  /** Sends a document this node made to every node it concerns: before or after it, members, transition, joiners. */
  private push(next: ClusterMeta, prev: ClusterMeta | undefined): void {
    const to = new Set<NodeId>();
    for (const doc of prev ? [next, prev] : [next]) {
      for (const m of nodesOf(doc)) to.add(m.nodeId);
      for (const c of doc.staged ?? []) if (c.kind === 'join') to.add(c.nodeId);
    }
    to.delete(this.self);
    const bytes = encodeClusterMeta(next);
    for (const id of [...to].sort()) {
      this.fx.send(id, { type: 'ring-push', meta: bytes });
      this.counts.pushesSent++;
    }
  }

  private noteChange(next: ClusterMeta, prev: ClusterMeta | undefined): void {
    const now = new Set(nodesOf(next).map((m) => m.nodeId));
    if (prev) for (const m of nodesOf(prev)) if (!now.has(m.nodeId)) this.gone.set(m.nodeId, m);
    for (const id of now) this.gone.delete(id);
    for (const id of this.gone.keys()) {
      if (this.gone.size <= CORE_LIMITS.departedMembersMax) break;
      this.gone.delete(id);
    }
    this.mine = this.mine.filter((c) => !applied(next, c));
  }
}
