/**
 * The group-committed log of the floor servers (bench/resp-floor.ts, bench/http-floor.ts): bytes
 * appended since the last commit go out in one write, then one fdatasync (or none, or an O_DSYNC
 * write), and the callbacks waiting on them run once it returns; the next batch gathers meanwhile.
 */
import fs from 'node:fs';

export const SYNC_MODES = ['fdatasync', 'dsync', 'nosync'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

export function isSyncMode(s: string): s is SyncMode {
  return (SYNC_MODES as readonly string[]).includes(s);
}

export interface FloorLog {
  append(data: Buffer): void;
  /** Runs `then` once everything appended so far is durable (as `mode` makes it). */
  whenDurable(then: () => void): void;
}

export function floorLog(file: string, mode: SyncMode): FloorLog {
  const { O_WRONLY, O_APPEND, O_CREAT, O_DSYNC } = fs.constants;
  const fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | (mode === 'dsync' ? O_DSYNC : 0));
  let batch: Buffer[] = [];
  let waiting: (() => void)[] = [];
  let inFlight = false;
  const commit = (): void => {
    if (inFlight || waiting.length === 0) return;
    inFlight = true;
    const data = Buffer.concat(batch);
    const answered = waiting;
    batch = [];
    waiting = [];
    fs.write(fd, data, 0, data.length, null, (err) => {
      if (err) throw err;
      const done = (e: NodeJS.ErrnoException | null): void => {
        if (e) throw e;
        inFlight = false;
        for (const then of answered) then();
        commit();
      };
      if (mode === 'fdatasync') fs.fdatasync(fd, done);
      else done(null);
    });
  };
  return {
    append: (data) => { batch.push(data); },
    whenDurable: (then) => { waiting.push(then); commit(); },
  };
}
