/**
 * The per-rule table of limited keys: key → slot in one Float64Array, bounded by `keysMax`.
 *
 * - Idle keys (whose state is as good as fresh, per the algorithm) are evicted by `sweep`, a
 *   bounded walk of the table that the limiter runs on every tick, so memory follows the
 *   number of recently active clients.
 * - When the table is full, a new key first tries to take the place of an idle one (a bounded
 *   scan); failing that it is judged against one shared *overflow* slot. Under a flood of
 *   millions of distinct active clients the keys already tracked keep their exact state, and
 *   the newcomers share one limit together: the cluster stays protected, memory stays bounded.
 */
import type { Algorithm } from './algorithms.js';

/** Entries a full table examines for an idle victim before falling back to the overflow slot. */
export const EVICTION_SCAN_MAX = 32;
const INITIAL_SLOTS = 64;

export class KeyTable {
  private readonly index = new Map<string, number>();
  private state: Float64Array;
  private slots: number;
  private readonly free: number[] = [];
  /** Slot 0 is the overflow slot; new slots are handed out from here. */
  private nextSlot = 1;
  private overflowReady = false;
  private cursor: Iterator<[string, number]> | undefined;
  /** Requests judged against the shared overflow slot because the table was full. */
  overflowed = 0;
  evicted = 0;

  constructor(private readonly algo: Algorithm, readonly keysMax: number) {
    this.slots = Math.min(INITIAL_SLOTS, keysMax + 1);
    this.state = new Float64Array(this.slots * algo.width);
  }

  get size(): number {
    return this.index.size;
  }

  /** The state array (it may be replaced when the table grows: read it after `slotOf`). */
  get data(): Float64Array {
    return this.state;
  }

  /** Offset of `key`'s state in `data`, created fresh (at `scale`) if the key is new. */
  slotOf(key: string, nowMs: number, scale: number): number {
    const w = this.algo.width;
    const slot = this.index.get(key);
    if (slot !== undefined) return slot * w;
    let fresh = this.free.pop();
    if (fresh === undefined) {
      if (this.index.size >= this.keysMax) fresh = this.evictOne(nowMs);
      else fresh = this.allocate();
    }
    if (fresh === undefined) {
      this.overflowed++;
      if (!this.overflowReady) {
        this.algo.init(this.state, 0, nowMs, scale);
        this.overflowReady = true;
      }
      return 0;
    }
    this.index.set(key, fresh);
    this.algo.init(this.state, fresh * w, nowMs, scale);
    return fresh * w;
  }

  private allocate(): number {
    if (this.nextSlot >= this.slots) {
      const grown = Math.min(this.slots * 2, this.keysMax + 1);
      const next = new Float64Array(grown * this.algo.width);
      next.set(this.state);
      this.state = next;
      this.slots = grown;
    }
    return this.nextSlot++;
  }

  /** A slot freed from an idle key, or undefined when the scan finds none. */
  private evictOne(nowMs: number): number | undefined {
    for (let i = 0; i < EVICTION_SCAN_MAX; i++) {
      const e = this.step();
      if (!e) return undefined;
      if (this.algo.idle(this.state, e[1] * this.algo.width, nowMs)) {
        this.index.delete(e[0]);
        this.evicted++;
        return e[1];
      }
    }
    return undefined;
  }

  /** The next entry of a walk that wraps around (undefined only when the table is empty). */
  private step(): [string, number] | undefined {
    if (this.index.size === 0) return undefined;
    let r = this.cursor?.next();
    if (!r || r.done) {
      this.cursor = this.index.entries();
      r = this.cursor.next();
    }
    return r.done ? undefined : r.value;
  }

  /** Examines up to `budget` keys and forgets the idle ones; returns how many it forgot. */
  sweep(nowMs: number, budget: number): number {
    let forgotten = 0;
    const n = Math.min(budget, this.index.size);
    for (let i = 0; i < n; i++) {
      const e = this.step();
      if (!e) break;
      if (this.algo.idle(this.state, e[1] * this.algo.width, nowMs)) {
        this.index.delete(e[0]);
        this.free.push(e[1]);
        forgotten++;
      }
    }
    this.evicted += forgotten;
    return forgotten;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /** Float64s held by the state array (for memory figures). */
  get stateBytes(): number {
    return this.state.byteLength;
  }
}
