/**
 * A scripted cluster of core Nodes for scenario tests: no runtime, no timers. Messages wait in a
 * list until the test delivers them, so a test decides every interleaving and can drop any message.
 */
import { Node } from '../../src/core/node.js';
import type { NodeConfig } from '../../src/core/node.js';
import type { ClientReply, Message, Ready, StorePage, StorePageOptions, StoreReader } from '../../src/core/types.js';
import { pageFromScan } from '../../src/storage/scan-page.js';
import { createRing } from '../../src/core/ring/index.js';
import type { ClusterMeta } from '../../src/core/membership/index.js';
import { CLUSTER_META_KEY, encodeClusterMeta } from '../../src/core/membership/index.js';

/** A store holding `doc` as its cluster document, as if the node had formed or adopted it before. */
export function storeWithDocument(doc: ClusterMeta): MapStore {
  const store = new MapStore();
  store.data.set(Buffer.from(CLUSTER_META_KEY).toString('hex'), encodeClusterMeta(doc));
  return store;
}

/** Persists every Ready `node` has into `store`, hands each to `each` (messages, replies), then advances. */
export function drainReady(node: Node, store: MapStore, each: (rd: Ready) => void): void {
  while (node.hasReady()) {
    const rd = node.ready();
    store.apply(rd);
    each(rd);
    node.advance(rd);
  }
}

export class MapStore implements StoreReader {
  readonly data = new Map<string, Uint8Array>();
  get(key: Uint8Array): Uint8Array | undefined {
    return this.data.get(Buffer.from(key).toString('hex'));
  }
  /** Hex keeps the byte order, so sorted hex keys are the engine's order. */
  scanPage(o: StorePageOptions): StorePage {
    return pageFromScan((r) => {
      const lo = r.gte ? Buffer.from(r.gte).toString('hex') : undefined;
      const hi = r.lt ? Buffer.from(r.lt).toString('hex') : undefined;
      const keys = [...this.data.keys()].filter((k) => (lo === undefined || k >= lo) && (hi === undefined || k < hi)).sort();
      return keys.slice(0, r.limit ?? keys.length).map((k): [Uint8Array, Uint8Array] => [new Uint8Array(Buffer.from(k, 'hex')), this.data.get(k)!]);
    }, o);
  }
  apply(rd: Ready): void {
    for (const w of rd.writes) {
      const k = Buffer.from(w.key).toString('hex');
      if (w.value === null) this.data.delete(k);
      else this.data.set(k, w.value);
    }
  }
}

export interface InFlight {
  from: string;
  to: string;
  msg: Message;
}

export class Harness {
  readonly nodes = new Map<string, Node>();
  readonly stores = new Map<string, MapStore>();
  readonly inflight: InFlight[] = [];
  readonly replies = new Map<string, ClientReply>();
  private reqId = 1;
  private readonly reqNames = new Map<number, string>();

  private readonly ring;

  constructor(ids: string[], private readonly opts: Partial<NodeConfig> = {}) {
    this.ring = createRing(ids.map((nodeId, i) => ({ nodeId, dc: 'dc1', rack: `r${i}`, weight: 1 })), { partitionCount: 16, n: 3 });
    for (const id of ids) {
      const store = new MapStore();
      this.stores.set(id, store);
      this.nodes.set(id, this.makeNode(id, store, 0));
    }
  }

  private makeNode(id: string, store: MapStore, incarnation: number, extra: Partial<NodeConfig> = {}): Node {
    return new Node({
      nodeId: id, ring: this.ring, n: 3, tickMs: 10, requestTimeoutMs: 100, defaultR: 'quorum', defaultW: 'quorum',
      incarnation, ...this.opts, ...extra,
    }, store);
  }

  /**
   * The node's process restarts: same durable store (or, with `lostWrites`, a store that lost
   * what it held, as an unsynced commit log can), new incarnation, nothing in memory.
   */
  restart(id: string, incarnation: number, opts: { lostWrites?: boolean; actorId?: string } = {}): void {
    if (opts.lostWrites) this.stores.get(id)!.data.clear();
    this.nodes.set(id, this.makeNode(id, this.stores.get(id)!, incarnation, opts.actorId ? { actorId: opts.actorId } : {}));
  }

  /** Persists what every node has ready and returns the messages instead of queueing them. */
  flushCollect(): InFlight[] {
    const before = this.inflight.length;
    this.flush();
    return this.inflight.splice(before);
  }

  node(id: string): Node {
    return this.nodes.get(id)!;
  }

  /** Persists and releases everything every node has ready (as the runtime would). */
  flush(): void {
    for (const [id, node] of this.nodes) {
      drainReady(node, this.stores.get(id)!, (rd) => {
        for (const m of rd.messages) this.inflight.push({ from: id, to: m.to, msg: m.msg });
        for (const r of rd.replies) this.replies.set(this.reqNames.get(r.reqId)!, r.reply);
      });
    }
  }

  request(name: string, at: string, op: Parameters<Node['request']>[1]): void {
    const id = this.reqId++;
    this.reqNames.set(id, name);
    this.node(at).request(id, op);
    this.flush();
  }

  /** Delivers the in-flight messages that match (all by default), then flushes. */
  deliver(filter: (m: InFlight) => boolean = () => true): number {
    const picked = this.inflight.filter(filter);
    for (const m of picked) this.inflight.splice(this.inflight.indexOf(m), 1);
    for (const m of picked) this.node(m.to).step(m.from, m.msg);
    this.flush();
    return picked.length;
  }

  /** Delivers until nothing is in flight (bounded). */
  settle(filter: (m: InFlight) => boolean = () => true): void {
    for (let i = 0; i < 50 && this.inflight.some(filter); i++) this.deliver(filter);
  }

  drop(filter: (m: InFlight) => boolean): void {
    for (const m of this.inflight.filter(filter)) this.inflight.splice(this.inflight.indexOf(m), 1);
  }

  tick(times = 1): void {
    for (let i = 0; i < times; i++) for (const n of this.nodes.values()) n.tick(1000 + i);
    this.flush();
  }
}
