import { SystemClock } from '../../src/adapters/system-clock.js';
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
 * node's (unref'd), a pending engine wait keeps a test process alive.
 */
export class TimerClock extends SystemClock {
  constructor() {
    super({ unref: false });
  }
}

export const realClock = new TimerClock();
