/**
 * Virtual time: a single event queue ordered by (time, sequence). Every simulated port settles
 * its promises from here, so the interleaving of a run depends on the seed alone.
 */
import type { Clock, TimerHandle } from '../ports/index.js';

export interface ScheduledEvent {
  time: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class EventQueue {
  private heap: ScheduledEvent[] = [];
  private seq = 0;
  now = 0;
  executed = 0;

  schedule(delayMs: number, fn: () => void): ScheduledEvent {
    const ev: ScheduledEvent = { time: this.now + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.push(ev);
    return ev;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Runs the next event; false when none is left. */
  step(): boolean {
    while (this.heap.length > 0) {
      const ev = this.pop()!;
      if (ev.cancelled) continue;
      this.now = ev.time;
      this.executed++;
      ev.fn();
      return true;
    }
    return false;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  private less(a: ScheduledEvent, b: ScheduledEvent): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(ev: ScheduledEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): ScheduledEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** What a simulated clock reads at virtual time 0. */
export const SIM_EPOCH_MS = 1_700_000_000_000;

/** A node's view of virtual time. `cancelAll` drops every timer, as a crash does. */
export class SimClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, ScheduledEvent>();
  constructor(private readonly queue: EventQueue, private readonly epochMs = SIM_EPOCH_MS) {}

  nowMs(): number {
    return this.epochMs + this.queue.now;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const ev = this.queue.schedule(delayMs, () => {
      this.timers.delete(id);
      fn();
    });
    this.timers.set(id, ev as ScheduledEvent);
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const ev = this.timers.get(handle.id);
    if (ev) ev.cancelled = true;
    this.timers.delete(handle.id);
  }

  cancelAll(): void {
    for (const ev of this.timers.values()) ev.cancelled = true;
    this.timers.clear();
  }
}

/** Lets every pending microtask run (promise continuations) before the next event. */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
