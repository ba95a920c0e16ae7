/**
 * Sloppy quorum and hinted handoff on the simulated cluster (the real core and runtime on
 * virtual time, seeded): two of a key's three replicas crash, writes at W=2 still succeed on
 * stand-ins (and fail under strict quorum), the hints are delivered and deleted when the
 * replicas return, and each owner alone then holds every acknowledged write. A crashed stand-in
 * still delivers its hints after it restarts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from '../../../src/sim/cluster.js';
import type { SimEngineKind } from '../../../src/sim/cluster.js';
import { Prng } from '../../../src/sim/prng.js';
import { drainMicrotasks } from '../../../src/sim/virtual-time.js';
import { preferenceListForKey } from '../../../src/core/ring/index.js';
import { utf8 } from '../../../src/core/bytes.js';
import type { ClientReply } from '../../../src/core/types.js';
import type { NodeRuntime } from '../../../src/runtime/node-runtime.js';

const SETTINGS = { n: 3, partitions: 64, tickMs: 10, requestTimeoutMs: 300, r: 'quorum' as const, w: 'quorum' as const, maxValueBytes: 1 << 20 };

async function runUntil(c: SimCluster, done: () => boolean, maxMs = 60_000): Promise<void> {
  const limit = c.queue.now + maxMs;
  while (!done()) {
    if (c.queue.now > limit || !c.queue.step()) throw new Error('the condition never held');
    await drainMicrotasks();
  }
}

/** Runs a request to completion on virtual time. */
async function call(c: SimCluster, rt: NodeRuntime, op: Parameters<NodeRuntime['submit']>[0]): Promise<ClientReply> {
  let out: ClientReply | undefined;
  void rt.submit(op).then((r) => { out = r; });
  await runUntil(c, () => out !== undefined);
  return out!;
}

async function startCluster(seed: number, engine: SimEngineKind = 'sim-disk'): Promise<SimCluster> {
  const c = new SimCluster(new Prng(seed), { nodes: 5, settings: SETTINGS, engine });
  c.startAll();
  await runUntil(c, () => c.allUp);
  return c;
}

const idx = (c: SimCluster, id: string): number => c.nodes.findIndex((n) => n.info.nodeId === id);
const owners = (c: SimCluster, key: string): readonly string[] => preferenceListForKey(c.nodes[0]!.runtime!.coreRing()!, utf8(key));
const pendingHints = (c: SimCluster): number => c.upNodes().reduce((a, n) => a + (n.runtime!.stats()?.hints.pendingTotal ?? 0), 0);
const holds = (c: SimCluster, id: string, key: string, value: string): boolean =>
  c.nodes[idx(c, id)]!.runtime!.localState(key)!.siblings.some((v) => v.value !== null && Buffer.from(v.value).toString() === value);

for (const engine of ['sim-disk', 'lsm'] as const) {
  describe(`sloppy quorum and hinted handoff (simulator, ${engine})`, () => {
    it('two of three replicas down: W=2 writes succeed on stand-ins, strict ones fail; hints come home and are deleted', async () => {
      for (const seed of [1, 2, 3]) {
        const c = await startCluster(seed, engine);
        const [first, second, third] = owners(c, 'k0');
        c.crash(idx(c, first!));
        c.crash(idx(c, second!));
        const via = c.nodes[idx(c, third!)]!.runtime!;
        const written = new Map<string, string>();
        for (let i = 0; i < 40; i++) {
          const key = `k${i}`;
          const reply = await call(c, via, { op: 'put', key, value: utf8(`v${i}`), w: 2 });
          assert.equal(reply.ok, true, `seed ${seed}: sloppy W=2 write of ${key}: ${JSON.stringify(reply)}`);
          written.set(key, `v${i}`);
        }
        const strict = await call(c, via, { op: 'put', key: 'k0', value: utf8('strict'), w: 2, quorum: 'strict' });
        assert.equal(strict.ok, false);
        assert.equal(!strict.ok && strict.error, 'insufficient_replicas');
        assert.ok(pendingHints(c) > 0, 'stand-ins hold hints for the crashed replicas');
        const held = c.upNodes().flatMap((n) => n.runtime!.localVersions('k0').filter((v) => v.hintFor !== null).map((v) => v.hintFor));
        assert.ok(held.includes(first!) && held.includes(second!), `k0 is held for both crashed replicas: ${held.join(',')}`);

        c.restart(idx(c, first!));
        c.restart(idx(c, second!));
        await runUntil(c, () => c.allUp && pendingHints(c) === 0);
        const delivered = c.nodes.reduce((a, n) => a + (n.runtime!.stats()?.hints.delivered ?? 0), 0);
        assert.ok(delivered > 0);
        for (const [key, value] of written) {
          for (const o of owners(c, key)) assert.ok(holds(c, o, key, value), `seed ${seed}: ${o} holds ${key}=${value} on its own`);
          const read = await call(c, c.nodes[idx(c, first!)]!.runtime!, { op: 'get', key, r: 'all' });
          assert.ok(read.ok && read.op === 'get' && read.siblings.some((v) => Buffer.from(v.value ?? []).toString() === value));
        }
        for (const n of c.nodes) n.runtime?.halt();
      }
    });

    it('a stand-in that crashes holding hints delivers them after it restarts', async () => {
      const c = await startCluster(11, engine);
      const [first, second, third] = owners(c, 'x');
      c.crash(idx(c, first!));
      c.crash(idx(c, second!));
      const via = c.nodes[idx(c, third!)]!.runtime!;
      for (let i = 0; i < 20; i++) {
        const reply = await call(c, via, { op: 'put', key: 'x', value: utf8(`x${i}`), w: 2 });
        assert.equal(reply.ok, true);
      }
      const standIns = c.upNodes().filter((n) => (n.runtime!.stats()?.hints.pendingTotal ?? 0) > 0).map((n) => n.info.nodeId);
      assert.ok(standIns.length > 0);
      for (const s of standIns) c.crash(idx(c, s));
      c.restart(idx(c, first!));
      c.restart(idx(c, second!));
      for (const s of standIns) c.restart(idx(c, s));
      await runUntil(c, () => c.allUp);
      assert.ok(pendingHints(c) > 0, 'the restarted stand-ins found their hints on disk');
      await runUntil(c, () => pendingHints(c) === 0);
      for (let i = 0; i < 20; i++) for (const o of [first!, second!]) assert.ok(holds(c, o, 'x', `x${i}`), `${o} holds x${i}`);
      for (const n of c.nodes) n.runtime?.halt();
    });
  });
}
