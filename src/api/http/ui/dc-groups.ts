/** Members grouped by data centre, for `/cluster`, `gossamer status` and the dashboard. */
import type { MemberView } from '../../../runtime/service.js';

export interface DcGroup {
  dc: string;
  /** Replicas per key the cluster keeps in this DC (`replication`); null without per-DC replication. */
  replicas: number | null;
  /** The DC's members, by nodeId. */
  members: string[];
  /** How many of them this node believes alive. */
  alive: number;
}

/** One group per DC that has members, by DC name; members within a group by nodeId. */
export function groupByDc(members: readonly MemberView[], replication: Readonly<Record<string, number>> | undefined): DcGroup[] {
  const groups = new Map<string, DcGroup>();
  for (const m of members) {
    let g = groups.get(m.dc);
    if (!g) {
      g = { dc: m.dc, replicas: replication === undefined ? null : replication[m.dc] ?? 0, members: [], alive: 0 };
      groups.set(m.dc, g);
    }
    g.members.push(m.nodeId);
    if (m.state === 'alive') g.alive++;
  }
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const out = [...groups.values()].sort((a, b) => byName(a.dc, b.dc));
  for (const g of out) g.members.sort(byName);
  return out;
}
