import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { drawOptions, describeRun } from '../../src/sim/options.js';
import { Prng } from '../../src/sim/prng.js';
import { runSimulation } from '../../src/sim/run.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** What `npm run sim -- --seed S` prints first (npm itself only adds its banner). */
async function simLine(seed: number): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/sim/main.ts', '--seed', String(seed)], { cwd: root });
  return stdout.split('\n')[0]!;
}

describe('simulator options drawn from the seed', () => {
  it('`sim --seed S` prints the drawn options and the digest on one line, the same line twice', async () => {
    const [a, b] = await Promise.all([simLine(11), simLine(11)]);
    assert.match(a, /^seed=11 nodes=[345](?: dcs=2)? r=\S+ w=\S+ engine=(sim-disk|lsm) skew-ms=\d+ nemesis=crash:[\d.]+,.*clog:[\d.]+.* digest: [0-9a-f]{32}$/);
    assert.equal(a, b);
    const other = await simLine(12);
    assert.notEqual(other.replace(/^seed=12/, ''), a.replace(/^seed=11/, ''));
  });

  it('the line printed is the run the seed reproduces', async () => {
    const r = await runSimulation({ seed: 11 });
    assert.equal(r.line, describeRun(11, r.options, r.digest));
    assert.equal(r.line, await simLine(11));
  });

  it('seeds draw varied options: every node count, both engines, several R and W, skews, clogging', () => {
    const drawn = Array.from({ length: 200 }, (_, seed) => drawOptions(new Prng(seed)));
    assert.deepEqual(new Set(drawn.map((o) => o.nodes)), new Set([3, 4, 5]));
    assert.deepEqual(new Set(drawn.map((o) => o.engine)), new Set(['sim-disk', 'lsm']));
    assert.ok(new Set(drawn.map((o) => String(o.r))).size >= 3);
    assert.ok(new Set(drawn.map((o) => String(o.w))).size >= 3);
    assert.ok(new Set(drawn.map((o) => o.clockSkewMs)).size >= 3);
    assert.ok(drawn.some((o) => o.rates.clog > 0) && drawn.some((o) => o.rates.clog === 0));
  });

  it('about a third of the 4-5-node seeds draw two DCs, with DC-aware R and W; 3-node runs never do', () => {
    const drawn = Array.from({ length: 300 }, (_, seed) => drawOptions(new Prng(seed)));
    const two = drawn.filter((o) => o.dcs === 2);
    const eligible = drawn.filter((o) => o.nodes >= 4).length;
    assert.ok(two.length > eligible / 5 && two.length < eligible / 2, `${two.length} of ${eligible}`);
    assert.ok(two.every((o) => o.nodes >= 4));
    const levels = new Set(two.flatMap((o) => [String(o.r), String(o.w)]));
    for (const l of ['local_quorum', 'local_one', 'each_quorum']) assert.ok(levels.has(l), `${l} is drawn`);
    // Drawn after everything else: the options of one-DC seeds are what they were before DCs.
    const one = drawn.find((o) => o.dcs === 1 && o.nodes >= 4)!;
    assert.ok(!String(one.r).startsWith('local') && !String(one.w).startsWith('local'));
  });

  it('a two-DC run keeps every invariant (nodes alternate between dc1 and dc2; replication {dc1: 2, dc2: 1})', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await runSimulation({ seed, options: { nodes: 4, dcs: 2, r: 'local_quorum', w: 'local_quorum' } });
      assert.match(r.line, /nodes=4 dcs=2 r=local_quorum w=local_quorum /);
      assert.deepEqual(r.violations, [], r.line);
      assert.ok(r.converged && r.acknowledged > 0, r.line);
    }
  });

  it('pinning one option leaves the others as drawn', () => {
    const free = drawOptions(new Prng(5));
    const pinned = drawOptions(new Prng(5), { engine: free.engine === 'lsm' ? 'sim-disk' : 'lsm', rates: { clog: 0.9 } });
    assert.notEqual(pinned.engine, free.engine);
    assert.equal(pinned.rates.clog, 0.9);
    assert.deepEqual({ ...pinned, engine: free.engine, rates: { ...pinned.rates, clog: free.rates.clog } }, free);
  });
});

describe('the simulator covers the wire', () => {
  it('a message the frame codec refuses is a violation, with its seed', async () => {
    // Key states travel in replica-put frames, and gossip's in syn/ack frames; with a 64-byte frame
    // bound they cannot (the cluster never forms: that is reported too).
    const r = await runSimulation({ seed: 3, framePayloadBytesMax: 64, options: { engine: 'sim-disk' } });
    const wire = r.violations.filter((v) => v.invariant === 'wire');
    assert.equal(wire.length, 1, JSON.stringify(r.violations));
    assert.match(wire[0]!.detail, /^[1-9]\d* frames too large to send/);
  });

  it('at the real frame bound nothing is refused', async () => {
    const r = await runSimulation({ seed: 3, options: { engine: 'sim-disk' } });
    assert.deepEqual(r.violations.filter((v) => v.invariant === 'wire'), []);
    assert.ok(r.acknowledged > 0);
  });
});
