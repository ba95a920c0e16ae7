/**
 * Tombstone purge end to end, through real compactions: three simulated nodes on the LSM engine
 * (tiny memtables, so flushes and compactions run throughout) whose compactions ask the node
 * whether a stored tombstone may be dropped, as `gossamer start` wires it. A delete that one
 * replica missed (it was down) must survive every compaction at the others however long after
 * the grace; once that replica is back and exchanges have confirmed the tombstone everywhere,
 * compactions drop it at every replica; and the deleted values never come back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from '../../../src/sim/cluster.js';
import { Prng } from '../../../src/sim/prng.js';
import { drainMicrotasks } from '../../../src/sim/virtual-time.js';
import { utf8 } from '../../../src/core/bytes.js';
import { dataKeyFromBytes } from '../../../src/core/keys.js';
import { keyHash } from '../../../src/core/ring/index.js';

const SETTINGS = { n: 3, partitions: 8, tickMs: 10, requestTimeoutMs: 300, r: 'quorum' as const, w: 'quorum' as const, maxValueBytes: 1 << 20 };
const GRACE_MS = 3_000;
const DELETED = Array.from({ length: 10 }, (_, i) => `gone-${i}`);
const KEPT = Array.from({ length: 10 }, (_, i) => `kept-${i}`);

async function runUntil(c: SimCluster, done: () => boolean, maxMs = 120_000): Promise<void> {
  const limit = c.queue.now + maxMs;
  while (!done()) {
    if (c.queue.now > limit || !c.queue.step()) throw new Error('the condition never held');
    await drainMicrotasks();
  }
}

async function op(c: SimCluster, node: number, o: Parameters<NonNullable<SimCluster['nodes'][number]['runtime']>['submit']>[0]) {
  const p = c.nodes[node]!.runtime!.submit(o);
  let reply: Awaited<typeof p> | undefined;
  void p.then((r) => { reply = r; });
  await runUntil(c, () => reply !== undefined);
  return reply!;
}

/** What node i's engine stores for `key` (undefined once purged; bytes of the state otherwise). */
function stored(c: SimCluster, i: number, key: string): Uint8Array | undefined {
  const k = utf8(key);
  return c.nodes[i]!.engine!.get(dataKeyFromBytes(k, keyHash(k)));
}

/** Writes filler keys through node `via` so memtables flush and compactions run (and reach the bottom). */
async function churn(c: SimCluster, via: number, round: number): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const r = await op(c, via, { op: 'put', key: `fill-${round}-${i}`, value: new Uint8Array(200).fill(i), w: 'quorum' });
    assert.equal(r.ok, true);
  }
}

const purged = (c: SimCluster, i: number): number => c.nodes[i]!.runtime!.stats()!.antiEntropy.tombstonesPurged;

async function repairAll(c: SimCluster, nodes: readonly number[]): Promise<void> {
  for (const i of nodes) assert.ok(c.nodes[i]!.runtime!.repair(), 'repair starts');
  await runUntil(c, () => nodes.every((i) => c.nodes[i]!.runtime!.repairProgress()?.running === false));
}

describe('tombstone purge through real LSM compactions', () => {
  it('a tombstone is dropped only once every replica holds it, and the deleted value does not come back', async () => {
    const c = new SimCluster(new Prng(11), {
      nodes: 3, settings: SETTINGS, engine: 'lsm', purgeTombstones: true,
      antiEntropy: { tombstoneGraceMs: GRACE_MS, intervalTicks: 1_000_000 }, // exchanges only on demand
    });
    c.startAll();
    await runUntil(c, () => c.allUp);
    for (const key of [...DELETED, ...KEPT]) {
      assert.equal((await op(c, 0, { op: 'put', key, value: utf8(`v-${key}`), w: 'all' })).ok, true);
    }
    // Node 2 is down while the keys are deleted (N=3 on three nodes: no stand-in, no hint).
    c.crash(2);
    for (const key of DELETED) {
      const read = await op(c, 0, { op: 'get', key, r: 'quorum' });
      assert.ok(read.ok && read.op === 'get');
      assert.equal((await op(c, 0, { op: 'put', key, value: null, context: read.context, w: 2 })).ok, true);
    }
    // Long past the grace, with compactions running at nodes 0 and 1 and exchanges between them:
    // node 2 never confirmed, so nothing may be purged.
    const past = c.queue.now + 2 * GRACE_MS;
    await runUntil(c, () => c.queue.now > past);
    await repairAll(c, [0, 1]);
    for (let round = 0; round < 3; round++) await churn(c, round % 2, round);
    const compactionsBefore = c.storageEvents.compactions;
    assert.ok(compactionsBefore > 10, `compactions ran (${compactionsBefore})`);
    for (const i of [0, 1]) {
      assert.equal(purged(c, i), 0, `node ${i} purged a tombstone node 2 does not hold`);
      for (const key of DELETED) assert.ok(stored(c, i, key) !== undefined, `node ${i} still stores ${key}'s tombstone`);
    }

    // Node 2 returns still holding the old values; repair brings it the tombstones, and a later
    // round of exchanges confirms them at every replica.
    c.restart(2);
    await runUntil(c, () => c.allUp && c.nodes.every((n) => n.runtime!.treeRoots() !== undefined));
    await repairAll(c, [0, 1, 2]);
    for (const key of DELETED) {
      const s = c.nodes[2]!.runtime!.localState(key)!;
      assert.ok(s.siblings.length > 0 && s.siblings.every((v) => v.value === null), `node 2 got ${key}'s tombstone`);
    }
    const graceAgain = c.queue.now + GRACE_MS + 100;
    await runUntil(c, () => c.queue.now > graceAgain);
    await repairAll(c, [0, 1, 2]);
    for (let round = 3; round < 40 && ![0, 1, 2].every((i) => DELETED.every((key) => stored(c, i, key) === undefined)); round++) {
      await churn(c, round % 3, round);
    }
    for (const i of [0, 1, 2]) {
      for (const key of DELETED) assert.equal(stored(c, i, key), undefined, `node ${i} dropped ${key}'s tombstone`);
      assert.ok(purged(c, i) >= DELETED.length, `node ${i} counted its purges (${purged(c, i)})`);
      for (const key of KEPT) assert.ok(stored(c, i, key) !== undefined, `node ${i} keeps ${key}`);
    }
    // No resurrection: reads from every node find the deleted keys absent, repairs included.
    await repairAll(c, [0, 1, 2]);
    for (const key of DELETED) {
      for (const i of [0, 1, 2]) {
        const read = await op(c, i, { op: 'get', key, r: 'all' });
        assert.ok(read.ok && read.op === 'get');
        assert.ok(read.siblings.every((v) => v.value === null), `${key} came back at node ${i}`);
      }
    }
    for (const key of KEPT) {
      const read = await op(c, 2, { op: 'get', key, r: 'all' });
      assert.ok(read.ok && read.op === 'get' && read.siblings.length === 1 && read.siblings[0]!.value !== null);
    }
    for (const n of c.nodes) n.runtime!.halt();
  });
});
