/**
 * Failure detection in the simulator: the real core and runtime on virtual time, liveness judged
 * from what each node's `/cluster` view (runtime.members()) says. A crashed node must be faulty
 * everywhere within 3 s at a 1 s gossip interval; 5% message loss must convict nobody in 10
 * simulated minutes — and a build without indirect probes that convicts on one suspicion must.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from '../../../src/sim/cluster.js';
import type { SimClusterOptions } from '../../../src/sim/cluster.js';
import { Prng } from '../../../src/sim/prng.js';
import { runFor, runUntil } from '../../../src/sim/run.js';
import type { GossipSettings } from '../../../src/core/membership/gossip-constants.js';

function cluster(seed: number, nodes: number, gossip?: Partial<GossipSettings>): SimCluster {
  const opts: SimClusterOptions = {
    nodes,
    settings: { n: 3, partitions: 16, tickMs: 10, requestTimeoutMs: 300, r: 'quorum', w: 'quorum', maxValueBytes: 1 << 20, gossipIntervalMs: 1000 },
    engine: 'sim-disk',
    ...(gossip ? { gossip } : {}),
  };
  return new SimCluster(new Prng(seed), opts);
}

const stateAt = (c: SimCluster, at: number, of: string): string | undefined =>
  c.nodes[at]!.runtime?.members().find((m) => m.nodeId === of)?.state;

/** Faulty transitions every node made (its own count: what it concluded, not what it heard). */
const convictions = (c: SimCluster): number =>
  c.nodes.reduce((sum, n) => sum + (n.runtime?.stats()?.membership?.transitions.faulty ?? 0), 0);

async function started(seed: number, nodes: number, gossip?: Partial<GossipSettings>): Promise<SimCluster> {
  const c = cluster(seed, nodes, gossip);
  c.startAll();
  await runUntil(c, () => c.allUp);
  await runFor(c, 3000); // every node heard from every other
  assert.ok(c.allSeeAllAlive(), 'all alive before the test');
  return c;
}

describe('failure detection (simulator, 1 s gossip interval)', () => {
  it('a crashed node is faulty at every other node within 3 s, and alive again after its restart', async () => {
    const worst: number[] = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = await started(seed, 5);
      const victim = seed % 5;
      const id = `n${victim}`;
      await runFor(c, 137 * seed); // crash at some point within a round
      const t0 = c.queue.now;
      c.crash(victim);
      const others = [0, 1, 2, 3, 4].filter((i) => i !== victim);
      while (!others.every((i) => stateAt(c, i, id) === 'faulty') && c.queue.now - t0 < 10_000) await runFor(c, 10);
      const took = c.queue.now - t0;
      worst.push(took);
      assert.ok(took <= 3000, `seed ${seed}: ${id} faulty everywhere only after ${took} ms`);
      // Faulty members leave the routing but keep their partitions.
      assert.ok(c.nodes[others[0]!]!.runtime!.ring()!.owners.includes(id));
      c.restart(victim);
      const t1 = c.queue.now;
      while (!others.every((i) => stateAt(c, i, id) === 'alive') && c.queue.now - t1 < 10_000) await runFor(c, 10);
      assert.ok(c.queue.now - t1 <= 3000, `seed ${seed}: ${id} alive again only after ${c.queue.now - t1} ms`);
      for (const n of c.nodes) n.runtime?.halt();
    }
    console.log(`crash → faulty everywhere: ${worst.join(', ')} ms (5 seeds, 5 nodes, 1 s interval)`);
  });

  const lossy = async (seed: number, gossip?: Partial<GossipSettings>): Promise<number> => {
    const c = await started(seed, 5, gossip);
    c.network.faults = { minLatencyMs: 1, maxLatencyMs: 3, dropRate: 0.05, duplicateRate: 0 };
    await runFor(c, 600_000);
    const n = convictions(c);
    const m = c.nodes.map((x) => x.runtime!.stats()!.membership!);
    const sum = (f: (s: typeof m[number]) => number): number => m.reduce((a, s) => a + f(s), 0);
    console.log(`5% loss, 10 min${gossip ? ' (broken build)' : ''}: ${sum((s) => s.probes)} probes, ${sum((s) => s.indirect)} indirect, ` +
      `${sum((s) => s.unanswered)} unanswered, ${sum((s) => s.transitions.suspect)} suspicions, ${n} convictions`);
    for (const node of c.nodes) node.runtime?.halt();
    return n;
  };

  it('with 5% message loss and no crash, no node is convicted in 10 simulated minutes', async () => {
    assert.equal(await lossy(11), 0);
  });

  it('the same check fails on a build without indirect probes that convicts on one suspicion', async () => {
    const n = await lossy(11, { indirect: false, convictAt: 1 });
    assert.ok(n > 0, 'the broken detector convicted nobody: the check above would prove nothing');
  });
});
