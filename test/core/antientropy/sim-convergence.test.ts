/**
 * Anti-entropy on the simulated cluster (the real core and runtime on virtual time, seeded): a
 * workload runs under the nemesis (crashes, partitions, lossy and clogged links), then one node's
 * disk is wiped; once faults stop, `repair` at every node — and no reads — must bring every
 * replica of every partition to identical roots and identical key states, and the simulator's
 * lost-write checker must find nothing missing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from '../../../src/sim/cluster.js';
import type { SimEngineKind } from '../../../src/sim/cluster.js';
import { Prng } from '../../../src/sim/prng.js';
import { drainMicrotasks } from '../../../src/sim/virtual-time.js';
import { Nemesis } from '../../../src/sim/nemesis.js';
import { Workload } from '../../../src/sim/workload.js';
import { drawOptions } from '../../../src/sim/options.js';
import { SimDisk } from '../../../src/sim/sim-disk.js';
import { MemoryDisk } from '../../../src/storage/fs/memory-fs.js';
import type { CreatedVersion } from '../../../src/sim/checker.js';
import { checkInvariants } from '../../../src/sim/checker.js';
import type { KeyState } from '../../../src/core/clock/state.js';
import { encodeState } from '../../../src/core/clock/state.js';
import { preferenceList, preferenceListForKey } from '../../../src/core/ring/index.js';
import { utf8 } from '../../../src/core/bytes.js';

const SETTINGS = { n: 3, partitions: 64, tickMs: 10, requestTimeoutMs: 300, r: 'quorum' as const, w: 'quorum' as const, maxValueBytes: 1 << 20 };

async function runUntil(c: SimCluster, done: () => boolean, maxMs = 120_000): Promise<void> {
  const limit = c.queue.now + maxMs;
  while (!done()) {
    if (c.queue.now > limit || !c.queue.step()) throw new Error('the condition never held');
    await drainMicrotasks();
  }
}

async function scenario(seed: number, engine: SimEngineKind): Promise<void> {
  const rng = new Prng(seed);
  const options = drawOptions(rng.fork(), { nodes: 4, engine });
  const created: CreatedVersion[] = [];
  const c = new SimCluster(rng.fork(), {
    nodes: 4, settings: SETTINGS, engine,
    observer: (_n, ev) => { if (ev.type === 'version-created') created.push({ key: ev.key, tag: ev.contentType, dot: ev.dot, context: ev.context }); },
  });
  const workload = new Workload(c, rng.fork(), {
    clients: 4, opsPerClient: 25, keys: 24, blindRate: 0.2, deleteRate: 0.15, readRate: 0.2, clientTimeoutMs: 800, maxThinkMs: 30,
  });
  c.startAll();
  await runUntil(c, () => c.allUp);
  const nemesis = new Nemesis(c, rng.fork(), options.rates);
  nemesis.start();
  let finished = false;
  void workload.start().then(() => { finished = true; });
  await runUntil(c, () => finished);
  nemesis.stop();
  // Faults stop; node 3's disk is wiped (it comes back empty), and every node restarts.
  c.network.heal();
  c.crash(3);
  c.nodes[3]!.disk = new SimDisk();
  c.nodes[3]!.lsmDisk = new MemoryDisk({ seed: seed, schedule: (complete) => c.queue.schedule(0.1, complete) });
  for (let i = 0; i < c.nodes.length; i++) c.restart(i);
  await runUntil(c, () => c.allUp && c.nodes.every((n) => n.runtime!.treeRoots() !== undefined));

  // (Hints held for node 3 may have come home already; the rest is anti-entropy's work.)
  const node3Before = c.nodes[3]!.runtime!.stats()!.antiEntropy.treeKeys;
  const heldBefore = c.nodes.map((n) => n.runtime!.stats()!.antiEntropy.treeKeys);
  assert.ok(heldBefore.some((k) => k > 0));
  for (const n of c.nodes) assert.ok(n.runtime!.repair(), 'repair starts');
  await runUntil(c, () => c.nodes.every((n) => n.runtime!.repairProgress()?.running === false));
  // A second round settles what the first round's concurrent exchanges left (they are joins).
  for (const n of c.nodes) n.runtime!.repair();
  await runUntil(c, () => c.nodes.every((n) => n.runtime!.repairProgress()?.running === false));

  const ring = c.nodes[0]!.runtime!.coreRing()!;
  const rt = (id: string) => c.nodes.find((n) => n.info.nodeId === id)!.runtime!;
  for (let p = 0; p < ring.partitionCount; p++) {
    const roots = preferenceList(ring, p).map((id) => rt(id).treeRoots()![p]);
    assert.equal(new Set(roots).size, 1, `seed ${seed}: partition ${p} roots differ: ${roots.join(',')}`);
  }
  const finalStates = new Map<string, Map<string, KeyState>>();
  for (const key of workload.keys) {
    const replicas = preferenceListForKey(ring, utf8(key));
    const states = new Map(replicas.map((id) => [id, rt(id).localState(key)!]));
    const enc = [...states.values()].map((s) => Buffer.from(encodeState(s)).toString('hex'));
    assert.equal(new Set(enc).size, 1, `seed ${seed}: ${key} differs across its replicas`);
    finalStates.set(key, states);
  }
  const repaired = c.nodes.reduce((a, n) => a + n.runtime!.stats()!.antiEntropy.keysRepaired, 0);
  assert.ok(repaired > 0, 'the exchanges repaired keys');
  assert.ok(c.nodes[3]!.runtime!.stats()!.antiEntropy.treeKeys > node3Before, `node 3 got keys back (${node3Before} before)`);
  const violations = checkInvariants({ history: workload.history, created, finalStates });
  assert.deepEqual(violations, [], `seed ${seed}: ${JSON.stringify(violations.slice(0, 3))}`);
  assert.ok(workload.history.some((r) => r.outcome === 'ok'), 'some writes were acknowledged');
  for (const n of c.nodes) n.runtime!.halt();
}

describe('anti-entropy converges replicas on the simulator', () => {
  for (const engine of ['sim-disk', 'lsm'] as const) {
    it(`${engine}: after faults and a wiped disk, repair alone makes roots and states identical; no write lost`, async () => {
      for (const seed of [1, 2, 3, 4]) await scenario(seed, engine);
    });
  }
});
