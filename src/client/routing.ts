/**
 * Where to send a key's request: straight to a node of the key's preference list (Dynamo's
 * client-driven coordination), from a copy of the ring (`GET /ring`) and the members' HTTP
 * addresses (`GET /cluster`) that the client refreshes in the background. Nodes that just failed
 * are tried last for a while. Without a ring (not fetched yet, or members without HTTP
 * addresses) requests go round the configured endpoints.
 */
import { keyHash, partitionOf } from '../core/ring/hash.js';

export interface RingDoc {
  partitionCount: number;
  n: number;
  partitions: { id: number; preferenceList: string[] }[];
}

export interface ClusterDoc {
  members: { nodeId: string; http?: string; state?: string }[];
}

export class Routing {
  private lists: string[][] | undefined;
  private partitionCount = 0;
  private readonly httpOf = new Map<string, string>();
  private readonly downUntil = new Map<string, number>();
  private turn = 0;

  constructor(private readonly endpoints: readonly string[], private readonly downMs: number) {}

  get hasRing(): boolean {
    return this.lists !== undefined;
  }

  /** Installs a fetched ring; returns false (and keeps the old one) when it does not look like one. */
  install(ring: RingDoc, cluster: ClusterDoc): boolean {
    const q = ring.partitionCount;
    if (!Number.isInteger(q) || q < 1 || (q & (q - 1)) !== 0 || !Array.isArray(ring.partitions) || ring.partitions.length !== q) return false;
    const lists: string[][] = new Array<string[]>(q);
    for (const p of ring.partitions) {
      if (!Number.isInteger(p.id) || p.id < 0 || p.id >= q || !Array.isArray(p.preferenceList)) return false;
      lists[p.id] = p.preferenceList;
    }
    this.httpOf.clear();
    for (const m of cluster.members) if (typeof m.http === 'string' && m.http.length > 0) this.httpOf.set(m.nodeId, m.http);
    this.lists = lists;
    this.partitionCount = q;
    return true;
  }

  markDown(endpoint: string, nowMs: number): void {
    this.downUntil.set(endpoint, nowMs + this.downMs);
  }

  markUp(endpoint: string): void {
    this.downUntil.delete(endpoint);
  }

  /** Every endpoint worth trying for `key`, best first: its replicas, then the rest; nodes marked down last. */
  candidates(key: string | undefined, nowMs: number): string[] {
    const out: string[] = [];
    const add = (e: string | undefined): void => { if (e !== undefined && !out.includes(e)) out.push(e); };
    if (key !== undefined && this.lists) {
      const list = this.lists[partitionOf(keyHash(Buffer.from(key, 'utf8')), this.partitionCount)] ?? [];
      for (const id of list) add(this.httpOf.get(id));
    }
    const start = this.turn++ % Math.max(1, this.endpoints.length);
    for (let i = 0; i < this.endpoints.length; i++) add(this.endpoints[(start + i) % this.endpoints.length]);
    for (const e of this.httpOf.values()) add(e);
    const up = out.filter((e) => (this.downUntil.get(e) ?? 0) <= nowMs);
    return [...up, ...out.filter((e) => !up.includes(e))];
  }
}
