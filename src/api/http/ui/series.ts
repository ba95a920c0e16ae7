/**
 * The dashboard's recent history: client requests per time slot (count, errors, latency), kept
 * for the last few minutes in a fixed ring of slots. Memory is bounded: SLOTS slots, each with
 * a coarse histogram (≈9% precision) allocated only when the slot saw traffic.
 */
import { LogHistogram } from './histogram.js';

export const SERIES_SLOT_MS = 5_000;
export const SERIES_SLOTS = 120; // 10 minutes

export interface SeriesPoint {
  /** Start of the slot, ms since the epoch. */
  tMs: number;
  requests: number;
  errors: number;
  /** Requests per second over the slot (the current slot: over its elapsed part). */
  ratePerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

interface Slot {
  startMs: number;
  count: number;
  errors: number;
  hist: LogHistogram | undefined;
}

export class RecentSeries {
  private readonly slots: Slot[] = [];

  constructor(private readonly now: () => number = () => Date.now(), private readonly slotMs = SERIES_SLOT_MS, private readonly maxSlots = SERIES_SLOTS) {}

  record(latencyMs: number, error: boolean): void {
    const slot = this.current();
    slot.count++;
    if (error) slot.errors++;
    (slot.hist ??= new LogHistogram(8)).recordMs(latencyMs);
  }

  private current(): Slot {
    const start = Math.floor(this.now() / this.slotMs) * this.slotMs;
    const last = this.slots[this.slots.length - 1];
    if (last && last.startMs === start) return last;
    const slot: Slot = { startMs: start, count: 0, errors: 0, hist: undefined };
    this.slots.push(slot);
    if (this.slots.length > this.maxSlots) this.slots.shift();
    return slot;
  }

  /** One point per slot of the window, oldest first, empty slots included (as zero). */
  points(): SeriesPoint[] {
    const nowMs = this.now();
    const end = Math.floor(nowMs / this.slotMs) * this.slotMs;
    const byStart = new Map(this.slots.map((s) => [s.startMs, s]));
    const out: SeriesPoint[] = [];
    for (let t = end - (this.maxSlots - 1) * this.slotMs; t <= end; t += this.slotMs) {
      const s = byStart.get(t);
      const spanMs = t === end ? Math.max(1, nowMs - t) : this.slotMs;
      out.push({
        tMs: t,
        requests: s?.count ?? 0,
        errors: s?.errors ?? 0,
        ratePerSec: s ? Math.round((s.count * 1000 * 10) / spanMs) / 10 : 0,
        p50Ms: s?.hist ? Math.round(s.hist.quantile(0.5)) / 1000 : null,
        p99Ms: s?.hist ? Math.round(s.hist.quantile(0.99)) / 1000 : null,
      });
    }
    return out;
  }
}
