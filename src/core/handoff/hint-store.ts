/**
 * The hints this node holds for other nodes: an in-memory index over the records of the `hint`
 * keyspace (records.ts). The values stay in the storage engine; the index keeps, per target, the
 * records in the order they were accepted, with their sizes and ages, so the store can be
 * bounded (bytes per target, age) and replayed in order without holding the values in memory.
 *
 * Every record is written through the Ready, so a hint is durable before the write it stands in
 * for is acknowledged (the acknowledgement is a message of the same Ready). On restart the
 * runtime scans the keyspace and hands the records to `load`.
 */
import { storageWrite } from '../keys.js';
import type { Effects } from '../ready.js';
import type { NodeId } from '../types.js';
import { decodeHintRecord, encodeHintRecord, hintKey, parseHintKey } from './records.js';

export interface HintLimits {
  /** Hints older than this are dropped undelivered (Cassandra's max_hint_window: 3 h). */
  readonly hintAgeMsMax: number;
  /** Bytes of hint records held for one target; past it new hints for it are refused. */
  readonly hintBytesPerTargetMax: number;
}

export interface HintMeta {
  readonly target: NodeId;
  readonly seq: number;
  readonly key: string;
  readonly bytes: number;
  readonly tsMs: number;
  readonly storageKey: Uint8Array;
}

class TargetHints {
  /** By seq; a Map iterates in insertion order, which is seq order. */
  readonly hints = new Map<number, HintMeta>();
  bytes = 0;
  nextSeq = 1;
}

export interface HintCounters {
  /** Hints accepted since this run started. */
  stored: number;
  /** Hints delivered and acknowledged by their target. */
  delivered: number;
  /** Hints dropped at the bounds (refused when full, expired, or damaged on disk). */
  dropped: number;
}

export class HintStore {
  private readonly targets = new Map<NodeId, TargetHints>();
  private readonly byKey = new Map<string, Set<HintMeta>>();
  readonly counters: HintCounters = { stored: 0, delivered: 0, dropped: 0 };

  constructor(private readonly fx: Effects, private readonly limits: HintLimits) {}

  /**
   * Keeps `state` (an encoded key state) for `target`; false when the target's bound is reached
   * (the hint is dropped and counted, and the caller must not acknowledge the write).
   */
  accept(target: NodeId, key: string, state: Uint8Array, nowMs: number): boolean {
    const t = this.targetOf(target);
    const value = encodeHintRecord({ key, tsMs: nowMs, state });
    const sk = hintKey(target, t.nextSeq);
    if (t.bytes + value.length + sk.length > this.limits.hintBytesPerTargetMax) {
      this.counters.dropped++;
      return false;
    }
    this.fx.write(storageWrite('hint', sk, value));
    this.index({ target, seq: t.nextSeq, key, bytes: value.length + sk.length, tsMs: nowMs, storageKey: sk });
    this.counters.stored++;
    return true;
  }

  /** Rebuilds the index from the records a scan of the hint keyspace returns (in key order). */
  load(entries: Iterable<readonly [Uint8Array, Uint8Array]>): void {
    for (const [k, v] of entries) {
      const id = parseHintKey(k);
      const rec = decodeHintRecord(v);
      if (!id || !rec) {
        // Damaged: never replayed; deleted so it is not met again.
        if (k[0] === 0x02) this.fx.write(storageWrite('hint', k, null));
        this.counters.dropped++;
        continue;
      }
      const t = this.targetOf(id.target);
      t.nextSeq = Math.max(t.nextSeq, id.seq + 1);
      this.index({ target: id.target, seq: id.seq, key: rec.key, bytes: k.length + v.length, tsMs: rec.tsMs, storageKey: k });
    }
  }

  /** Deletes a hint (delivered, or dropped: `delivered` says which counter it goes to). */
  remove(h: HintMeta, delivered: boolean): void {
    const t = this.targets.get(h.target);
    if (!t || t.hints.get(h.seq) !== h) return;
    t.hints.delete(h.seq);
    t.bytes -= h.bytes;
    const set = this.byKey.get(h.key);
    set?.delete(h);
    if (set?.size === 0) this.byKey.delete(h.key);
    this.fx.write(storageWrite('hint', h.storageKey, null));
    if (delivered) this.counters.delivered++;
    else this.counters.dropped++;
  }

  /** Drops every hint older than the age bound; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    for (const t of this.targets.values()) {
      for (const h of t.hints.values()) {
        if (nowMs - h.tsMs <= this.limits.hintAgeMsMax) break; // accepted in order: the rest are younger
        this.remove(h, false);
        n++;
      }
    }
    return n;
  }

  get(target: NodeId, seq: number): HintMeta | undefined {
    return this.targets.get(target)?.hints.get(seq);
  }

  /** The hints held for `target`, oldest first. */
  hintsFor(target: NodeId): IterableIterator<HintMeta> {
    return (this.targets.get(target)?.hints ?? new Map<number, HintMeta>()).values();
  }

  /** The hints held for `key`, whatever their target. */
  hintsForKey(key: string): readonly HintMeta[] {
    return [...(this.byKey.get(key) ?? [])];
  }

  /** Targets with hints pending. */
  targetsPending(): NodeId[] {
    const out: NodeId[] = [];
    for (const [id, t] of this.targets) if (t.hints.size > 0) out.push(id);
    return out;
  }

  pendingFor(target: NodeId): number {
    return this.targets.get(target)?.hints.size ?? 0;
  }

  /** Pending hints per target (targets with none left out). */
  pending(): Record<NodeId, number> {
    const out: Record<NodeId, number> = {};
    for (const [id, t] of this.targets) if (t.hints.size > 0) out[id] = t.hints.size;
    return out;
  }

  bytesPending(): number {
    let b = 0;
    for (const t of this.targets.values()) b += t.bytes;
    return b;
  }

  private targetOf(target: NodeId): TargetHints {
    let t = this.targets.get(target);
    if (!t) {
      t = new TargetHints();
      this.targets.set(target, t);
    }
    return t;
  }

  private index(h: HintMeta): void {
    const t = this.targetOf(h.target);
    t.hints.set(h.seq, h);
    t.bytes += h.bytes;
    t.nextSeq = Math.max(t.nextSeq, h.seq + 1);
    let set = this.byKey.get(h.key);
    if (!set) {
      set = new Set();
      this.byKey.set(h.key, set);
    }
    set.add(h);
  }
}
