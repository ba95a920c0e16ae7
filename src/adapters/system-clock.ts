/**
 * The real Clock port: wall-clock time and Node timers. A node's timers are unref'd (its servers
 * keep the process alive); tests and scripts ask for ref'd ones, so a pending wait keeps them alive.
 */
import type { Clock, TimerHandle } from '../ports/index.js';

export class SystemClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  constructor(private readonly opts: { unref?: boolean } = {}) {}

  nowMs(): number {
    return Date.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, delayMs));
    if (this.opts.unref ?? true) t.unref();
    this.timers.set(id, t);
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const t = this.timers.get(handle.id);
    if (t !== undefined) {
      clearTimeout(t);
      this.timers.delete(handle.id);
    }
  }

  /** Cancels every pending timer (at shutdown). */
  clearAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}

export function createSystemClock(): SystemClock {
  return new SystemClock();
}
