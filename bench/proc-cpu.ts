import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) the processes used so far, from /proc (Linux); NaN where it cannot read. */
export function cpuSeconds(pids: readonly (number | undefined)[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      if (pid === undefined) return NaN;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat)
    } catch {
      return NaN;
    }
  }
  return ticks / 100; // USER_HZ
}
