/** Resolving R and W, and tallying replies: pure functions in the manner of etcd's quorum package. */
import type { Consistency, DcLevel, NodeId } from '../types.js';

export type Resolved = { ok: true; count: number } | { ok: false; message: string };

const DC_LEVELS: ReadonlySet<string> = new Set(['local_one', 'local_quorum', 'each_quorum']);

export function isDcLevel(c: Consistency): c is DcLevel {
  return typeof c === 'string' && DC_LEVELS.has(c);
}

/**
 * Turns a requested consistency into a number of replies. `quorum` and `all` count against the
 * key's replicas — fewer than N when the ring has fewer than N members — while a number above
 * the cluster's N is refused. The DC levels resolve through `resolveRequirement`; here (one DC,
 * or a caller that only needs a count) they mean `one` and `quorum`.
 */
export function resolveConsistency(c: Consistency, clusterN: number, replicas: number, what: 'r' | 'w'): Resolved {
  if (c === 'one' || c === 'local_one') return { ok: true, count: 1 };
  if (c === 'quorum' || c === 'local_quorum' || c === 'each_quorum') return { ok: true, count: majority(replicas) };
  if (c === 'all') return { ok: true, count: replicas };
  if (!Number.isInteger(c) || c < 1) return { ok: false, message: `${what} must be a positive integer, one, quorum or all` };
  if (c > clusterN) return { ok: false, message: `${what}=${c} is above N=${clusterN}` };
  return { ok: true, count: c };
}

export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** A group of replicas of which at least `count` must succeed. */
export interface QuorumGroup {
  readonly nodes: readonly NodeId[];
  readonly count: number;
}

/** Every group must be met: one group for the plain levels, one per DC for `each_quorum`. */
export interface Requirement {
  readonly groups: readonly QuorumGroup[];
  /** The sum of the groups' counts (what an `insufficient_replicas` answer reports). */
  readonly total: number;
}

export type ResolvedRequirement = { ok: true; req: Requirement } | { ok: false; message: string };

function requirement(groups: QuorumGroup[]): Requirement {
  return { groups, total: groups.reduce((a, g) => a + g.count, 0) };
}

/**
 * The requirement a level sets on a key's replicas. `dcOf` names each replica's data centre and
 * `selfDc` the coordinator's. `local_one`/`local_quorum` count only the replicas in the
 * coordinator's DC (one, or a majority of them); `each_quorum` needs a majority in every DC that
 * holds replicas. A coordinator in a DC that holds no replica of the key counts `local_*` in the
 * DC of the key's first replica (the documented rule, see docs/ring.md).
 */
export function resolveRequirement(
  c: Consistency, clusterN: number, replicas: readonly NodeId[], dcOf: (id: NodeId) => string, selfDc: string, what: 'r' | 'w',
): ResolvedRequirement {
  if (!isDcLevel(c)) {
    const r = resolveConsistency(c, clusterN, replicas.length, what);
    return r.ok ? { ok: true, req: requirement([{ nodes: replicas, count: r.count }]) } : r;
  }
  const byDc = new Map<string, NodeId[]>();
  for (const id of replicas) {
    const dc = dcOf(id);
    const list = byDc.get(dc);
    if (list) list.push(id);
    else byDc.set(dc, [id]);
  }
  if (c === 'each_quorum') {
    return { ok: true, req: requirement([...byDc.values()].map((nodes) => ({ nodes, count: majority(nodes.length) }))) };
  }
  const first = replicas[0];
  const localDc = byDc.has(selfDc) || first === undefined ? selfDc : dcOf(first);
  const local = byDc.get(localDc) ?? [];
  if (local.length === 0) return { ok: true, req: requirement([{ nodes: [], count: 1 }]) };
  return { ok: true, req: requirement([{ nodes: local, count: c === 'local_one' ? 1 : majority(local.length) }]) };
}

/** Tallies a requirement: won when every group is met, lost as soon as one no longer can be. */
export function tallyRequirement(req: Requirement, succeeded: ReadonlySet<NodeId>, failed: ReadonlySet<NodeId>): TallyStatus {
  let won = true;
  for (const g of req.groups) {
    let yes = 0;
    let no = 0;
    for (const id of g.nodes) {
      if (succeeded.has(id)) yes++;
      else if (failed.has(id)) no++;
    }
    if (g.nodes.length - no < g.count) return 'lost';
    if (yes < g.count) won = false;
  }
  return won ? 'won' : 'pending';
}

export type TallyStatus = 'pending' | 'won' | 'lost';

/** Counts successes against a requirement out of a known number of voters. */
export function tally(required: number, voters: number, successes: number, failures: number): TallyStatus {
  if (successes >= required) return 'won';
  if (voters - failures < required) return 'lost';
  return 'pending';
}
