/**
 * The simulator (real core and runtime, simulated network and disks): a change staged and
 * committed at one node reaches every node within a few ticks, by ring-push alone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from '../../../src/sim/cluster.js';
import { Prng } from '../../../src/sim/prng.js';
import { runFor, runUntil } from '../../../src/sim/run.js';
import type { AdminReply } from '../../../src/runtime/ring-admin.js';

const TICK_MS = 10;

async function settle<T>(cluster: SimCluster, p: Promise<T>): Promise<T> {
  let done: { v: T } | undefined;
  void p.then((v) => { done = { v }; });
  await runUntil(cluster, () => done !== undefined);
  return done!.v;
}

describe('ring-push in the simulator', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: staging and commit at one node spread to every node within a few ticks`, async () => {
      const cluster = new SimCluster(new Prng(seed), {
        nodes: 5,
        settings: { n: 3, partitions: 64, tickMs: TICK_MS, requestTimeoutMs: 300, maxValueBytes: 1 << 20, r: 'quorum', w: 'quorum' },
      });
      cluster.startAll();
      await runUntil(cluster, () => cluster.allUp && cluster.nodes.every((n) => n.runtime!.isServing()));
      const rt = (i: number) => cluster.nodes[i]!.runtime!;
      const versions = (): number[] => cluster.nodes.map((n) => n.runtime!.ringState()!.version);
      assert.deepEqual(versions(), [1, 1, 1, 1, 1]);

      const staged: AdminReply = await settle(cluster, rt(0).admin({ op: 'stage-remove', nodeId: 'n4' }));
      assert.equal(staged.ok, true, JSON.stringify(staged));
      const t0 = cluster.queue.now;
      await runUntil(cluster, () => versions().every((v) => v === 2));
      assert.ok(cluster.queue.now - t0 <= 3 * TICK_MS, `the staged change reached every node in ${cluster.queue.now - t0} ms`);
      for (let i = 0; i < 5; i++) assert.deepEqual(rt(i).ringState()!.staged.map((c) => `${c.kind} ${c.nodeId}`), ['remove n4']);

      const committed = await settle(cluster, rt(0).admin({ op: 'commit' }));
      assert.equal(committed.ok, true, JSON.stringify(committed));
      const t1 = cluster.queue.now;
      await runUntil(cluster, () => versions().every((v) => v === 3));
      assert.ok(cluster.queue.now - t1 <= 3 * TICK_MS, `the commit reached every node in ${cluster.queue.now - t1} ms`);
      const states = cluster.nodes.map((n) => n.runtime!.ringState()!);
      for (const s of states) {
        assert.deepEqual(s.transition?.members, ['n0', 'n1', 'n2', 'n3']);
        assert.deepEqual(s.transition?.owners, states[0]!.transition!.owners);
        assert.equal(s.staged.length, 0);
      }
      // Within 3 ticks only a push can have brought them (gossip's interval is 1 s): every other node
      // installed at least one document from a push (the other may have come with the transfer's own push).
      for (let i = 1; i < 5; i++) assert.ok(cluster.nodes[i]!.runtime!.stats()!.ringAdmin.pushesInstalled >= 1, `n${i}`);
      // n4 is shown leaving everywhere during the transition; the cluster keeps serving.
      for (let i = 0; i < 5; i++) assert.equal(rt(i).members().find((m) => m.nodeId === 'n4')?.state, 'leaving');
      const put = await settle(cluster, rt(2).submit({ op: 'put', key: 'k', value: new Uint8Array([1]) }));
      assert.equal(put.ok, true);
      await runFor(cluster, 50);
      for (const n of cluster.nodes) n.runtime?.halt();
    });
  }
});
