/**
 * Preference lists: the replicas of a partition, in order.
 *
 * The rule (documented in docs/ring.md; it is part of the cluster's behaviour, keep it stable):
 *
 * 1. Candidates: walk the partitions clockwise from `p` (p, p+1, …, Q-1, 0, …) and list each
 *    owner the first time it appears; members that own no partition (possible only when there
 *    are more members than partitions, or a weight too small to round to one) follow, by nodeId.
 *    Members of weight 0 are never replicas. With per-DC `replication`, only candidates of the
 *    listed DCs count.
 * 2. Choose, scanning the candidates in walk order each time:
 *      a. (no per-DC replication) nodes of a DC not chosen yet,
 *      b. nodes of a rack (dc+rack) not chosen yet,
 *      c. any node not chosen yet,
 *    until N are chosen. With `replication`, each DC's candidates are chosen on their own with
 *    b and c until that DC's count is reached.
 * 3. The list is the chosen nodes in walk order. So the partition's owner comes first (unless
 *    its DC gets no replicas under `replication`), the list has distinct nodes, spans
 *    min(N, #DCs) DCs and min(N, #racks) racks, and has every member when there are fewer than N.
 */
import { rackKey } from './claim.js';
import type { RingMember } from './types.js';

export function computePreferenceLists(
  owners: readonly string[],
  members: readonly RingMember[],
  n: number,
  replication: Readonly<Record<string, number>> | undefined,
): (readonly string[])[] {
  const q = owners.length;
  const byId = new Map<string, RingMember>();
  for (const m of members) byId.set(m.nodeId, m);
  const relevant = (m: RingMember): boolean => m.weight > 0 && (replication === undefined || (replication[m.dc] ?? 0) > 0);

  const owning = new Set(owners);
  const allRacks = new Set<string>();
  const totalPerDc = new Map<string, number>();
  for (const m of members) {
    if (!relevant(m)) continue;
    allRacks.add(rackKey(m));
    totalPerDc.set(m.dc, (totalPerDc.get(m.dc) ?? 0) + 1);
  }
  const extra = members.filter((m) => relevant(m) && !owning.has(m.nodeId)); // already sorted
  const eligibleCount = [...totalPerDc.values()].reduce((a, b) => a + b, 0);

  // How many candidates we must have seen, per DC (replication) or overall, before we can stop.
  const needPerDc = new Map<string, number>();
  if (replication !== undefined) {
    for (const [dc, total] of totalPerDc) needPerDc.set(dc, Math.min(total, replication[dc] ?? 0));
  }

  const lists: (readonly string[])[] = [];
  for (let p = 0; p < q; p++) {
    const cands: RingMember[] = [];
    const seen = new Set<string>();
    const racksSeen = new Set<string>();
    const seenPerDc = new Map<string, number>();
    let dcsShort = needPerDc.size;
    for (const [, need] of needPerDc) if (need === 0) dcsShort--;
    for (let i = 0; i < q; i++) {
      const id = owners[(p + i) % q]!;
      if (seen.has(id)) continue;
      seen.add(id);
      const m = byId.get(id)!;
      if (!relevant(m)) continue;
      cands.push(m);
      racksSeen.add(rackKey(m));
      if (replication !== undefined) {
        const c = (seenPerDc.get(m.dc) ?? 0) + 1;
        seenPerDc.set(m.dc, c);
        if (c === needPerDc.get(m.dc)) dcsShort--;
      }
      if (cands.length === eligibleCount) break;
      const enough = replication === undefined ? cands.length >= n : dcsShort === 0;
      if (enough && racksSeen.size === allRacks.size) break;
    }
    if (cands.length < eligibleCount) for (const m of extra) cands.push(m);

    const chosen = new Set<string>();
    if (replication === undefined) {
      choose(cands, n, chosen, true);
    } else {
      for (const [dc, count] of Object.entries(replication).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        choose(cands.filter((m) => m.dc === dc), count, chosen, false);
      }
    }
    lists.push(Object.freeze(cands.filter((m) => chosen.has(m.nodeId)).map((m) => m.nodeId)));
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
