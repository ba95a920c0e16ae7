import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFileSystem } from '../../src/adapters/node-fs.js';
import { openLsmEngine } from '../../src/storage/lsm/index.js';
import { verify } from './crash-workload.js';
import type { Versions, WorkloadConfig } from './crash-workload.js';
import { tempDir, realClock } from './helpers.js';

/**
 * Crash safety with real processes: a child writes with `group` commit and records each
 * acknowledged write; we kill -9 it at random moments (after a random number of acks, or
 * right as a flush or a compaction starts), reopen the engine here and check every
 * acknowledged write, whole batches, and that recovery reports no corruption.
 */
const ROUNDS = 24;
const CHILD = join(import.meta.dirname, 'crash-child.ts');

type Trigger = 'acks' | 'flush-start' | 'compaction-start';

interface RoundResult { trigger: Trigger; midFlush: boolean; midCompaction: boolean }

function runChild(dir: string, stateFile: string, ackFile: string, seed: number, trigger: Trigger, ackTarget: number): Promise<RoundResult> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [dir, stateFile, ackFile, String(seed)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let acks = 0;
    let flushing = false;
    let compacting = false;
    let killed = false;
    let result: RoundResult | undefined;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      result = { trigger, midFlush: flushing, midCompaction: compacting };
      child.kill('SIGKILL');
    };
    child.on('message', (m: { acks?: number; event?: string }) => {
      if (m.acks !== undefined) acks = m.acks;
      if (m.event === 'flush-start') flushing = true;
      if (m.event === 'flush-end') flushing = false;
      if (m.event === 'compaction-start') compacting = true;
      if (m.event === 'compaction-end') compacting = false;
      if (acks < ackTarget) return;
      if (trigger === 'acks' || (m.event !== undefined && m.event === trigger)) kill();
    });
    child.on('exit', (code, signal) => {
      if (killed && signal === 'SIGKILL') resolve(result!);
      else reject(new Error(`child exited unexpectedly (code ${code}, signal ${signal}): ${stderr}`));
    });
    // A safety net only: the kill normally comes from the child's own reports.
    setTimeout(kill, 15_000).unref();
  });
}

describe('crash safety with real processes (kill -9)', () => {
  it(`${ROUNDS} rounds of kill -9 lose no acknowledged write`, { timeout: 180_000 }, async () => {
    const t = tempDir('gossamer-crash-');
    const dataDir = join(t.dir, 'data');
    const stateFile = join(t.dir, 'state.json');
    const cfg: WorkloadConfig = { writers: 16, keysPerWriter: 16, seed: 0 };
    let confirmed: Versions = {};
    const results: RoundResult[] = [];
    let checks = 0;
    let x = 12345;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        writeFileSync(stateFile, JSON.stringify(confirmed));
        const ackFile = join(t.dir, `acks-${round}.txt`);
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        const trigger: Trigger = (['acks', 'flush-start', 'compaction-start'] as const)[round % 3]!;
        const seed = round + 1;
        results.push(await runChild(dataDir, stateFile, ackFile, seed, trigger, 100 + (x % 2500)));
        const acked: Versions = {};
        if (existsSync(ackFile)) {
          for (const line of readFileSync(ackFile, 'utf8').split('\n')) {
            const [k, v] = line.split(' ');
            if (k && v) acked[k] = Number(v);
          }
        }
        const engine = await openLsmEngine({ clock: realClock, dir: dataDir, fs: nodeFileSystem });
        assert.deepEqual(engine.stats().corruptions, [], `round ${round}: recovery reported corruption`);
        const r = verify(engine, { ...cfg, seed }, confirmed, acked);
        confirmed = r.confirmed;
        checks += r.checked;
        await engine.close();
      }
    } finally {
      t.remove();
    }
    const midFlush = results.filter((r) => r.midFlush).length;
    const midCompaction = results.filter((r) => r.midCompaction).length;
    console.log(`# kill -9: ${ROUNDS} rounds, ${checks} key checks, ${midFlush} kills during a flush, ${midCompaction} during a compaction`);
    assert.ok(midFlush >= 2, `kills mid flush: ${midFlush}`);
    assert.ok(midCompaction >= 2, `kills mid compaction: ${midCompaction}`);
  });
});
