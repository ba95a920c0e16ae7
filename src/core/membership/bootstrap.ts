/**
 * How the first ring forms. A node forms it only when its own address is among its seeds (or it
 * has no seeds at all: a cluster of one), every other seed has answered its gossip, and none of
 * them has a cluster document yet (all fresh). Its members are then itself and the seeds, and
 * every such node computes the same version-1 document from the same facts. A node not listed in
 * its seeds, or one that heard of a document, never forms a ring: it adopts the cluster's.
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

/** What gossip heard from a node: its facts and whether it has a cluster document. */
export interface SeedAnswer {
  readonly member: MemberInfo;
  readonly hasDoc: boolean;
}

/** Whether this node may form the first ring at all (it is a seed, or there are none). */
export function mayForm(cfg: BootstrapConfig): boolean {
  return cfg.seeds.length === 0 || cfg.seeds.includes(cfg.self.address);
}

/** Whether this node forms alone, at once: no seeds, or only itself. */
export function formsAlone(cfg: BootstrapConfig): boolean {
  return cfg.seeds.every((s) => s === cfg.self.address);
}

/** The first ring's metadata if this node may form it and every seed answered fresh, else `undefined`. */
export function formFirstRing(cfg: BootstrapConfig, answers: Iterable<SeedAnswer>): ClusterMeta | undefined {
  if (!mayForm(cfg)) return undefined;
  const byAddress = new Map<string, SeedAnswer>();
  for (const a of answers) if (a.member.nodeId !== cfg.self.nodeId) byAddress.set(a.member.address, a);
  const members = new Map<string, MemberInfo>([[cfg.self.nodeId, cfg.self]]);
  for (const s of new Set(cfg.seeds)) {
    if (s === cfg.self.address) continue;
    const a = byAddress.get(s);
    if (!a || a.hasDoc) return undefined;
    members.set(a.member.nodeId, a.member);
  }
  return firstClusterMeta({ partitions: cfg.partitions, n: cfg.n, ...(cfg.replication ? { replication: cfg.replication } : {}) }, [...members.values()]);
}
