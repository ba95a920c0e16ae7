/**
 * A few core Nodes that formed a ring from their seeds, for the ring-admin tests: messages wait
 * in a list until the test delivers them, so a test decides every interleaving.
 */
import { Node } from '../../../src/core/node.js';
import type { AdminOp, AdminResult, NodeConfig } from '../../../src/core/node.js';
import type { ClusterMeta, MemberInfo } from '../../../src/core/membership/index.js';
import { encodeClusterMeta, firstClusterMeta } from '../../../src/core/membership/index.js';
import type { Message } from '../../../src/core/types.js';
import { drainReady, storeWithDocument } from '../harness.js';
import type { MapStore } from '../harness.js';

export const member = (i: number): MemberInfo => ({ nodeId: `n${i}`, address: `h${i}:7000`, dc: 'dc1', rack: `r${i}`, weight: 1 });

export interface Sent { from: string; to: string; msg: Message }

export class AdminCluster {
  readonly nodes = new Map<string, Node>();
  readonly stores = new Map<string, MapStore>();
  inflight: Sent[] = [];

  /** `members` form the first ring (Q, N as given); `outsiders` hold the document without being members. */
  constructor(members: number, outsiders = 0, settings: { partitions?: number; n?: number } = {}) {
    const seeds = Array.from({ length: members }, (_, i) => member(i).address);
    // Every node starts with the first ring's document on disk, as if the seeds had formed it.
    const first = firstClusterMeta({ partitions: settings.partitions ?? 64, n: settings.n ?? 3 }, Array.from({ length: members }, (_, i) => member(i)));
    for (let i = 0; i < members + outsiders; i++) {
      const store = storeWithDocument(first);
      const node = new Node(this.config(i, seeds, settings), store);
      this.nodes.set(`n${i}`, node);
      this.stores.set(`n${i}`, store);
      this.flush();
    }
    this.inflight = [];
  }

  private config(i: number, seeds: string[], s: { partitions?: number; n?: number }): NodeConfig {
    return {
      nodeId: `n${i}`, tickMs: 10, requestTimeoutMs: 100, defaultR: 'quorum', defaultW: 'quorum',
      bootstrap: { self: member(i), seeds, partitions: s.partitions ?? 64, n: s.n ?? 3 },
    };
  }

  node(id: string): Node {
    return this.nodes.get(id)!;
  }

  meta(id: string): ClusterMeta {
    return this.node(id).clusterMeta()!;
  }

  /** Persists what every node has ready; messages wait in `inflight`. */
  flush(): void {
    for (const [id, node] of this.nodes) {
      drainReady(node, this.stores.get(id)!, (rd) => { for (const m of rd.messages) this.inflight.push({ from: id, to: m.to, msg: m.msg }); });
    }
  }

  admin(id: string, op: AdminOp): AdminResult {
    const r = this.node(id).admin(op);
    this.flush();
    return r;
  }

  /** Delivers the messages that match (all by default) to the nodes that exist, then flushes. */
  deliver(filter: (m: Sent) => boolean = () => true): Sent[] {
    const picked = this.inflight.filter(filter);
    this.inflight = this.inflight.filter((m) => !picked.includes(m));
    for (const m of picked) this.nodes.get(m.to)?.step(m.from, m.msg);
    this.flush();
    return picked;
  }

  /** Hands `doc` to a node as a peer's push would. */
  push(to: string, doc: ClusterMeta): void {
    this.node(to).step('test', { type: 'ring-push', meta: encodeClusterMeta(doc) });
    this.flush();
  }
}
