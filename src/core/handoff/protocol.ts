/**
 * Hinted handoff at one node: it keeps the hints that coordinators send it as a stand-in
 * (`accept`, through the hint store), hands them back to their targets once those are seen alive
 * again, and is the target side of such deliveries.
 *
 * Replay goes in the order the hints were accepted, at a rate that follows the target's answers:
 * a window of deliveries in flight opens as acknowledgements come back (slow start, then one more
 * per window's worth of acknowledgements) and halves when a delivery times out (AIMD, as TCP's
 * congestion control). A delivered hint is merged at the target like any replica write — a join
 * of versioned states — so a delivery repeated after a lost acknowledgement is harmless; the hint
 * is deleted only after the target acknowledges, which it does once the merge is durable.
 */
import { decodeState } from '../clock/state.js';
import type { KeyState } from '../clock/state.js';
import type { Effects } from '../ready.js';
import type { NodeId, StoreReader } from '../types.js';
import { HANDOFF_LIMITS } from './constants.js';
import type { FailureDetector } from './detector.js';
import type { HintLimits, HintMeta } from './hint-store.js';
import { HintStore } from './hint-store.js';
import type { HandoffMessage } from './messages.js';
import { decodeHintRecord, hintKey, hintSeqOf } from './records.js';

/** Past every seq a hint store hands out (seqs count up from 1 per target). */
const HINT_SEQ_END = Number.MAX_SAFE_INTEGER;

export interface HandoffEnv {
  readonly self: NodeId;
  readonly fx: Effects;
  readonly time: { readonly tick: number; readonly nowMs: number };
  readonly detector: FailureDetector;
  readonly limits: HintLimits;
  nextId(): number;
  /** Merges a delivered state (decoded from `bytes`) into this node's own data (a normal replica merge). */
  applyDelivered(key: string, state: KeyState, bytes: Uint8Array): void;
}

/**
 * A bounded range read of the engine (the storage port's `scanPage`, which the runtime's engine
 * and the simulator's disks have). Replay reads a target's hints a page at a time with it: the
 * records are contiguous and in order, so one page costs one walk of a few blocks where a point
 * read per hint paid a bloom filter, an index search and a block lookup each.
 */
export interface HintPageReader {
  scanPage(options: { gte: Uint8Array; lt: Uint8Array; countMax: number; bytesMax: number }): {
    entries: readonly (readonly [Uint8Array, Uint8Array])[];
  };
}

function hasPages(r: StoreReader): r is StoreReader & HintPageReader {
  return typeof (r as Partial<HintPageReader>).scanPage === 'function';
}

/** One target's replay: its window (in batches) and what is queued and in flight. */
class Session {
  window: number = HANDOFF_LIMITS.deliveryWindowInitial;
  threshold: number = HANDOFF_LIMITS.deliveryWindowMax;
  queue: HintMeta[] = [];
  head = 0;
  readonly retry: HintMeta[] = [];
  /** Seqs of the hints in flight. */
  readonly sending = new Set<number>();
  batches = 0;
  halvedAtTick = -1;
  /** Records read ahead by one page, by seq (replaced by the next page; never more than one). */
  page = new Map<number, Uint8Array>();
}

interface InFlight {
  readonly target: NodeId;
  readonly seqs: readonly number[];
  readonly session: Session;
  readonly deadlineTick: number;
}

export interface HandoffStats {
  stored: number;
  delivered: number;
  dropped: number;
  pendingTotal: number;
  pending: Record<NodeId, number>;
  bytesPending: number;
}

export class HandoffProtocol {
  readonly store: HintStore;
  private readonly sessions = new Map<NodeId, Session>();
  private readonly inFlight = new Map<number, InFlight>();

  constructor(private readonly env: HandoffEnv, private readonly reader: StoreReader) {
    this.store = new HintStore(env.fx, env.limits);
  }

  /** A coordinator asks this node to stand in for `target`; false when the hint is refused. */
  accept(target: NodeId, key: string, state: Uint8Array): boolean {
    return this.store.accept(target, key, state, this.env.time.nowMs);
  }

  step(from: NodeId, msg: HandoffMessage): void {
    if (msg.type === 'hint-ack') {
      this.onAck(from, msg.id);
      return;
    }
    const states: [string, KeyState, Uint8Array][] = [];
    for (const h of msg.hints) {
      try {
        // A view into the received frame is copied, so the stored value does not pin the frame.
        const own = h.state.byteOffset === 0 && h.state.byteLength === h.state.buffer.byteLength;
        states.push([h.key, decodeState(h.state), own ? h.state : h.state.slice()]);
      } catch {
        return; // never merged; the stand-in retries until the hints expire
      }
    }
    for (const [key, state, bytes] of states) this.env.applyDelivered(key, state, bytes);
    this.env.fx.send(from, { type: 'hint-ack', id: msg.id });
  }

  tick(): void {
    const now = this.env.time.tick;
    if (now % HANDOFF_LIMITS.expiryEveryTicks === 0) this.store.expire(this.env.time.nowMs);
    for (const [id, f] of this.inFlight) {
      if (now < f.deadlineTick) continue;
      this.inFlight.delete(id);
      const s = f.session;
      s.batches--;
      for (const seq of f.seqs) {
        if (!s.sending.delete(seq)) continue;
        const h = this.store.get(f.target, seq);
        if (h) s.retry.push(h);
      }
      if (s.halvedAtTick !== now) {
        // Multiplicative decrease, once per tick however many batches timed out together.
        s.halvedAtTick = now;
        s.threshold = Math.max(1, s.window / 2);
        s.window = s.threshold;
      }
    }
    for (const target of this.store.targetsPending()) {
      if (!this.env.detector.isAlive(target)) {
        this.sessions.delete(target);
        continue;
      }
      this.fill(target);
    }
  }

  stats(): HandoffStats {
    const pending = this.store.pending();
    let pendingTotal = 0;
    for (const n of Object.values(pending)) pendingTotal += n;
    return { ...this.store.counters, pendingTotal, pending, bytesPending: this.store.bytesPending() };
  }

  private onAck(from: NodeId, id: number): void {
    const f = this.inFlight.get(id);
    if (!f || f.target !== from) return;
    this.inFlight.delete(id);
    const s = f.session;
    s.batches--;
    for (const seq of f.seqs) {
      const h = this.store.get(f.target, seq);
      if (h) this.store.remove(h, true);
      s.sending.delete(seq);
    }
    if (this.sessions.get(f.target) !== s) return;
    // Additive increase: +1 per acknowledgement below the threshold (slow start), +1/window above.
    s.window = Math.min(HANDOFF_LIMITS.deliveryWindowMax, s.window < s.threshold ? s.window + 1 : s.window + 1 / s.window);
    this.fill(f.target);
  }

  /** Sends the target's next batches of hints until its window is full. */
  private fill(target: NodeId): void {
    let s = this.sessions.get(target);
    if (!s) {
      s = new Session();
      this.sessions.set(target, s);
    }
    while (s.batches < Math.floor(s.window)) {
      const batch = this.batch(target, s);
      if (batch.length === 0) return;
      const id = this.env.nextId();
      const seqs = batch.map((b) => b.seq);
      for (const seq of seqs) s.sending.add(seq);
      s.batches++;
      this.inFlight.set(id, { target, seqs, session: s, deadlineTick: this.env.time.tick + HANDOFF_LIMITS.deliveryTimeoutTicks });
      this.env.fx.send(target, { type: 'hint-deliver', id, hints: batch.map((b) => ({ key: b.key, state: b.state })) });
    }
  }

  /** The next hints in order, up to a batch's bounds. */
  private batch(target: NodeId, s: Session): { seq: number; key: string; state: Uint8Array }[] {
    const out: { seq: number; key: string; state: Uint8Array }[] = [];
    const taken = new Set<number>();
    let bytes = 0;
    while (out.length < HANDOFF_LIMITS.deliveryBatchHintsMax && bytes < HANDOFF_LIMITS.deliveryBatchBytesMax) {
      const h = this.next(target, s, taken);
      if (!h) break;
      const raw = this.read(target, s, h);
      if (raw === undefined) {
        s.retry.push(h); // not readable yet (its Ready is still being taken): next tick
        break;
      }
      const rec = decodeHintRecord(raw);
      if (!rec) {
        this.store.remove(h, false);
        continue;
      }
      if (out.length > 0 && bytes + rec.state.length > HANDOFF_LIMITS.deliveryBatchBytesMax) {
        s.retry.unshift(h); // the next batch starts with it, so a batch stays within one frame
        break;
      }
      out.push({ seq: h.seq, key: rec.key, state: rec.state });
      taken.add(h.seq);
      bytes += rec.state.length;
    }
    return out;
  }

  /**
   * A hint's record: from the page read ahead, else by reading the next page from its key (or a
   * point read where the engine has no pages). A record the engine does not show yet (its Ready
   * is still being taken) is undefined: the caller tries again next tick.
   */
  private read(target: NodeId, s: Session, h: HintMeta): Uint8Array | undefined {
    const cached = s.page.get(h.seq);
    if (cached !== undefined) {
      s.page.delete(h.seq);
      return cached;
    }
    if (!hasPages(this.reader)) return this.reader.get(h.storageKey);
    const { entries } = this.reader.scanPage({
      gte: h.storageKey, lt: hintKey(target, HINT_SEQ_END),
      countMax: HANDOFF_LIMITS.deliveryReadPageHintsMax, bytesMax: HANDOFF_LIMITS.deliveryReadPageBytesMax,
    });
    s.page = new Map();
    let first: Uint8Array | undefined;
    for (const [k, v] of entries) {
      // Every key of the range is this target's: its seq is read without decoding the target.
      const seq = hintSeqOf(k);
      if (seq === undefined) continue;
      if (seq === h.seq) first = v;
      else s.page.set(seq, v);
    }
    return first;
  }

  private next(target: NodeId, s: Session, taken: ReadonlySet<number>): HintMeta | undefined {
    for (;;) {
      let h = s.retry.shift();
      if (!h) {
        if (s.head >= s.queue.length) {
          if (this.store.pendingFor(target) <= s.sending.size + taken.size) return undefined;
          s.queue = [...this.store.hintsFor(target)].filter((x) => !s.sending.has(x.seq) && !taken.has(x.seq));
          s.head = 0;
          if (s.queue.length === 0) return undefined;
        }
        h = s.queue[s.head++];
      }
      if (h && this.store.get(target, h.seq) === h && !s.sending.has(h.seq) && !taken.has(h.seq)) return h;
    }
  }
}
