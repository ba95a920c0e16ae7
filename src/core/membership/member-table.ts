/**
 * The gossip table: one record per member (this node included) with its latest entry as gossip
 * spread it, and what this node concluded: `alive`, `suspect` or `faulty`.
 *
 * An entry's news is ordered by (generation, heartbeat): a newer one replaces the record and
 * clears every suspicion (suspicions belong to the heartbeat they were made at). At the same
 * generation and heartbeat, suspecter sets merge by union (bounded). A member is `faulty` once
 * `convictAt` members suspect it, or once a suspicion has lasted `faultyAfterTicks` here.
 */
import type { NodeId } from '../types.js';
import type { GossipDigest, GossipEntry } from './gossip-messages.js';
import { GOSSIP_LIMITS } from './gossip-constants.js';

export type MemberStatus = 'alive' | 'suspect' | 'faulty';

export interface MemberRecord {
  entry: GossipEntry;
  /** Tick at which this node last saw the heartbeat advance (or had a probe answered). */
  advancedTick: number;
  status: MemberStatus;
  /** Tick at which the suspicion in force began here. */
  suspectSinceTick: number | undefined;
}

/** A member's state changed here (the runtime logs and counts it). */
export interface StatusChange {
  readonly nodeId: NodeId;
  readonly from: MemberStatus;
  readonly to: MemberStatus;
  /** Ticks since the heartbeat last advanced here. */
  readonly silentTicks: number;
  readonly reason: string;
}

export interface TableSettings {
  readonly self: NodeId;
  readonly convictAt: number;
  readonly faultyAfterTicks: number;
}

/** -1, 0 or 1: whether `a`'s (generation, heartbeat) is older, the same or newer than `b`'s. */
export function compareBeat(a: { gen: number; hb: number }, b: { gen: number; hb: number }): number {
  if (a.gen !== b.gen) return a.gen > b.gen ? 1 : -1;
  if (a.hb !== b.hb) return a.hb > b.hb ? 1 : -1;
  return 0;
}

/** Whether `a` says something `b` does not: a newer beat, or (same beat) a suspecter `b` lacks. */
export function hasNews(a: GossipDigest, b: GossipDigest): boolean {
  const c = compareBeat(a, b);
  if (c !== 0) return c > 0;
  return b.sus.length < GOSSIP_LIMITS.suspectersMax && a.sus.some((s) => !b.sus.includes(s));
}

export function unionSuspecters(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort().slice(0, GOSSIP_LIMITS.suspectersMax);
}

export class MemberTable {
  readonly records = new Map<NodeId, MemberRecord>();
  /** Members removed from the cluster document, with the last generation that is ignored. */
  private readonly removed = new Map<NodeId, number>();

  constructor(private readonly cfg: TableSettings, private readonly changed: (c: StatusChange) => void) {}

  get(id: NodeId): MemberRecord | undefined {
    return this.records.get(id);
  }

  /** Adds a member never heard from (generation 0), e.g. from the cluster document. */
  addUnheard(entry: GossipEntry, now: number): MemberRecord | undefined {
    if (this.records.has(entry.id) || this.records.size >= GOSSIP_LIMITS.membersMax) return undefined;
    const rec: MemberRecord = { entry, advancedTick: now, status: 'alive', suspectSinceTick: undefined };
    this.records.set(entry.id, rec);
    return rec;
  }

  /**
   * Merges an entry from a peer. Returns `new` (first heard of), `newer`, `merged` (suspecters
   * added), or `stale` (nothing new: older, the same, ignored or over the bound).
   */
  merge(e: GossipEntry, now: number): 'new' | 'newer' | 'merged' | 'stale' {
    if (e.id === this.cfg.self) return 'stale';
    const gone = this.removed.get(e.id);
    if (gone !== undefined && e.gen <= gone) return 'stale';
    const rec = this.records.get(e.id);
    if (!rec) {
      if (this.records.size >= GOSSIP_LIMITS.membersMax) return 'stale';
      const fresh: MemberRecord = { entry: e, advancedTick: now, status: 'alive', suspectSinceTick: e.sus.length > 0 ? now : undefined };
      this.records.set(e.id, fresh);
      this.evaluate(fresh, now, e.sus.length > 0 ? `suspected by ${e.sus.join(', ')}` : 'first heard of');
      return 'new';
    }
    const c = compareBeat(e, rec.entry);
    if (c > 0) {
      const restarted = e.gen > rec.entry.gen && rec.entry.gen > 0;
      rec.entry = e;
      rec.advancedTick = now;
      rec.suspectSinceTick = e.sus.length > 0 ? now : undefined;
      this.evaluate(rec, now, restarted ? 'new generation (restarted)' : 'heartbeat advanced');
      return 'newer';
    }
    if (c < 0 || !hasNews(e, rec.entry)) return 'stale';
    this.addSuspecters(rec, e.sus, now);
    return 'merged';
  }

  /** `by` suspects the member at the beat this node holds for it. */
  suspect(id: NodeId, by: NodeId, now: number, reason: string): void {
    const rec = this.records.get(id);
    if (!rec || rec.entry.sus.includes(by)) return;
    this.addSuspecters(rec, [by], now, reason);
  }

  /** A probe was answered: the member is heard from now (its ack's entry is merged too). */
  heard(id: NodeId, now: number): void {
    const rec = this.records.get(id);
    if (rec) rec.advancedTick = now;
  }

  /** Applies the longer timeout: a suspicion that lasted `faultyAfterTicks` convicts. */
  tick(now: number): void {
    for (const rec of this.records.values()) {
      if (rec.status === 'suspect' && rec.suspectSinceTick !== undefined && now - rec.suspectSinceTick >= this.cfg.faultyAfterTicks) {
        this.evaluate(rec, now, `suspected for ${now - rec.suspectSinceTick} ticks`);
      }
    }
  }

  /** Forgets a member removed from the cluster (its entries up to `gen` are ignored from now on). */
  remove(id: NodeId): boolean {
    const rec = this.records.get(id);
    this.removed.set(id, rec?.entry.gen ?? 0);
    return this.records.delete(id);
  }

  private addSuspecters(rec: MemberRecord, sus: readonly string[], now: number, reason?: string): void {
    const before = rec.entry.sus;
    rec.entry = { ...rec.entry, sus: unionSuspecters(before, sus) };
    if (before.length === 0) rec.suspectSinceTick = now;
    this.evaluate(rec, now, reason ?? `suspected by ${rec.entry.sus.join(', ')}`);
  }

  private evaluate(rec: MemberRecord, now: number, reason: string): void {
    const next = this.statusOf(rec, now);
    if (next === rec.status) return;
    const from = rec.status;
    rec.status = next;
    const why = next === 'faulty' && rec.entry.sus.length >= this.cfg.convictAt ? `suspected by ${rec.entry.sus.join(', ')}` : reason;
    this.changed({ nodeId: rec.entry.id, from, to: next, silentTicks: now - rec.advancedTick, reason: why });
  }

  private statusOf(rec: MemberRecord, now: number): MemberStatus {
    const n = rec.entry.sus.length;
    if (n === 0) return 'alive';
    if (n >= this.cfg.convictAt) return 'faulty';
    if (rec.suspectSinceTick !== undefined && now - rec.suspectSinceTick >= this.cfg.faultyAfterTicks) return 'faulty';
    return 'suspect';
  }
}
