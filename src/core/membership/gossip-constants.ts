/**
 * Bounds and default timings of membership gossip and failure detection. Timings are in
 * milliseconds here and counted in ticks by the protocol (`ticksOf`); every bound is named with
 * its unit and the bound last.
 */
export const GOSSIP_LIMITS = {
  /** Digests one `gossip-syn` carries (every member of the largest ring, so one heartbeat is never held back). */
  digestsPerMessageMax: 4096,
  /** Full entries one `gossip-ack` / `gossip-ack2` carries; the rest follow in later rounds (round-robin). */
  entriesPerMessageMax: 512,
  /** Ids a `gossip-ack` asks for. */
  wantsPerMessageMax: 4096,
  /** Suspecters an entry carries (two convict; a few more tolerate one that restarts). */
  suspectersMax: 4,
  /** Members a node keeps in its gossip table (ring members and nodes that only gossip). */
  membersMax: 4096,
  /** Probes this node runs at once (direct or indirect). */
  probesInFlightMax: 64,
  /** Indirect probes this node relays for others at once. */
  relaysInFlightMax: 256,
  /** Longest node id, address, cluster id or digest a message may carry. */
  stringCharsMax: 256,
} as const;

/** How gossip and the failure detector behave; `defaultGossipSettings` derives them from the interval. */
export interface GossipSettings {
  /** A round (own heartbeat +1, push-pull with `fanout` peers) every this many ms. */
  readonly intervalMs: number;
  /** Peers per round. */
  readonly fanout: number;
  /** A member whose heartbeat has not advanced this long is probed. */
  readonly probeAfterMs: number;
  /** Wait for a direct `probe-ack` before asking others. */
  readonly probeTimeoutMs: number;
  /** Wait for an ack relayed by the helpers before suspecting. */
  readonly indirectTimeoutMs: number;
  /** Helpers asked to probe for us (SWIM's k). */
  readonly indirectProbes: number;
  /** Suspecters that make a member faulty. */
  readonly convictAt: number;
  /** A suspicion this old makes the member faulty even with one suspecter. */
  readonly faultyAfterMs: number;
  /** Peers a fresh suspicion is pushed to at once (beside the regular rounds). */
  readonly suspicionFanout: number;
  /** Test-only: `false` disables indirect probes (a build broken on purpose). */
  readonly indirect: boolean;
}

export const GOSSIP_INTERVAL_MS_DEFAULT = 1000;

export function defaultGossipSettings(intervalMs: number = GOSSIP_INTERVAL_MS_DEFAULT): GossipSettings {
  return {
    intervalMs,
    fanout: 1,
    probeAfterMs: Math.round(intervalMs * 1.2),
    probeTimeoutMs: Math.max(1, Math.round(intervalMs * 0.2)),
    indirectTimeoutMs: Math.max(1, Math.round(intervalMs * 0.4)),
    indirectProbes: 3,
    convictAt: 2,
    faultyAfterMs: intervalMs * 4,
    suspicionFanout: 3,
    indirect: true,
  };
}
