/** The simulator's own speed: simulated client operations per wall-clock second (sim-disk engine). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { runSimulation } from '../src/sim/run.js';

export async function runSimBench(seeds = 200): Promise<void> {
  let ops = 0;
  let events = 0;
  let virtualMs = 0;
  const t0 = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    // The engine is pinned so the figure stays comparable across runs (seeds draw it otherwise;
    // an LSM run costs about five sim-disk runs).
    const r = await runSimulation({ seed, engine: 'sim-disk' });
    ops += r.ops;
    events += r.events;
    virtualMs += r.virtualMs;
  }
  const secs = (performance.now() - t0) / 1000;
  const result = {
    seeds, ops, events, wallSeconds: +secs.toFixed(2),
    opsPerSecond: Math.round(ops / secs), eventsPerSecond: Math.round(events / secs),
    virtualOverReal: +(virtualMs / 1000 / secs).toFixed(1),
  };
  console.log('| seeds | simulated ops | events | wall s | ops/s | events/s | virtual/real |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(`| ${seeds} | ${ops} | ${events} | ${result.wallSeconds} | ${result.opsPerSecond} | ${result.eventsPerSecond} | ${result.virtualOverReal}× |`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/sim.json', import.meta.url), JSON.stringify(result, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}`) await runSimBench();
