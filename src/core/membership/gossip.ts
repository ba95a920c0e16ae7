/**
 * Membership gossip and failure detection, as a pure state machine driven by the node's ticks
 * and messages (see docs/membership.md, "Gossip" and "Failure detection").
 *
 * Every `intervalTicks` this node bumps its own heartbeat and runs a push-pull round with
 * `fanout` random peers (now and then a seed, or a member believed down, as Cassandra does);
 * messages carry the cluster document's summary, and the side whose document wins sends it, so
 * every node of a cluster converges on one document and a fresh node adopts it. Nodes whose
 * documents name different clusters refuse each other. A member whose heartbeat stalls is probed
 * (probes.ts) before this node suspects it; suspicion spreads with the entry, and the table
 * (member-table.ts) convicts. `isAlive` is the core's `FailureDetector`: faulty members leave the
 * routing, and keep their partitions.
 */
import { mulberry32 } from '../ring/classic.js';
import type { Effects } from '../ready.js';
import type { NodeId } from '../types.js';
import type { FailureDetector } from '../handoff/detector.js';
import type { Membership } from './index.js';
import type { ClusterMeta, MemberInfo } from './meta.js';
import { decodeClusterMeta, encodeClusterMeta, metaDigest } from './meta.js';
import type { GossipSettings } from './gossip-constants.js';
import { GOSSIP_LIMITS } from './gossip-constants.js';
import type { DocSummary, GossipDigest, GossipEntry, GossipMessage } from './gossip-messages.js';
import type { MemberRecord, MemberStatus, StatusChange } from './member-table.js';
import { MemberTable, hasNews } from './member-table.js';
import { ProbeEngine } from './probes.js';
import { EventQueue, summaryWins } from './gossip-events.js';
import type { GossipStats, MemberSnapshot, MembershipEvent } from './gossip-events.js';

export interface GossipEnv {
  readonly self: MemberInfo & { readonly http?: string };
  readonly fx: Effects;
  readonly time: { readonly tick: number };
  readonly tickMs: number;
  readonly membership: Membership;
  readonly settings: GossipSettings;
  /** New and larger at every start of the node (the start's wall-clock ms; virtual time in the simulator). */
  readonly generation: number;
  readonly seed: number;
  nextId(): number;
}

const ticks = (ms: number, tickMs: number): number => Math.max(1, Math.round(ms / tickMs));

export class GossipProtocol implements FailureDetector {
  private readonly table: MemberTable;
  private readonly probes: ProbeEngine;
  private readonly rng: () => number;
  private readonly events = new EventQueue();
  private readonly t: { interval: number; probeAfter: number; check: number; bootstrap: number };
  private heartbeat = 0;
  private docOf: { meta: ClusterMeta; summary: DocSummary } | undefined;
  /** Peers met by handshake (id → facts): seeds among them are contacted before gossip knows them. */
  private readonly handshakes = new Map<NodeId, MemberInfo>();
  /** Peers of another cluster, with the cluster id they named. */
  private readonly refused = new Map<NodeId, string>();
  private offset = 0;
  readonly counts = { rounds: 0, refusedMessages: 0, docsInstalled: 0, badDocs: 0 };

  constructor(private readonly env: GossipEnv) {
    const s = env.settings;
    this.t = {
      interval: ticks(s.intervalMs, env.tickMs), probeAfter: ticks(s.probeAfterMs, env.tickMs),
      check: ticks(s.probeTimeoutMs / 2, env.tickMs), bootstrap: ticks(Math.min(s.intervalMs, 200), env.tickMs),
    };
    this.rng = mulberry32((env.seed ^ 0x5bd1e995) >>> 0);
    this.table = new MemberTable(
      { self: env.self.nodeId, convictAt: s.convictAt, faultyAfterTicks: ticks(s.faultyAfterMs, env.tickMs) },
      (c) => this.changed(c),
    );
    this.probes = new ProbeEngine({
      fx: env.fx, nextId: env.nextId,
      settings: {
        probeTimeoutTicks: ticks(s.probeTimeoutMs, env.tickMs), indirectTimeoutTicks: ticks(s.indirectTimeoutMs, env.tickMs),
        indirectProbes: s.indirectProbes, indirect: s.indirect,
      },
      helpers: (target, k) => this.pick(this.livePeers().filter((id) => id !== target), k),
      bumpedSelf: () => { this.heartbeat++; return this.selfEntry(); },
      answered: (target, entry) => { this.mergeEntries([entry]); this.table.heard(target, this.now); },
      unanswered: (target, stage) => this.suspectLocally(target, stage),
    });
    env.membership.onChange((next, prev) => this.docChanged(next, prev));
  }

  /** Called once the membership has loaded (or formed) its document. */
  start(): void {
    const meta = this.env.membership.clusterMeta;
    if (meta) this.docChanged(meta, undefined);
  }

  private get now(): number {
    return this.env.time.tick;
  }

  isAlive(id: NodeId): boolean {
    return id === this.env.self.nodeId || this.table.get(id)?.status !== 'faulty';
  }

  /** Whether messages from `from` are refused (it belongs to another cluster). */
  refuses(from: NodeId): boolean {
    if (!this.refused.has(from)) return false;
    this.counts.refusedMessages++;
    return true;
  }

  /** A peer's facts from a transport handshake: a fresh node asks it for news at once. */
  notePeer(peer: MemberInfo): void {
    if (peer.nodeId === this.env.self.nodeId) return;
    this.handshakes.set(peer.nodeId, peer);
    if (!this.docOf && !this.refused.has(peer.nodeId)) this.sendSyn(peer.nodeId);
  }

  tick(): void {
    const now = this.now;
    if (now % this.t.interval === this.phase) this.round();
    else if (!this.docOf && now % this.t.bootstrap === 0) this.bootstrapRound();
    this.table.tick(now);
    this.probes.tick(now);
    if (now % this.t.check === 0) this.startProbes(now);
  }

  private get phase(): number {
    return this.env.seed % this.t.interval;
  }

  step(from: NodeId, msg: GossipMessage): void {
    switch (msg.type) {
      case 'gossip-syn': return this.onSyn(from, msg);
      case 'gossip-ack': return this.onAck(from, msg);
      case 'gossip-ack2':
        if (!this.accept(from, msg.doc)) return;
        this.mergeEntries(msg.entries);
        if (msg.meta) this.installBytes(msg.meta);
        return;
      case 'probe-ping': if (!this.refused.has(from)) this.probes.onPing(from, msg.id); return;
      case 'probe-req': if (!this.refused.has(from)) this.probes.onReq(from, msg.id, msg.target, this.now); return;
      case 'probe-ack': if (!this.refused.has(from)) this.probes.onAck(from, msg.id, msg.entry); return;
    }
  }

  // --- rounds -------------------------------------------------------------------------------

  private round(): void {
    this.heartbeat++;
    this.counts.rounds++;
    const live = this.livePeers();
    const targets = new Set(this.pick(live, this.env.settings.fanout));
    const seeds = this.seedPeers();
    if (targets.size === 0 || this.rng() % (live.length + 1) === 0) for (const s of this.pick(seeds, 1)) targets.add(s);
    const down = [...this.table.records.values()].filter((r) => r.status !== 'alive' && this.reachable(r)).map((r) => r.entry.id);
    if (down.length > 0 && this.rng() % (live.length + 1) < down.length) for (const d of this.pick(down, 1)) targets.add(d);
    if (!this.docOf) for (const s of seeds) targets.add(s);
    for (const t of targets) this.sendSyn(t);
  }

  /** Without a document, the seeds are asked again and again (not only once a round). */
  private bootstrapRound(): void {
    for (const s of this.seedPeers()) this.sendSyn(s);
  }

  private sendSyn(to: NodeId): void {
    const all = [this.selfEntry(), ...[...this.table.records.values()].map((r) => r.entry)];
    const digests = this.window(all, GOSSIP_LIMITS.digestsPerMessageMax).map(digestOf);
    this.env.fx.send(to, { type: 'gossip-syn', id: this.env.nextId(), doc: this.summary, digests, complete: digests.length === all.length });
  }

  /** Up to `max` of `items`, starting at a rotating offset (the rest go in later messages). */
  private window<T>(items: readonly T[], max: number): T[] {
    if (items.length <= max) return [...items];
    const start = this.offset++ % items.length;
    return [...items.slice(start), ...items.slice(0, start)].slice(0, max);
  }

  // --- push-pull -----------------------------------------------------------------------------

  private onSyn(from: NodeId, msg: Extract<GossipMessage, { type: 'gossip-syn' }>): void {
    const { doc, digests, complete } = msg;
    const known = this.refused.get(from);
    if (!this.accept(from, doc)) {
      // Refused now for the first time: say which cluster this is, so the peer refuses us too.
      if (known !== doc?.clusterId) this.env.fx.send(from, { type: 'gossip-ack', id: msg.id, doc: this.summary, meta: null, wantDoc: false, entries: [], wants: [] });
      return;
    }
    const entries: GossipEntry[] = [];
    const wants: string[] = [];
    const mentioned = new Set<string>();
    for (const d of digests) {
      mentioned.add(d.id);
      const mine = this.entryOf(d.id);
      if (!mine || hasNews(d, mine)) wants.push(d.id);
      if (mine && hasNews(mine, d)) entries.push(mine);
      if (d.id === this.env.self.nodeId) this.refute(d);
    }
    if (complete) {
      for (const e of [this.selfEntry(), ...[...this.table.records.values()].map((r) => r.entry)]) if (!mentioned.has(e.id)) entries.push(e);
    }
    const mine = this.summary;
    const meta = mine && (!doc || summaryWins(mine, doc)) ? encodeClusterMeta(this.docOf!.meta) : null;
    const wantDoc = doc !== null && (!mine || summaryWins(doc, mine));
    this.env.fx.send(from, {
      type: 'gossip-ack', id: msg.id, doc: mine, meta, wantDoc,
      entries: this.window(entries, GOSSIP_LIMITS.entriesPerMessageMax), wants: wants.slice(0, GOSSIP_LIMITS.wantsPerMessageMax),
    });
  }

  private onAck(from: NodeId, msg: Extract<GossipMessage, { type: 'gossip-ack' }>): void {
    if (!this.accept(from, msg.doc)) return;
    this.mergeEntries(msg.entries);
    if (msg.meta) this.installBytes(msg.meta);
    const entries: GossipEntry[] = [];
    for (const id of msg.wants) {
      const e = this.entryOf(id);
      if (e) entries.push(e);
    }
    const send = msg.wantDoc && this.docOf ? encodeClusterMeta(this.docOf.meta) : null;
    if (entries.length === 0 && !send) return;
    this.env.fx.send(from, { type: 'gossip-ack2', id: msg.id, doc: this.summary, meta: send, entries: this.window(entries, GOSSIP_LIMITS.entriesPerMessageMax) });
  }

  /** Whether to take a message that names `doc`: a peer of another cluster is refused (logged once). */
  private accept(from: NodeId, doc: DocSummary | null): boolean {
    const mine = this.summary;
    if (mine && doc && mine.clusterId !== doc.clusterId) {
      this.counts.refusedMessages++;
      if (this.refused.get(from) !== doc.clusterId) {
        this.refused.set(from, doc.clusterId);
        const address = this.table.get(from)?.entry.address ?? this.handshakes.get(from)?.address ?? '';
        this.events.push({ kind: 'refused', nodeId: from, address, theirs: doc.clusterId, ours: mine.clusterId });
      }
      return false;
    }
    this.refused.delete(from);
    return true;
  }

  private mergeEntries(entries: readonly GossipEntry[]): void {
    const mine = this.summary;
    const now = this.now;
    for (const e of entries) {
      if (e.id === this.env.self.nodeId) {
        this.refute(e);
        continue;
      }
      if (mine && e.doc && e.doc.clusterId !== mine.clusterId) continue;
      const before = this.table.get(e.id)?.entry;
      const result = this.table.merge(e, now);
      if (result === 'stale' || result === 'merged') continue;
      this.probes.cancel(e.id);
      const rec = this.table.get(e.id)!;
      // Relayed news that already carries a suspicion is no proof of life: check for ourselves.
      if (e.sus.length > 0) rec.advancedTick = now - this.t.probeAfter;
      if (!before || before.address !== e.address || before.http !== e.http) this.events.push({ kind: 'learned', member: factsOf(rec.entry) });
    }
    if (!this.docOf) this.tryForm();
  }

  /** Someone suspects this node at its current beat: a newer heartbeat refutes it. */
  private refute(d: GossipDigest): void {
    if (d.gen === this.env.generation && d.hb >= this.heartbeat && d.sus.length > 0) this.heartbeat = d.hb + 1;
  }

  private installBytes(bytes: Uint8Array): void {
    let meta: ClusterMeta;
    try {
      meta = decodeClusterMeta(bytes).meta;
      if (this.env.membership.install(meta)) this.counts.docsInstalled++;
    } catch {
      this.counts.badDocs++; // a document no ring can be made of: dropped
    }
  }

  private tryForm(): void {
    const answers = [...this.table.records.values()].filter((r) => r.entry.gen > 0)
      .map((r) => ({ member: factsOf(r.entry), hasDoc: r.entry.doc !== null }));
    try {
      this.env.membership.tryForm(answers);
    } catch {
      this.counts.badDocs++; // settings no ring can have: the runtime reports it when it forms alone
    }
  }

  // --- the document ---------------------------------------------------------------------------

  private docChanged(next: ClusterMeta, prev: ClusterMeta | undefined): void {
    this.docOf = { meta: next, summary: { clusterId: next.clusterId, version: next.version, digest: metaDigest(next) } };
    this.heartbeat++; // the new summary travels with a newer beat
    const now = this.now;
    const inDoc = new Set<string>();
    for (const m of [...next.members, ...(next.transition?.members ?? [])]) {
      inDoc.add(m.nodeId);
      if (m.nodeId === this.env.self.nodeId) continue;
      const rec = this.table.addUnheard({ id: m.nodeId, gen: 0, hb: 0, sus: [], address: m.address, http: null, dc: m.dc, rack: m.rack, weight: m.weight, doc: null }, now);
      if (rec) this.events.push({ kind: 'learned', member: factsOf(rec.entry) });
    }
    for (const m of [...(prev?.members ?? []), ...(prev?.transition?.members ?? [])]) {
      if (inDoc.has(m.nodeId) || m.nodeId === this.env.self.nodeId) continue;
      this.probes.cancel(m.nodeId);
      this.table.remove(m.nodeId);
      this.events.push({ kind: 'removed', nodeId: m.nodeId });
    }
  }

  private get summary(): DocSummary | null {
    return this.docOf?.summary ?? null;
  }

  // --- failure detection ------------------------------------------------------------------------

  private startProbes(now: number): void {
    const self = this.env.self.nodeId;
    for (const rec of this.table.records.values()) {
      if (rec.status === 'faulty' || rec.entry.sus.includes(self) || !this.reachable(rec)) continue;
      if (now - rec.advancedTick >= this.t.probeAfter) this.probes.start(rec.entry.id, now);
    }
  }

  private suspectLocally(target: NodeId, stage: 'direct' | 'indirect'): void {
    const rec = this.table.get(target);
    if (!rec) return;
    const why = stage === 'indirect' ? 'probes unanswered' : 'probe unanswered, no helper to ask';
    this.table.suspect(target, this.env.self.nodeId, this.now, why);
    // A fresh suspicion is pushed at once, so a second suspecter can confirm it quickly.
    for (const p of this.pick(this.livePeers().filter((id) => id !== target), this.env.settings.suspicionFanout)) this.sendSyn(p);
  }

  private changed(c: StatusChange): void {
    this.events.count(c.to);
    this.events.push({ kind: 'transition', ...c, silentMs: c.silentTicks * this.env.tickMs });
  }

  // --- peers ------------------------------------------------------------------------------------

  private reachable(rec: MemberRecord): boolean {
    return !this.refused.has(rec.entry.id);
  }

  /** Members believed alive (heard of, not refused), this node excluded. */
  private livePeers(): NodeId[] {
    const out: NodeId[] = [];
    for (const r of this.table.records.values()) if (r.status !== 'faulty' && this.reachable(r)) out.push(r.entry.id);
    return out;
  }

  /** Handshake peers whose address is one of the seeds. */
  private seedPeers(): NodeId[] {
    const seeds = new Set(this.env.membership.bootstrapConfig?.seeds ?? []);
    return [...this.handshakes.values()].filter((p) => seeds.has(p.address) && !this.refused.has(p.nodeId)).map((p) => p.nodeId);
  }

  private pick<T>(items: readonly T[], k: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < k && pool.length > 0) out.push(pool.splice(this.rng() % pool.length, 1)[0]!);
    return out;
  }

  private entryOf(id: NodeId): GossipEntry | undefined {
    return id === this.env.self.nodeId ? this.selfEntry() : this.table.get(id)?.entry;
  }

  private selfEntry(): GossipEntry {
    const s = this.env.self;
    return {
      id: s.nodeId, gen: this.env.generation, hb: this.heartbeat, sus: [], address: s.address, http: s.http ?? null,
      dc: s.dc, rack: s.rack, weight: s.weight, doc: this.summary,
    };
  }

  // --- what the runtime reads -------------------------------------------------------------------

  /** Every member this node knows of by gossip (itself included), with its state here. */
  members(): MemberSnapshot[] {
    const self = this.selfEntry();
    const out: MemberSnapshot[] = [{ ...factsOf(self), status: 'alive', heartbeat: self.hb, generation: self.gen }];
    for (const r of this.table.records.values()) out.push({ ...factsOf(r.entry), status: r.status, heartbeat: r.entry.hb, generation: r.entry.gen });
    return out;
  }

  /** The heartbeat this node holds for `id` (its own for itself). */
  heartbeatOf(id: NodeId): number | undefined {
    return this.entryOf(id)?.hb;
  }

  status(id: NodeId): MemberStatus | undefined {
    return id === this.env.self.nodeId ? 'alive' : this.table.get(id)?.status;
  }

  takeEvents(): MembershipEvent[] {
    return this.events.take();
  }

  stats(): GossipStats {
    return { ...this.counts, ...this.probes.counts, transitions: this.events.transitions(), refusedPeers: this.refused.size };
  }
}

function digestOf(e: GossipEntry): GossipDigest {
  return { id: e.id, gen: e.gen, hb: e.hb, sus: e.sus };
}

function factsOf(e: GossipEntry): MemberInfo & { http?: string } {
  return { nodeId: e.id, address: e.address, dc: e.dc, rack: e.rack, weight: e.weight, ...(e.http !== null ? { http: e.http } : {}) };
}
