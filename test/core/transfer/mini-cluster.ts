/**
 * Core Nodes that form their first ring from bootstrap facts (so they hold a versioned cluster
 * document), with a message queue the test drives: deliver, drop, tick, restart.
 */
import { Node } from '../../../src/core/node.js';
import type { NodeConfig } from '../../../src/core/node.js';
import type { ClusterMeta, MemberInfo } from '../../../src/core/membership/index.js';
import { firstClusterMeta, ringOf } from '../../../src/core/membership/index.js';
import { rebalance } from '../../../src/core/ring/index.js';
import type { ClientReply, Message } from '../../../src/core/types.js';
import type { TransferOptions } from '../../../src/core/transfer/index.js';
import { MapStore, drainReady, storeWithDocument } from '../harness.js';

export interface Sent { from: string; to: string; msg: Message }

export class MiniCluster {
  readonly nodes = new Map<string, Node>();
  readonly stores = new Map<string, MapStore>();
  readonly queue: Sent[] = [];
  readonly replies = new Map<number, ClientReply>();
  readonly infos: MemberInfo[];
  private reqId = 1;
  private nowMs = 1_000;
  private incarnation = 1;

  constructor(readonly ids: string[], readonly founders: string[], private readonly transfer: Partial<TransferOptions>) {
    this.infos = ids.map((nodeId, i) => ({ nodeId, address: `a:${i}`, dc: 'dc1', rack: `r${i}`, weight: 1 }));
    // The founders start with the first ring's document on disk, as if gossip had formed it.
    const first = firstClusterMeta({ partitions: 16, n: 3 }, this.infos.filter((m) => founders.includes(m.nodeId)));
    for (const id of ids) {
      const store = founders.includes(id) ? storeWithDocument(first) : new MapStore();
      this.stores.set(id, store);
      this.boot(id);
    }
    this.flush();
  }

  private boot(id: string): void {
    const self = this.infos.find((m) => m.nodeId === id)!;
    const founder = this.founders.includes(id);
    const seeds = founder ? this.founders.map((f) => this.infos.find((m) => m.nodeId === f)!.address) : ['a:nowhere'];
    const cfg: NodeConfig = {
      nodeId: id, tickMs: 10, requestTimeoutMs: 200, defaultR: 'quorum', defaultW: 'quorum', incarnation: this.incarnation++,
      bootstrap: { self, seeds, partitions: 16, n: 3 }, transfer: this.transfer,
    };
    const node = new Node(cfg, this.stores.get(id)!);
    if (founder) for (const m of this.infos) if (this.founders.includes(m.nodeId)) node.notePeer(m);
    this.nodes.set(id, node);
  }

  node(id: string): Node {
    return this.nodes.get(id)!;
  }

  /** The node's process restarts on the same store, with nothing in memory. */
  restart(id: string): void {
    this.flush();
    this.queue.splice(0, this.queue.length, ...this.queue.filter((m) => m.to !== id && m.from !== id));
    this.boot(id);
  }

  /** Persists every node's Ready (writes first) and queues its messages. */
  flush(): void {
    for (const [id, node] of this.nodes) {
      drainReady(node, this.stores.get(id)!, (rd) => {
        for (const m of rd.messages) this.queue.push({ from: id, to: m.to, msg: m.msg });
        for (const r of rd.replies) this.replies.set(r.reqId, r.reply);
      });
    }
  }

  /** Delivers queued messages (those `keep` accepts; the rest are dropped) until none is left. */
  deliverAll(keep: (m: Sent) => boolean = () => true, stepsMax = 10_000): void {
    for (let i = 0; i < stepsMax && this.queue.length > 0; i++) {
      const m = this.queue.shift()!;
      const to = this.nodes.get(m.to);
      if (to && keep(m)) to.step(m.from, m.msg);
      this.flush();
    }
  }

  /** `n` ticks at every node, delivering what they send after each. */
  tick(n: number, keep?: (m: Sent) => boolean, only?: string[]): void {
    for (let i = 0; i < n; i++) {
      this.nowMs += 10;
      for (const [id, node] of this.nodes) if (node.hasRing() && (!only || only.includes(id))) node.tick(this.nowMs);
      this.flush();
      this.deliverAll(keep);
    }
  }

  put(at: string, key: string, value: string): number {
    const id = this.reqId++;
    this.node(at).request(id, { op: 'put', key, value: new TextEncoder().encode(value), w: 2 });
    this.flush();
    return id;
  }

  /** The committed document of a change to `members`, installed at `at` (as a commit would). */
  commit(at: string, members: string[], removed: string[] = []): ClusterMeta {
    const meta = this.node(at).clusterMeta()!;
    const infos = this.infos.filter((m) => members.includes(m.nodeId));
    const next = rebalance(ringOf(meta), infos.map((m) => ({ nodeId: m.nodeId, dc: m.dc, rack: m.rack, weight: m.weight })));
    const doc: ClusterMeta = {
      ...meta, version: meta.version + 1,
      transition: { members: infos, owners: next.owners, done: [], ...(removed.length > 0 ? { removed } : {}) },
    };
    this.node(at).installClusterMeta(doc);
    this.flush();
    return doc;
  }
}
