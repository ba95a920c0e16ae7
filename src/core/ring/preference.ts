/**
 * Preference lists: the replicas of a partition, in order.
 *
 * The rule (documented in docs/ring.md; it is part of the cluster's behaviour, keep it stable):
 *
 * Without per-DC `replication`:
 * 1. Candidates: walk the partitions clockwise from `p` (p, p+1, …, Q-1, 0, …) and list each
 *    owner the first time it appears; members that own no partition (possible only when there
 *    are more members than partitions, or a weight too small to round to one) follow, by nodeId.
 *    Members of weight 0 are never replicas.
 * 2. Choose, scanning the candidates in walk order each time:
 *      a. nodes of a DC not chosen yet,
 *      b. nodes of a rack (dc+rack) not chosen yet,
 *      c. any node not chosen yet,
 *    until N are chosen.
 * 3. The list is the chosen nodes in walk order. So the partition's owner comes first, the list
 *    has distinct nodes, spans min(N, #DCs) DCs and min(N, #racks) racks, and has every member
 *    when there are fewer than N.
 *
 * With `replication` (replicas per DC), each DC chooses on its own, from its own members only,
 * so a change of one DC's membership (or any partition moving between DCs in the claim) never
 * moves a replica of another DC:
 * 1. Candidates of DC d: d's members of positive weight, ordered by weighted rendezvous score
 *    of (p, nodeId) (highest first; ties by nodeId).
 * 2. Choose with b and c above until d's count (or all of d) is chosen.
 * 3. The list: the partition's owner first when it was chosen, then the rest by DC name and, in a
 *    DC, by score. DCs absent from `replication` (or with 0) hold no replicas.
 */
import { utf8 } from '../bytes.js';
import { rackKey } from './claim.js';
import { murmur3x86_32 } from './hash.js';
import type { RingMember } from './types.js';

export function computePreferenceLists(
  owners: readonly string[],
  members: readonly RingMember[],
  n: number,
  replication: Readonly<Record<string, number>> | undefined,
): (readonly string[])[] {
  if (replication !== undefined) return perDcLists(owners, members, replication);
  const q = owners.length;
  const byId = new Map<string, RingMember>();
  for (const m of members) byId.set(m.nodeId, m);
  const relevant = (m: RingMember): boolean => m.weight > 0;

  const owning = new Set(owners);
  const allRacks = new Set<string>();
  let eligibleCount = 0;
  for (const m of members) {
    if (!relevant(m)) continue;
    allRacks.add(rackKey(m));
    eligibleCount++;
  }
  const extra = members.filter((m) => relevant(m) && !owning.has(m.nodeId)); // already sorted

  const lists: (readonly string[])[] = [];
  for (let p = 0; p < q; p++) {
    const cands: RingMember[] = [];
    const seen = new Set<string>();
    const racksSeen = new Set<string>();
    for (let i = 0; i < q; i++) {
      const id = owners[(p + i) % q]!;
      if (seen.has(id)) continue;
      seen.add(id);
      const m = byId.get(id)!;
      if (!relevant(m)) continue;
      cands.push(m);
      racksSeen.add(rackKey(m));
      if (cands.length === eligibleCount) break;
      // Enough candidates for N, and every rack seen: the choice below cannot change.
      if (cands.length >= n && racksSeen.size === allRacks.size) break;
    }
    if (cands.length < eligibleCount) for (const m of extra) cands.push(m);
    const chosen = new Set<string>();
    choose(cands, n, chosen, true);
    lists.push(Object.freeze(cands.filter((m) => chosen.has(m.nodeId)).map((m) => m.nodeId)));
  }
  return lists;
}

/** Weighted rendezvous (highest random weight) score of `nodeId` for partition `p`. */
export function rendezvousScore(p: number, m: RingMember): number {
  const h = murmur3x86_32(utf8(`${p}:${m.nodeId}`), 0x9e3779b9) >>> 0;
  return -m.weight / Math.log((h + 0.5) / 4294967296);
}

function perDcLists(owners: readonly string[], members: readonly RingMember[], replication: Readonly<Record<string, number>>): (readonly string[])[] {
  const dcs = Object.entries(replication).filter(([, c]) => c > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const byDc = dcs.map(([dc, count]) => ({ count, ms: members.filter((m) => m.dc === dc && m.weight > 0) }));
  const lists: (readonly string[])[] = [];
  for (let p = 0; p < owners.length; p++) {
    const ordered: string[] = [];
    for (const { count, ms } of byDc) {
      const scored = ms.map((m) => ({ m, s: rendezvousScore(p, m) }));
      scored.sort((a, b) => b.s - a.s || (a.m.nodeId < b.m.nodeId ? -1 : 1));
      const cands = scored.map((x) => x.m);
      const chosen = new Set<string>();
      choose(cands, count, chosen, false);
      for (const m of cands) if (chosen.has(m.nodeId)) ordered.push(m.nodeId);
    }
    const owner = owners[p]!;
    const at = ordered.indexOf(owner);
    if (at > 0) ordered.unshift(...ordered.splice(at, 1));
    lists.push(Object.freeze(ordered));
  }
  return lists;
}

/** Passes a (optional), b, c of the rule above; adds up to k ids to `chosen`. */
function choose(cands: readonly RingMember[], k: number, chosen: Set<string>, dcPass: boolean): void {
  let taken = 0;
  const dcs = new Set<string>();
  const racks = new Set<string>();
  const take = (m: RingMember): void => {
    chosen.add(m.nodeId);
    dcs.add(m.dc);
    racks.add(rackKey(m));
    taken++;
  };
  if (dcPass) {
    for (const m of cands) {
      if (taken >= k) return;
      if (!dcs.has(m.dc)) take(m);
    }
  }
  for (const m of cands) {
    if (taken >= k) return;
    if (!chosen.has(m.nodeId) && !racks.has(rackKey(m))) take(m);
  }
  for (const m of cands) {
    if (taken >= k) return;
    if (!chosen.has(m.nodeId)) take(m);
  }
}
