/**
 * Membership: which nodes form the ring, and the ring itself. It loads the stored cluster
 * metadata, forms the first ring from the seeds, and installs every newer document of its
 * cluster (`install`, as gossip brings them; `propose`, as an operator's change makes them).
 *
 * The core decides and the Ready carries the decision: a ring formed here is written (keyspace
 * `meta`) in the Ready being built, so it is durable before anything sent after it; the runtime
 * only installs what the node reports (`Node.clusterMeta`).
 */
import { assert } from '../errors.js';
import { storageWrite } from '../keys.js';
import type { Effects } from '../ready.js';
import type { Ring } from '../ring/index.js';
import type { NodeId, StoreReader } from '../types.js';
import type { BootstrapConfig, SeedAnswer } from './bootstrap.js';
import { formFirstRing, formsAlone } from './bootstrap.js';
import type { ClusterMeta, MemberInfo } from './meta.js';
import { CLUSTER_META_KEY, decodeClusterMeta, encodeClusterMeta, ringOf, supersedes } from './meta.js';

export type { BootstrapConfig, SeedAnswer } from './bootstrap.js';
export type { ClusterMeta, MemberInfo, StagedChange, TransitionMeta } from './meta.js';
export {
  CLUSTER_META_KEY, MetadataError, decodeClusterMeta, encodeClusterMeta, firstClusterMeta, metaDigest, nextRingOf, ringOf,
  supersedes,
} from './meta.js';

/** Called after a new document is installed (its writes are in the Ready being built). */
export type MetaListener = (next: ClusterMeta, prev: ClusterMeta | undefined) => void;

export class Membership {
  private readonly peers = new Map<NodeId, MemberInfo>();
  private meta: ClusterMeta | undefined;
  private ringInForce: Ring | undefined;
  private readonly listeners: MetaListener[] = [];
  private readonly proposeListeners: MetaListener[] = [];

  constructor(private readonly fx: Effects, private readonly bootstrap: BootstrapConfig | undefined) {
    if (bootstrap) this.peers.set(bootstrap.self.nodeId, copy(bootstrap.self));
  }

  get ring(): Ring | undefined {
    return this.ringInForce;
  }

  get clusterMeta(): ClusterMeta | undefined {
    return this.meta;
  }

  /** A ring given from outside (tests, or an operator's change applied by a later protocol). */
  setRing(ring: Ring): void {
    this.ringInForce = ring;
  }

  /**
   * Loads the stored metadata if there is some (throws `MetadataError` when it is unusable);
   * otherwise tries to form the first ring from what is known so far.
   */
  start(store: StoreReader): void {
    const stored = store.get(CLUSTER_META_KEY);
    if (stored !== undefined) {
      const { meta, ring } = decodeClusterMeta(stored);
      this.meta = meta;
      this.ringInForce = ring;
      return;
    }
    // A cluster of one forms at once; with seeds, gossip's answers decide (`tryForm`).
    if (this.bootstrap && formsAlone(this.bootstrap)) this.tryForm([]);
  }

  /** A peer's facts, as a transport handshake reports them (forming the ring is gossip's call). */
  notePeer(peer: MemberInfo): void {
    this.peers.set(peer.nodeId, copy(peer));
  }

  /** The bootstrap settings (seeds, Q, N) this node was started with, if any. */
  get bootstrapConfig(): BootstrapConfig | undefined {
    return this.bootstrap;
  }

  /** The facts of a node this one has met (itself included), by id. */
  knownPeer(nodeId: NodeId): MemberInfo | undefined {
    return this.peers.get(nodeId);
  }

  /** Every node this one has met, itself included. */
  knownPeers(): MemberInfo[] {
    return [...this.peers.values()];
  }

  /** Runs `fn` after every document installed from now on. */
  onChange(fn: MetaListener): void {
    this.listeners.push(fn);
  }

  /**
   * Installs `next` (made durable through the Ready being built) if it belongs to this node's
   * cluster (or the node has none yet) and supersedes the document in force. Returns whether it
   * did. Throws `RingError` for a document no ring can be made of (the caller drops it).
   */
  install(next: ClusterMeta): boolean {
    const prev = this.meta;
    if (prev && (prev.clusterId !== next.clusterId || !supersedes(next, prev))) return false;
    const ring = ringOf(next);
    this.meta = next;
    this.ringInForce = ring;
    this.fx.write(storageWrite('meta', CLUSTER_META_KEY, encodeClusterMeta(next)));
    for (const fn of this.listeners) fn(next, prev);
    return true;
  }

  /** Makes the next version from the document in force (an operator's change) and installs it. */
  propose(change: (current: ClusterMeta) => Omit<ClusterMeta, 'version'>): ClusterMeta {
    const current = this.meta;
    assert(current, 'no cluster metadata to change yet');
    const next: ClusterMeta = { ...change(current), version: current.version + 1 };
    if (this.install(next)) for (const fn of this.proposeListeners) fn(next, current);
    return next;
  }

  /**
   * Forms the first ring if this node has none, is one of its seeds, and every other seed
   * answered gossip without a document (see bootstrap.ts). Returns whether it did.
   */
  tryForm(answers: Iterable<SeedAnswer>): boolean {
    if (!this.bootstrap || this.meta) return false;
    const meta = formFirstRing(this.bootstrap, answers);
    return meta ? this.install(meta) : false;
  }

  /** Runs `fn` after every document this node makes (`propose`), after the `onChange` listeners: ring-admin pushes it. */
  onPropose(fn: MetaListener): void {
    this.proposeListeners.push(fn);
  }
}

function copy(m: MemberInfo): MemberInfo {
  return { nodeId: m.nodeId, address: m.address, dc: m.dc, rack: m.rack, weight: m.weight };
}
