/**
 * Membership: which nodes form the ring, and the ring itself. Today it loads the stored cluster
 * metadata and forms the first ring from the seeds; gossip, the failure detector and staged
 * joins and leaves will live here too.
 *
 * The core decides and the Ready carries the decision: a ring formed here is written (keyspace
 * `meta`) in the Ready being built, so it is durable before anything sent after it; the runtime
 * only installs what the node reports (`Node.clusterMeta`).
 */
import { storageWrite } from '../keys.js';
import type { Effects } from '../ready.js';
import type { Ring } from '../ring/index.js';
import type { NodeId, StoreReader } from '../types.js';
import type { BootstrapConfig } from './bootstrap.js';
import { formFirstRing } from './bootstrap.js';
import type { ClusterMeta, MemberInfo } from './meta.js';
import { CLUSTER_META_KEY, decodeClusterMeta, encodeClusterMeta, ringOf } from './meta.js';

export type { BootstrapConfig } from './bootstrap.js';
export type { ClusterMeta, MemberInfo } from './meta.js';
export { CLUSTER_META_KEY, MetadataError, decodeClusterMeta, encodeClusterMeta } from './meta.js';

export class Membership {
  private readonly peers = new Map<NodeId, MemberInfo>();
  private meta: ClusterMeta | undefined;
  private ringInForce: Ring | undefined;

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
    this.tryForm();
  }

  /** A peer's facts, as a transport handshake reports them. */
  notePeer(peer: MemberInfo): void {
    this.peers.set(peer.nodeId, copy(peer));
    if (!this.ringInForce) this.tryForm();
  }

  private tryForm(): void {
    if (!this.bootstrap) return;
    const meta = formFirstRing(this.bootstrap, this.peers.values());
    if (!meta) return;
    const ring = ringOf(meta);
    this.meta = meta;
    this.ringInForce = ring;
    this.fx.write(storageWrite('meta', CLUSTER_META_KEY, encodeClusterMeta(meta)));
  }
}

function copy(m: MemberInfo): MemberInfo {
  return { nodeId: m.nodeId, address: m.address, dc: m.dc, rack: m.rack, weight: m.weight };
}
