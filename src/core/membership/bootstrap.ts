/**
 * How the first ring forms. Nodes started with empty data and the same seeds form it together:
 * once a node knows the facts (id, address, DC, rack, weight) of every seed, its members are
 * itself and the seeds, and every such node computes the same ring from the same facts.
 * Membership changes after that are staged by operators (join/leave, a later protocol).
 */
import type { ClusterMeta, MemberInfo } from './meta.js';
import { firstClusterMeta } from './meta.js';

export interface BootstrapConfig {
  readonly self: MemberInfo;
  /** Inter-node addresses of the nodes that form the first ring together (this node's may be among them). */
  readonly seeds: readonly string[];
  readonly partitions: number;
  readonly n: number;
  readonly replication?: Readonly<Record<string, number>>;
}

/** The first ring's metadata if every seed is known by now, else `undefined`. */
export function formFirstRing(cfg: BootstrapConfig, known: Iterable<MemberInfo>): ClusterMeta | undefined {
  const seedAddrs = new Set(cfg.seeds.filter((s) => s !== cfg.self.address));
  const peers = [...known];
  const knownAddrs = new Set(peers.map((p) => p.address));
  for (const s of seedAddrs) if (!knownAddrs.has(s)) return undefined;
  const members = peers.filter((p) => p.nodeId === cfg.self.nodeId || seedAddrs.has(p.address));
  return firstClusterMeta({ partitions: cfg.partitions, n: cfg.n, ...(cfg.replication ? { replication: cfg.replication } : {}) }, members);
}
