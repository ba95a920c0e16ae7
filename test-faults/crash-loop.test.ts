/**
 * The crash loop (issue 15, item 4): five `gossamer start` nodes on loopback under a steady write
 * load (four clients: puts with and without contexts, deletes), while one node at a time is killed
 * with SIGKILL and restarted on the same data and ports, 50 times (GOSSAMER_CRASH_LOOPS=N: N). After
 * each restart the node must serve: /health answers 200 and a write through it is acknowledged
 * within 60 s (generous: on the loaded 2-core machine a node process alone once took 14 s to
 * start). At the end the cluster heals and check.ts judges the whole history: no acknowledged
 * write lost (nor any other rule broken), replicas converged, no hint pending.
 *
 * Runs without root (loopback). GOSSAMER_FAULT_SEED=<n> repeats its choices.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../test/cluster/helpers.js';
import type { CheckStats, OpRecord } from './check.js';
import { checkHistory, excerpt, prng } from './check.js';
import { decodeContextToken } from '../src/core/clock/context.js';
import { FaultCluster } from './fault-cluster.js';
import { SIZE, client, heal, send } from './run.js';

const LOOPS = Number(process.env.GOSSAMER_CRASH_LOOPS ?? 50);
// Generous: on a loaded 2-core machine a node process alone has taken 14 s to start.
const SERVE_WITHIN_MS = 60_000;

describe(`crash loop: SIGKILL and restart a node ${LOOPS} times under write load`, { timeout: 15 * 60_000 }, () => {
  let c: FaultCluster | undefined;
  let failed = true;
  after(async () => {
    if (failed && c) process.stderr.write(`node logs (tails):\n${c.logs()}\n`);
    await c?.destroy();
  });

  it('after each restart the node serves, and no acknowledged write is lost', async () => {
    const seed = process.env.GOSSAMER_FAULT_SEED ? Number(process.env.GOSSAMER_FAULT_SEED) : (Date.now() ^ (process.pid << 12)) >>> 0;
    console.log(`# crash loop seed ${seed} (GOSSAMER_FAULT_SEED=${seed} repeats its choices)`);
    const rand = prng(seed);
    const cluster = await FaultCluster.create(SIZE, ['--partitions', '64', '--request-timeout-ms', '1000']);
    c = cluster;
    for (let i = 0; i < SIZE; i++) cluster.start(i);
    for (let i = 0; i < SIZE; i++) await cluster.waitHealthy(i);
    const keys = ['loop-0', 'loop-1', 'loop-2', 'loop-3'];
    const history: OpRecord[] = [];
    const state = { nextId: 1 };
    const t0 = Date.now();
    let done = false;
    const mix = { deleteRate: 0.15, maxOps: Number.MAX_SAFE_INTEGER, done: () => done };
    const clients = Array.from({ length: 4 }, (_, i) => client(cluster, history, keys, state, t0, Number.MAX_SAFE_INTEGER, mix, i, prng(Math.floor(rand() * 2 ** 32))));
    const serveMs: number[] = [];
    const healthyMs: number[] = [];
    try {
      for (let k = 0; k < LOOPS; k++) {
        const v = Math.floor(rand() * SIZE);
        await sleep(100 + rand() * 400);
        const e = await cluster.stop(v, 'SIGKILL');
        assert.equal(e.signal, 'SIGKILL', `n${v} should have died of SIGKILL: ${JSON.stringify(e)}`);
        const killedAt = Date.now();
        cluster.start(v);
        await cluster.waitHealthy(v, SERVE_WITHIN_MS);
        healthyMs.push(Date.now() - killedAt);
        // It serves: a write through it is acknowledged (a blind put, checked with the rest).
        let probe: OpRecord | undefined;
        while (Date.now() - killedAt < SERVE_WITHIN_MS) {
          probe = await send(cluster, history, state, t0, 99, v, 'put', keys[k % keys.length]!, `probe-${k}`, undefined, []);
          if (probe.outcome === 'ok') break;
          await sleep(100);
        }
        assert.equal(probe?.outcome, 'ok', `loop ${k}: n${v} restarted but did not acknowledge a write within ${SERVE_WITHIN_MS} ms: ${JSON.stringify(probe)}`);
        serveMs.push(Date.now() - killedAt);
      }
    } finally {
      done = true;
      await Promise.all(clients);
    }
    const { finals, healErrors, rounds, converged } = await heal(cluster, keys);
    const stats: CheckStats = { superseded: 0, present: 0, tombstone: 0 };
    const violations = checkHistory(history, finals, stats);
    if (converged !== undefined) violations.push({ invariant: 'convergence', key: '*', detail: `not converged after ${rounds} rounds: ${converged}`, ops: [] });
    const writes = history.filter((o) => o.kind !== 'get');
    const acknowledged = writes.filter((o) => o.outcome === 'ok').length;
    // How large the keys' contexts grew (each restart starts new forward actors): pruning past
    // the soft bound waits for entries to age, so this is what clients carried.
    const widest = Math.max(0, ...history.map((o) => (o.returned ? decodeContextToken(o.returned).clock.length : 0)));
    const sorted = [...serveMs].sort((a, b) => a - b);
    const healthy = [...healthyMs].sort((a, b) => a - b);
    console.log(`# crash loop: ${LOOPS} kills, ${history.length} ops, ${acknowledged}/${writes.length} writes acknowledged ` +
      `(${stats.superseded} superseded, ${stats.present} present, ${stats.tombstone} tombstones), kill to /health 200 median ${healthy[Math.floor(healthy.length / 2)]} ms, ` +
      `kill to an acknowledged write through it median ${sorted[Math.floor(sorted.length / 2)]} ms, ` +
      `max ${sorted[sorted.length - 1]} ms, widest context ${widest} clock entries, ${violations.length} violations, workload ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.deepEqual(cluster.exits.filter((e) => !e.expected), [], `nodes exited without being killed\n${cluster.logs()}`);
    assert.deepEqual(healErrors, [], 'read repair requests failed');
    const report = violations.map((x) => `${x.invariant} on ${x.key}: ${x.detail}\n${excerpt(history, x)}`).join('\n\n');
    assert.deepEqual(violations.map((x) => `${x.invariant} ${x.key}: ${x.detail}`), [], `seed ${seed}\n${report}`);
    assert.ok(acknowledged > LOOPS * 2, `too few acknowledged writes (${acknowledged})`);
    failed = false;
  });
});
