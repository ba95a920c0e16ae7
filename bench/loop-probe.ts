/**
 * A preload for benches that run a node in its own process (`node --import tsx --import
 * <this file> src/cli/main.ts start ...`): it measures the node's event-loop delay with
 * perf_hooks.monitorEventLoopDelay and, on each SIGUSR2, appends one JSON line
 * `{"count","p50Ms","p99Ms","maxMs"}` for the period since the previous line to the file named
 * by GOSSAMER_LOOP_PROBE_FILE, then starts a new period. Delays are reported beyond the sampling
 * period (each sample is the period plus the delay). Nothing happens without that variable, and
 * nothing in src/ depends on this file.
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Sampling period (ms): fine enough to see a 5 ms block, cheap enough to leave on. */
export const LOOP_PROBE_RESOLUTION_MS = 2;

const file = process.env.GOSSAMER_LOOP_PROBE_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: LOOP_PROBE_RESOLUTION_MS });
  h.enable();
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_PROBE_RESOLUTION_MS);
  process.on('SIGUSR2', () => {
    const line = h.count === 0
      ? { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 }
      : { count: h.count, p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
    h.reset();
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  });
}
