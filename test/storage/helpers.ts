import type { Clock, TimerHandle } from '../../src/ports/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'gossamer-storage-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : Buffer.from(u).toString());

/**
 * The Clock port on real time with ordinary (ref'd) timers, for tests and scripts: unlike the
 * node's SystemClock (whose timers are unref'd because its servers keep the process alive), a
 * pending engine wait keeps a test process alive.
 */
export class TimerClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  nowMs(): number {
    return Date.now();
  }
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, delayMs)));
    return { id };
  }
  clearTimer(handle: TimerHandle): void {
    clearTimeout(this.timers.get(handle.id));
    this.timers.delete(handle.id);
  }
}

export const realClock = new TimerClock();
