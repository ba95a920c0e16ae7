/**
 * SWIM's probes. A member whose heartbeat has stalled is pinged directly (`probe-ping`); if no
 * `probe-ack` comes within `probeTimeoutTicks`, `indirectProbes` other members are asked to ping
 * it for us (`probe-req`) and relay its ack; only if none arrives within `indirectTimeoutTicks`
 * does this node suspect it. So one bad link does not convict a healthy member, and a dead one
 * cannot hide behind heartbeats relayed by gossip: only the member itself can answer a probe.
 * A pinged node bumps its heartbeat before it answers, so an answered probe always brings news.
 */
import type { Effects } from '../ready.js';
import type { NodeId } from '../types.js';
import { GOSSIP_LIMITS } from './gossip-constants.js';
import type { GossipEntry } from './gossip-messages.js';

export interface ProbeSettings {
  readonly probeTimeoutTicks: number;
  readonly indirectTimeoutTicks: number;
  readonly indirectProbes: number;
  /** Test-only: false skips the indirect stage (suspect right after the direct probe). */
  readonly indirect: boolean;
}

export interface ProbeEnv {
  readonly fx: Effects;
  readonly settings: ProbeSettings;
  nextId(): number;
  /** Up to `k` members (not `target`, not this node) believed alive, chosen at random. */
  helpers(target: NodeId, k: number): NodeId[];
  /** This node's own entry, its heartbeat just bumped (what an ack carries). */
  bumpedSelf(): GossipEntry;
  /** The target answered (directly or through a helper) with this entry. */
  answered(target: NodeId, entry: GossipEntry): void;
  /** Neither the target nor any helper answered in time. */
  unanswered(target: NodeId, stage: 'direct' | 'indirect'): void;
}

interface Probe {
  readonly target: NodeId;
  readonly id: number;
  stage: 'direct' | 'indirect';
  deadlineTick: number;
}

interface Relay {
  readonly origin: NodeId;
  readonly originId: number;
  readonly target: NodeId;
  readonly deadlineTick: number;
}

export class ProbeEngine {
  private readonly byTarget = new Map<NodeId, Probe>();
  private readonly byId = new Map<number, Probe>();
  private readonly relays = new Map<number, Relay>();
  /** Probes sent, and how many of them ended unanswered (stats). */
  readonly counts = { probes: 0, indirect: 0, unanswered: 0 };

  constructor(private readonly env: ProbeEnv) {}

  probing(target: NodeId): boolean {
    return this.byTarget.has(target);
  }

  get inFlight(): number {
    return this.byTarget.size;
  }

  /** Pings `target` unless a probe of it is under way or too many are. */
  start(target: NodeId, now: number): void {
    if (this.byTarget.has(target) || this.byTarget.size >= GOSSIP_LIMITS.probesInFlightMax) return;
    const probe: Probe = { target, id: this.env.nextId(), stage: 'direct', deadlineTick: now + this.env.settings.probeTimeoutTicks };
    this.byTarget.set(target, probe);
    this.byId.set(probe.id, probe);
    this.counts.probes++;
    this.env.fx.send(target, { type: 'probe-ping', id: probe.id });
  }

  /** Forgets the probe of `target` (it was heard from some other way, or removed). */
  cancel(target: NodeId): void {
    const p = this.byTarget.get(target);
    if (!p) return;
    this.byTarget.delete(target);
    this.byId.delete(p.id);
  }

  tick(now: number): void {
    for (const p of [...this.byTarget.values()]) {
      if (now < p.deadlineTick) continue;
      const helpers = p.stage === 'direct' && this.env.settings.indirect ? this.env.helpers(p.target, this.env.settings.indirectProbes) : [];
      if (helpers.length > 0) {
        p.stage = 'indirect';
        p.deadlineTick = now + this.env.settings.indirectTimeoutTicks;
        this.counts.indirect++;
        for (const h of helpers) this.env.fx.send(h, { type: 'probe-req', id: p.id, target: p.target });
        continue;
      }
      this.cancel(p.target);
      this.counts.unanswered++;
      this.env.unanswered(p.target, p.stage);
    }
    for (const [id, r] of this.relays) if (now >= r.deadlineTick) this.relays.delete(id);
  }

  onPing(from: NodeId, id: number): void {
    this.env.fx.send(from, { type: 'probe-ack', id, entry: this.env.bumpedSelf() });
  }

  /** A helper's duty: ping `target` for `from`, and relay its ack (bounded; expires). */
  onReq(from: NodeId, id: number, target: NodeId, now: number): void {
    if (this.relays.size >= GOSSIP_LIMITS.relaysInFlightMax) return;
    const relayId = this.env.nextId();
    this.relays.set(relayId, { origin: from, originId: id, target, deadlineTick: now + this.env.settings.indirectTimeoutTicks });
    this.env.fx.send(target, { type: 'probe-ping', id: relayId });
  }

  onAck(from: NodeId, id: number, entry: GossipEntry): void {
    const relay = this.relays.get(id);
    if (relay) {
      this.relays.delete(id);
      if (from === relay.target && entry.id === relay.target) this.env.fx.send(relay.origin, { type: 'probe-ack', id: relay.originId, entry });
      return;
    }
    const p = this.byId.get(id);
    if (!p || entry.id !== p.target) return;
    this.cancel(p.target);
    this.env.answered(p.target, entry);
  }
}
