import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from '../../src/sim/run.js';
import type { SimResult } from '../../src/sim/run.js';
import type { RingChangeKind } from '../../src/sim/ring-change.js';

function problems(r: SimResult): string {
  return `seed ${r.seed}: ${r.converged ? '' : 'did not converge; '}${r.violations.map((v) => `${v.invariant} ${v.key}: ${v.detail}`).join('; ')}`;
}

async function runAll(kind: RingChangeKind, seeds: number[], extra: { crashDuringTransfer?: boolean } = {}): Promise<SimResult[]> {
  const out: SimResult[] = [];
  for (const seed of seeds) out.push(await runSimulation({ seed, ringChange: kind, engine: 'sim-disk', ...extra }));
  return out;
}

describe('simulator: ring changes under concurrent writes and faults', () => {
  for (const kind of ['join', 'leave', 'remove'] as const) {
    it(`${kind}: no acknowledged write is lost and every node ends on the transition's ring`, async () => {
      const runs = await runAll(kind, [1, 2, 3]);
      const failed = runs.filter((r) => r.violations.length > 0 || !r.converged).map(problems);
      assert.deepEqual(failed, []);
      for (const r of runs) assert.ok(r.ringChange?.atMs !== undefined, `seed ${r.seed}: the change was committed`);
      assert.ok(runs.reduce((n, r) => n + r.acknowledged, 0) > 200, 'the workload ran');
      // The checkers above judged the sweep too: nodes dropped the partitions they gave away (in a
      // remove, the node that gives partitions away is down; the others only gain).
      if (kind !== 'remove') assert.ok(runs.some((r) => (r.ringChange?.droppedKeys ?? 0) > 0), `keys dropped: ${runs.map((r) => r.ringChange?.droppedKeys).join(', ')}`);
    });
  }

  it('replace (every founder leaves, as many new nodes join): the data is streamed, none lost', async () => {
    const runs = await runAll('replace', [1, 2]);
    assert.deepEqual(runs.filter((r) => r.violations.length > 0 || !r.converged).map(problems), []);
    assert.ok(runs.every((r) => (r.ringChange?.streamedKeys ?? 0) > 0), 'keys were streamed');
  });

  it('a receiver or source crashed during the transfer: it resumes and completes', async () => {
    const runs = [...await runAll('join', [5, 6], { crashDuringTransfer: true }), ...await runAll('leave', [5, 6], { crashDuringTransfer: true })];
    assert.deepEqual(runs.filter((r) => r.violations.length > 0 || !r.converged).map(problems), []);
  });

  it('the same seed gives the same digest with a ring change', async () => {
    const a = await runSimulation({ seed: 9, ringChange: 'leave', engine: 'sim-disk' });
    const b = await runSimulation({ seed: 9, ringChange: 'leave', engine: 'sim-disk' });
    assert.equal(a.digest, b.digest);
    assert.equal(a.line, b.line);
  });

  it('the checkers catch a transfer that drops what it receives', async () => {
    let caught = false;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const r = await runSimulation({ seed, ringChange: 'replace', engine: 'sim-disk', transferBug: 'drop-chunks' });
      caught = r.violations.some((v) => v.invariant === 'lost-write');
      if (caught) break;
    }
    assert.ok(caught, 'a lost write is reported');
  });

  it('the checkers catch a put path without dual writes', async () => {
    let caught = false;
    for (const seed of [5, 6, 1, 2]) {
      const r = await runSimulation({ seed, ringChange: 'replace', engine: 'sim-disk', transferBug: 'no-dual-writes' });
      caught = r.violations.some((v) => v.invariant === 'lost-write');
      if (caught) break;
    }
    assert.ok(caught, 'a lost write is reported');
  });
});
