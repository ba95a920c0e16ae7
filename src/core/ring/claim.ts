/**
 * Who claims which partition (Dynamo strategy 3: Q equal partitions claimed in proportion to
 * weight). Two entry points:
 *
 * - `initialClaim`: a fresh ring. DCs are interleaved by smooth weighted round-robin in
 *   proportion to their total target, then the racks inside each DC; inside a rack, nodes follow
 *   an even schedule that also varies each node's successors. Consecutive partitions therefore
 *   belong to different DCs, racks and nodes wherever the weights allow it, and each node
 *   receives exactly its target.
 *
 * - `rebalanceClaim`: a claim change. Only partitions of leaving nodes and the surplus of nodes
 *   above their new target are moved, and only to nodes below their new target, so the number of
 *   moved partitions is the minimum possible for the new targets. Which surplus partitions move,
 *   and where, is chosen greedily to keep neighbours distinct (see `rebalanceClaim`).
 *
 * Everything is deterministic: inputs are sorted by nodeId, ties are broken by nodeId or
 * partition index, and there is no randomness.
 */
import type { RingMember } from './types.js';
import { insertSorted, nearestDistance } from './positions.js';

export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function rackKey(m: RingMember): string {
  // dc and rack are arbitrary strings; a NUL separator cannot be forged by any sane config.
  return `${m.dc}\u0000${m.rack}`;
}

/**
 * Partitions each member should own: weight / totalWeight * Q, rounded by largest remainder.
 * Equal remainders go first to the member that currently owns more (`currentCounts`, so a
 * rebalance does not move a partition just to re-break a tie), then to the smaller nodeId.
 * `members` must be sorted by nodeId (the sum is taken in that order, so every node computes the
 * same floating-point result).
 */
export function claimTargets(
  members: readonly RingMember[],
  partitionCount: number,
  currentCounts?: ReadonlyMap<string, number>,
): Map<string, number> {
  let total = 0;
  for (const m of members) total += m.weight;
  const targets = new Map<string, number>();
  const rest: { id: string; rem: number; cur: number }[] = [];
  let assigned = 0;
  for (const m of members) {
    const quota = (m.weight * partitionCount) / total;
    const base = Math.floor(quota);
    targets.set(m.nodeId, base);
    assigned += base;
    if (m.weight > 0) rest.push({ id: m.nodeId, rem: quota - base, cur: currentCounts?.get(m.nodeId) ?? 0 });
  }
  rest.sort((a, b) => b.rem - a.rem || b.cur - a.cur || cmpStr(a.id, b.id));
  // Floating-point error can leave the leftover a hair off the sum of remainders; cycling keeps
  // the total exact whatever happens.
  for (let left = partitionCount - assigned, i = 0; left > 0 && rest.length > 0; left--, i = (i + 1) % rest.length) {
    const id = rest[i]!.id;
    targets.set(id, targets.get(id)! + 1);
  }
  return targets;
}

/**
 * Smooth weighted round-robin (as in nginx): a sequence of sum(weights) indices in which index i
 * appears exactly weights[i] times, spread as evenly as the weights allow. Ties go to the lower
 * index.
 */
export function smoothRoundRobin(weights: readonly number[]): number[] {
  let total = 0;
  for (const w of weights) total += w;
  const cur = new Array<number>(weights.length).fill(0);
  const out: number[] = [];
  for (let step = 0; step < total; step++) {
    let best = -1;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      if (w === 0) continue;
      cur[i] = cur[i]! + w;
      if (best < 0 || cur[i]! > cur[best]!) best = i;
    }
    cur[best] = cur[best]! - total;
    out.push(best);
  }
  return out;
}

/**
 * A fresh claim. `members` sorted by nodeId; `targets` from `claimTargets` (summing to Q);
 * `window` = N-1, the neighbours on each side that a preference list may reach.
 *
 * DCs, then racks within a DC, are interleaved by smooth weighted round-robin. Within a rack the
 * next node is picked among those on or behind their even schedule (exact integer credits, so a
 * node is never more than about one partition early and is forced once a full partition late),
 * preferring: no repeat within the window, then the successor pair (previous owner → node) seen
 * least so far, then the most overdue node, then the smallest nodeId. Varying the successors is
 * what spreads a failed or departing node's load over many nodes instead of the same next N-1
 * (a plain round-robin would repeat n0 n1 n2 … n0 n1 n2 … and always hand n1's load to n2).
 */
export function initialClaim(
  members: readonly RingMember[],
  targets: ReadonlyMap<string, number>,
  partitionCount: number,
  window: number,
): string[] {
  const dcs = groupByDcAndRack(members, targets);
  const sum = (ms: readonly RingMember[]): number => ms.reduce((s, m) => s + targets.get(m.nodeId)!, 0);

  const dcList = [...dcs.values()];
  const dcLevel: Level = { seq: smoothRoundRobin(dcList.map((racks) => sum([...racks.values()].flat()))), pos: 0 };
  const rackLevels = dcList.map((racks): Level => ({ seq: smoothRoundRobin([...racks.values()].map(sum)), pos: 0 }));
  const rackStates = dcList.map((racks) => [...racks.values()].map((nodes): RackState => ({
    ids: nodes.map((m) => m.nodeId),
    want: nodes.map((m) => targets.get(m.nodeId)!),
    got: nodes.map(() => 0),
    total: sum(nodes),
    slots: 0,
  })));

  // With k owners no arrangement keeps more than k-1 neighbours distinct: do not try.
  const owning = [...targets.values()].filter((t) => t > 0).length;
  const w = Math.max(0, Math.min(window, owning - 1, Math.floor((partitionCount - 1) / 2)));
  const pairs = new Map<string, number>();
  const owners: string[] = [];
  for (let p = 0; p < partitionCount; p++) {
    const d = dcLevel.seq[dcLevel.pos++]!;
    const rl = rackLevels[d]!;
    const rs = rackStates[d]![rl.seq[rl.pos++]!]!;
    const prev = p > 0 ? owners[p - 1]! : '';
    rs.slots++;
    const best = pickInRack(rs, owners, pairs, prev, p, w, partitionCount);
    const id = rs.ids[best]!;
    rs.got[best] = rs.got[best]! + 1;
    pairs.set(`${prev}\u0000${id}`, (pairs.get(`${prev}\u0000${id}`) ?? 0) + 1);
    owners.push(id);
  }
  // The schedule forces the last few picks, which can repeat a neighbour across the wrap-around
  // (or where weights are very uneven): swap those away. Counts do not change.
  const byId = new Map(members.map((m) => [m.nodeId, m]));
  const all = owners.map((_, p) => p);
  // Only node clashes: the round-robin levels already place racks and DCs as well as they can.
  repairBySwaps(owners, all, byId, w, SAME_NODE);
  return owners;
}

interface Level { seq: number[]; pos: number }
interface RackState { ids: string[]; want: number[]; got: number[]; total: number; slots: number }

/** dc -> rack -> nodes that claim something, all in sorted order. */
function groupByDcAndRack(members: readonly RingMember[], targets: ReadonlyMap<string, number>): Map<string, Map<string, RingMember[]>> {
  const dcs = new Map<string, Map<string, RingMember[]>>();
  for (const m of [...members].sort((a, b) => cmpStr(a.dc, b.dc) || cmpStr(a.rack, b.rack) || cmpStr(a.nodeId, b.nodeId))) {
    if ((targets.get(m.nodeId) ?? 0) === 0) continue;
    let racks = dcs.get(m.dc);
    if (!racks) dcs.set(m.dc, (racks = new Map()));
    let nodes = racks.get(m.rack);
    if (!nodes) racks.set(m.rack, (nodes = []));
    nodes.push(m);
  }
  return dcs;
}

/** The index in `rs` of the node that claims partition p (see `initialClaim` for the order of preference). */
function pickInRack(
  rs: RackState, owners: readonly string[], pairs: ReadonlyMap<string, number>, prev: string, p: number, w: number, partitionCount: number,
): number {
  // credit·total = slots·want - got·total: ≥ 0 means on or behind schedule, ≥ total overdue.
  let overdue = false;
  for (let i = 0; i < rs.ids.length; i++) {
    if (rs.got[i]! < rs.want[i]! && rs.slots * rs.want[i]! - rs.got[i]! * rs.total >= rs.total) overdue = true;
  }
  let best = -1;
  let bestClash = 0;
  let bestPair = 0;
  let bestCredit = 0;
  for (let i = 0; i < rs.ids.length; i++) {
    if (rs.got[i]! >= rs.want[i]!) continue;
    const credit = rs.slots * rs.want[i]! - rs.got[i]! * rs.total;
    if (credit < (overdue ? rs.total : 0)) continue;
    const id = rs.ids[i]!;
    let clash = 0;
    for (let k = 1; k <= w && k <= p; k++) if (owners[p - k] === id) clash += w - k + 1;
    // The circle closes: the last partitions also neighbour the first ones.
    for (let k = 1; k <= w && p + k >= partitionCount; k++) if (owners[p + k - partitionCount] === id) clash += w - k + 1;
    const pair = pairs.get(`${prev}\u0000${id}`) ?? 0;
    if (best < 0 || clash < bestClash || (clash === bestClash && (pair < bestPair || (pair === bestPair && credit > bestCredit)))) {
      best = i;
      bestClash = clash;
      bestPair = pair;
      bestCredit = credit;
    }
  }
  if (best < 0) {
    // Cannot happen (the credits of the nodes with partitions left sum to more than 0), but
    // never fail a claim over it: take the first node with partitions left.
    best = rs.got.findIndex((g, i) => g < rs.want[i]!);
  }
  return best;
}

// Conflict weights: a neighbour within the window that is the same node is far worse than the
// same rack, which is worse than the same DC. One neighbour counts once, at its worst category.
const SAME_NODE = 10_000;
const SAME_RACK = 100;
const SAME_DC = 1;
/** Bound on the swap-repair passes after a rebalance (each pass is O(moved^2)). */
const REPAIR_PASSES_MAX = 4;

/**
 * Move partitions from nodes that have too many (or are leaving) to nodes that have too few.
 *
 * `prevOwners[p]` is the old owner (possibly a node not in `members`: it is leaving).
 * The moves are exactly: every partition of a leaving node, plus `count - target` partitions of
 * each staying node above its target; receivers are exactly the nodes below their target. A
 * partition is never taken from a node at or below its target, and never given to one at or above.
 *
 * Greedy choice, one partition per step, of a (receiver, candidate) pair, where candidates are
 * the leaving nodes' partitions and a donor's while it still has surplus. The pair minimises
 *   conflicts(receiver at p) - conflicts(current owner at p)
 * within `window` partitions on each side (so moves also repair existing clashes); ties go to the
 * receiver with the largest remaining deficit, then to the partition farthest from the
 * receiver's nearest partition (capped at the ideal spacing Q/target, so a new node's partitions
 * come out evenly spread), then to orphans and donors with the most surplus left, then to the
 * smallest nodeId and partition index. A final repair swaps the new owners of two moved
 * partitions wherever that lowers the conflicts (same counts, same moved set).
 */
export function rebalanceClaim(
  prevOwners: readonly string[],
  members: readonly RingMember[],
  targets: ReadonlyMap<string, number>,
  window: number,
): string[] {
  const q = prevOwners.length;
  const byId = new Map<string, RingMember>();
  for (const m of members) byId.set(m.nodeId, m);
  const owners: (string | null)[] = prevOwners.map((o) => (byId.has(o) ? o : null));

  const counts = new Map<string, number>();
  for (const m of members) counts.set(m.nodeId, 0);
  for (const o of owners) if (o !== null) counts.set(o, counts.get(o)! + 1);

  const surplus = new Map<string, number>();
  const deficit = new Map<string, number>();
  for (const m of members) {
    const diff = counts.get(m.nodeId)! - targets.get(m.nodeId)!;
    if (diff > 0) surplus.set(m.nodeId, diff);
    else if (diff < 0) deficit.set(m.nodeId, -diff);
  }
  if (deficit.size === 0) return owners.map((o) => o!);

  // Each receiver's partitions, sorted, for the nearest-distance criterion.
  const positions = new Map<string, number[]>();
  for (const id of deficit.keys()) positions.set(id, []);
  for (let p = 0; p < q; p++) {
    const o = owners[p];
    if (o != null && positions.has(o)) positions.get(o)!.push(p);
  }

  const owning = members.filter((m) => targets.get(m.nodeId)! > 0).length;
  const w = Math.max(0, Math.min(window, owning - 1, Math.floor((q - 1) / 2)));
  const conflicts = (node: RingMember, p: number): number => conflictsAt(owners, byId, w, node, p);

  const receivers = [...deficit.keys()].sort(cmpStr);
  const moved: number[] = [];
  const ownerConflict = new Float64Array(q);
  for (;;) {
    // Candidates and what their current owner's clashes are (independent of the receiver).
    const cands: number[] = [];
    let maxOwnerConflict = 0;
    for (let p = 0; p < q; p++) {
      const o = owners[p] ?? null;
      if (o !== null && (surplus.get(o) ?? 0) === 0) continue;
      cands.push(p);
      ownerConflict[p] = o === null ? 0 : conflicts(byId.get(o)!, p);
      maxOwnerConflict = Math.max(maxOwnerConflict, ownerConflict[p]!);
    }
    const move = chooseMove({ owners, byId, targets, surplus, deficit, positions, receivers, conflicts, ownerConflict }, cands, maxOwnerConflict);
    if (move === null) break;
    const { r: bestR, p: best } = move;
    const from = owners[best] ?? null;
    if (from !== null) surplus.set(from, surplus.get(from)! - 1);
    owners[best] = bestR;
    deficit.set(bestR, deficit.get(bestR)! - 1);
    insertSorted(positions.get(bestR)!, best);
    moved.push(best);
  }

  // Swapping the new owners of two moved partitions keeps every count and the set of moved
  // partitions, so it costs no extra movement: repair whatever the greedy could not avoid.
  moved.sort((a, b) => a - b);
  repairBySwaps(owners, moved, byId, w, SAME_NODE);

  return owners.map((o, p) => {
    if (o === null || o === undefined) throw new Error(`rebalanceClaim: partition ${p} left unowned`);
    return o;
  });
}

/** What `chooseMove` reads of the rebalance in progress (counts per node id). */
interface MoveChoice {
  readonly owners: readonly (string | null)[];
  readonly byId: ReadonlyMap<string, RingMember>;
  readonly targets: ReadonlyMap<string, number>;
  readonly surplus: ReadonlyMap<string, number>;
  readonly deficit: ReadonlyMap<string, number>;
  readonly positions: ReadonlyMap<string, number[]>;
  readonly receivers: readonly string[];
  readonly conflicts: (node: RingMember, p: number) => number;
  readonly ownerConflict: Float64Array;
}

/** The next (receiver, partition) move of `rebalanceClaim`, or null when no receiver needs one. */
function chooseMove(st: MoveChoice, cands: readonly number[], maxOwnerConflict: number): { r: string; p: number } | null {
  const { owners, byId, targets, surplus, deficit, positions, receivers, conflicts, ownerConflict } = st;
  const q = owners.length;
  // Joint choice of (receiver, partition): see the function comment for the order.
  let bestR: string | null = null;
  let best = -1;
  let bestScore = 0;
  let bestDeficit = 0;
  let bestSpread = 0;
  let bestSurplus = 0;
  for (const r of receivers) {
    const def = deficit.get(r)!;
    if (def === 0) continue;
    // A receiver with less deficit wins only with a strictly lower score; skip it if none exists.
    if (best >= 0 && def < bestDeficit && bestScore <= -maxOwnerConflict) continue;
    const recv = byId.get(r)!;
    const pos = positions.get(r)!;
    const spacing = Math.max(1, Math.floor(q / targets.get(r)!));
    for (const p of cands) {
      const o = owners[p] ?? null;
      const sur = o === null ? Number.POSITIVE_INFINITY : surplus.get(o)!;
      const score = conflicts(recv, p) - ownerConflict[p]!;
      if (best >= 0 && score > bestScore) continue;
      if (best >= 0 && score === bestScore && def < bestDeficit) continue;
      const spread = Math.min(spacing, nearestDistance(pos, p, q));
      if (best < 0 || score < bestScore || def > bestDeficit
        || (spread > bestSpread || (spread === bestSpread && sur > bestSurplus))) {
        bestR = r;
        best = p;
        bestScore = score;
        bestDeficit = def;
        bestSpread = spread;
        bestSurplus = sur;
      }
    }
  }
  return bestR === null ? null : { r: bestR, p: best };
}

/**
 * Conflicts of `node` placed at p with the owners within w partitions on each side: nearer
 * neighbours weigh more (a clash at distance 1 is a repeated owner on the walk). Unowned
 * neighbours (null) count nothing.
 */
function conflictsAt(
  owners: readonly (string | null)[],
  byId: ReadonlyMap<string, RingMember>,
  w: number,
  node: RingMember,
  p: number,
): number {
  const q = owners.length;
  let c = 0;
  for (let d = 1; d <= w; d++) {
    const near = w - d + 1;
    for (const nb of [owners[(p + d) % q], owners[(p - d + q) % q]]) {
      if (nb == null) continue;
      if (nb === node.nodeId) c += SAME_NODE * near;
      else {
        const o = byId.get(nb)!;
        if (o.dc === node.dc) c += (o.rack === node.rack ? SAME_RACK : SAME_DC) * near;
      }
    }
  }
  return c;
}

/**
 * Local search: for each partition of `movable` (ascending) whose conflicts reach `minConflict`, swap its owner
 * with that of another partition of `movable` wherever the swap lowers the conflicts around
 * both. Counts are unchanged. Bounded passes; deterministic order. `owners` is fully assigned.
 */
function repairBySwaps(
  owners: (string | null)[],
  movable: readonly number[],
  byId: ReadonlyMap<string, RingMember>,
  w: number,
  minConflict: number,
): void {
  const q = owners.length;
  if (w < 1) return;
  const at = (p: number): number => conflictsAt(owners, byId, w, byId.get(owners[p]!)!, p);
  const localCost = (p1: number, p2: number): number => {
    const seen = new Set<number>();
    let c = 0;
    for (const p of [p1, p2]) {
      for (let d = -w; d <= w; d++) {
        const x = (p + d + q) % q;
        if (seen.has(x)) continue;
        seen.add(x);
        c += at(x);
      }
    }
    return c;
  };
  for (let pass = 0; pass < REPAIR_PASSES_MAX; pass++) {
    let improved = false;
    for (const p1 of movable) {
      if (at(p1) < minConflict) continue;
      for (const p2 of movable) {
        const r1 = owners[p1]!;
        const r2 = owners[p2]!;
        if (r1 === r2) continue;
        const before = localCost(p1, p2);
        owners[p1] = r2;
        owners[p2] = r1;
        if (localCost(p1, p2) < before) {
          improved = true;
          if (at(p1) < minConflict) break;
        } else {
          owners[p1] = r1;
          owners[p2] = r2;
        }
      }
    }
    if (!improved) break;
  }
}
