/**
 * `npm run sim -- --seed S` runs one seeded simulation and prints, on one line, the options the
 * seed drew and `digest: <hex>`; `--seeds A..B` runs a range. A failing run prints its seed and
 * the violated invariant. `--engine sim-disk|lsm` pins the engine instead of drawing it.
 * `--ring-change join|leave|remove|replace` changes the ring during the run (`--crash-transfer`: and
 * crashes a node of the transfer midway).
 */
import { runSimulation } from './run.js';
import type { ReconcileBug } from '../core/clock/state.js';
import { RECONCILE_BUGS } from '../core/clock/state.js';
import type { SimEngineKind } from './cluster.js';
import type { RingChangeKind } from './ring-change.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const range = arg('--seeds');
  const single = arg('--seed');
  const bug = (arg('--bug') ?? 'none') as ReconcileBug;
  if (!RECONCILE_BUGS.includes(bug)) {
    console.error(`gossamer sim: --bug takes ${RECONCILE_BUGS.join(', ')}`);
    process.exit(2);
  }
  const engine = arg('--engine') as SimEngineKind | undefined;
  if (engine !== undefined && engine !== 'sim-disk' && engine !== 'lsm') {
    console.error('gossamer sim: --engine takes sim-disk or lsm');
    process.exit(2);
  }
  const ringChange = arg('--ring-change') as RingChangeKind | undefined;
  if (ringChange !== undefined && !['join', 'leave', 'remove', 'replace'].includes(ringChange)) {
    console.error('gossamer sim: --ring-change takes join, leave, remove or replace');
    process.exit(2);
  }
  const crashTransfer = process.argv.includes('--crash-transfer');
  let seeds: number[];
  if (range) {
    const [a, b] = range.split('..').map(Number);
    if (a === undefined || b === undefined || !Number.isInteger(a) || !Number.isInteger(b) || b < a) {
      console.error('gossamer sim: --seeds takes A..B');
      process.exit(2);
    }
    seeds = Array.from({ length: b - a + 1 }, (_, i) => a + i);
  } else {
    const s = Number(single ?? '1');
    if (!Number.isInteger(s)) {
      console.error('gossamer sim: --seed takes an integer');
      process.exit(2);
    }
    seeds = [s];
  }
  let failed = 0;
  let ops = 0;
  let virtualMs = 0;
  const t0 = performance.now();
  for (const seed of seeds) {
    const r = await runSimulation({ seed, bug, ...(engine ? { engine } : {}), ...(ringChange ? { ringChange, crashDuringTransfer: crashTransfer } : {}) });
    ops += r.ops;
    virtualMs += r.virtualMs;
    if (seeds.length === 1) {
      console.log(r.line);
      console.log(`ops: ${r.ops} (${r.acknowledged} acknowledged), events: ${r.events}, virtual time: ${(r.virtualMs / 1000).toFixed(1)} s`);
      console.log(`faults: ${r.faults.crashes} crashes, ${r.faults.partitions} partitions, ${r.faults.clogs} links clogged ` +
        `in ${r.faults.swizzles} swizzles, ${r.faults.dropped} messages dropped; converged: ${r.converged}`);
      if (r.ringChange) console.log(`ring change: ${r.ringChange.kind} of ${r.ringChange.node} committed at ${Math.round(r.ringChange.atMs ?? -1)} ms, ${r.ringChange.streamedKeys ?? 0} keys streamed, ${r.ringChange.droppedKeys ?? 0} dropped after`);
      if (r.options.engine === 'lsm') console.log(`storage: ${r.storage.flushes} flushes, ${r.storage.compactions} compactions`);
    }
    if (r.violations.length > 0) {
      failed++;
      console.log(`FAIL seed ${seed}: ${r.violations[0]!.invariant} on ${r.violations[0]!.key}: ${r.violations[0]!.detail}` +
        (r.violations.length > 1 ? ` (+${r.violations.length - 1} more)` : ''));
      const change = ringChange ? ` --ring-change ${ringChange}${crashTransfer ? ' --crash-transfer' : ''}` : '';
      console.log(`  reproduce: npm run sim -- --seed ${seed}${bug !== 'none' ? ` --bug ${bug}` : ''}${engine ? ` --engine ${engine}` : ''}${change}`);
    }
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(`speed: ${Math.round(ops / secs)} simulated ops/s, ${(virtualMs / 1000 / secs).toFixed(1)}× real time (${seeds.length} run${seeds.length > 1 ? 's' : ''} in ${secs.toFixed(2)} s)`);
  if (seeds.length > 1) console.log(`${seeds.length - failed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
