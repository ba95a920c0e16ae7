/**
 * Losing a whole data centre on the simulated cluster (the real core and runtime on virtual
 * time, seeded): two DCs of three nodes, `replication` {dc1: 3, dc2: 3}. One DC is crashed or
 * partitioned away; `local_quorum` writes and reads in the other all succeed, `each_quorum`
 * answers insufficient_replicas. After the DC returns and the faults stop, the coordinators'
 * hints for it drain, every replica of every key holds the same state, and the simulator's
 * lost-write checker, judging from what the clients observed, finds nothing. And a replica's
 * stand-in is taken in its own DC while that DC has a healthy node.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from '../../../src/sim/cluster.js';
import { Prng } from '../../../src/sim/prng.js';
import { drainMicrotasks } from '../../../src/sim/virtual-time.js';
import { checkInvariants } from '../../../src/sim/checker.js';
import type { CreatedVersion } from '../../../src/sim/checker.js';
import type { HistoryRecord } from '../../../src/sim/workload.js';
import { preferenceListForKey } from '../../../src/core/ring/index.js';
import { utf8 } from '../../../src/core/bytes.js';
import type { KeyState } from '../../../src/core/clock/state.js';
import type { ClientOp, ClientReply } from '../../../src/core/types.js';

const SETTINGS = {
  n: 6, replication: { dc1: 3, dc2: 3 }, partitions: 64, tickMs: 10, requestTimeoutMs: 300,
  r: 'local_quorum' as const, w: 'local_quorum' as const, maxValueBytes: 1 << 20,
};
const DC1 = ['n0', 'n1', 'n2'];
const DC2 = ['n3', 'n4', 'n5'];

async function runUntil(c: SimCluster, done: () => boolean, maxMs = 120_000): Promise<void> {
  const limit = c.queue.now + maxMs;
  while (!done()) {
    if (c.queue.now > limit || !c.queue.step()) throw new Error('the condition never held');
    await drainMicrotasks();
  }
}

/** A client's view: every operation it ran, as the simulator's checker reads histories. */
class Client {
  readonly history: HistoryRecord[] = [];
  private nextOp = 0;
  constructor(private readonly c: SimCluster) {}

  async run(node: string, op: ClientOp, tag?: string): Promise<ClientReply> {
    const rt = this.c.nodes.find((n) => n.info.nodeId === node)!.runtime!;
    const startMs = this.c.queue.now;
    let out: ClientReply | undefined;
    void rt.submit(op).then((r) => { out = r; });
    await runUntil(this.c, () => out !== undefined);
    const reply = out!;
    const rec: HistoryRecord = {
      opId: this.nextOp++, client: 0, node, kind: op.op, key: op.key, startMs, endMs: this.c.queue.now,
      outcome: reply.ok ? 'ok' : 'error', ...(reply.ok ? {} : { error: reply.error }),
    };
    if (op.op === 'put') Object.assign(rec, { tag, basis: [] });
    if (reply.ok && reply.op === 'get') rec.seen = reply.siblings.map((v) => (v.value === null ? `~${v.contentType}` : v.contentType));
    this.history.push(rec);
    return reply;
  }
}

async function twoDcs(seed: number, created: CreatedVersion[]): Promise<SimCluster> {
  const c = new SimCluster(new Prng(seed), {
    nodes: 6, settings: SETTINGS, engine: 'sim-disk',
    observer: (_node, ev) => {
      if (ev.type === 'version-created') created.push({ key: ev.key, tag: ev.contentType, dot: ev.dot, context: ev.context });
    },
    placement: (i) => ({ dc: i < 3 ? 'dc1' : 'dc2', rack: `r${i % 3}` }),
  });
  c.startAll();
  await runUntil(c, () => c.allUp);
  return c;
}

const idx = (c: SimCluster, id: string): number => c.nodes.findIndex((n) => n.info.nodeId === id);
const pendingHints = (c: SimCluster): number => c.upNodes().reduce((a, n) => a + (n.runtime!.stats()?.hints.pendingTotal ?? 0), 0);

for (const fault of ['crash', 'partition'] as const) {
  describe(`losing a whole data centre (simulator, ${fault})`, () => {
    it('local_quorum keeps serving in the other DC, each_quorum refuses; the DC catches up when it returns', async () => {
      for (const seed of [1, 2]) {
        const created: CreatedVersion[] = [];
        const c = await twoDcs(seed, created);
        const client = new Client(c);
        const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
        for (const key of keys.slice(0, 10)) {
          const r = await client.run('n0', { op: 'put', key, value: utf8(`before-${key}`), contentType: `t-before-${key}` }, `t-before-${key}`);
          assert.equal(r.ok, true, `seed ${seed}: write before the fault: ${JSON.stringify(r)}`);
        }
        if (fault === 'crash') for (const id of DC2) c.crash(idx(c, id));
        else c.network.partition([DC1, DC2]);

        for (const [i, key] of keys.entries()) {
          const via = DC1[i % 3]!;
          const tag = `t-during-${key}`;
          const w = await client.run(via, { op: 'put', key, value: utf8(`during-${key}`), contentType: tag, w: 'local_quorum' }, tag);
          assert.equal(w.ok, true, `seed ${seed}: local_quorum write of ${key} via ${via}: ${JSON.stringify(w)}`);
          const r = await client.run(via, { op: 'get', key, r: 'local_quorum' });
          assert.ok(r.ok && r.op === 'get' && r.siblings.some((v) => v.contentType === tag), `seed ${seed}: local_quorum read of ${key}: ${JSON.stringify(r)}`);
        }
        for (const key of keys.slice(0, 3)) {
          const w = await client.run('n1', { op: 'put', key, value: utf8('each'), contentType: `t-each-${key}`, w: 'each_quorum' }, `t-each-${key}`);
          assert.equal(!w.ok && w.error, 'insufficient_replicas', `seed ${seed}: each_quorum write: ${JSON.stringify(w)}`);
          const r = await client.run('n2', { op: 'get', key, r: 'each_quorum' });
          assert.equal(!r.ok && r.error, 'insufficient_replicas', `seed ${seed}: each_quorum read: ${JSON.stringify(r)}`);
        }
        assert.ok(pendingHints(c) > 0, `seed ${seed}: the coordinators keep hints for the lost DC`);

        if (fault === 'crash') for (const id of DC2) c.restart(idx(c, id));
        else c.network.partition([]);
        await runUntil(c, () => c.allUp && pendingHints(c) === 0);

        const ring = c.nodes[0]!.runtime!.coreRing()!;
        const finalStates = new Map<string, Map<string, KeyState>>();
        for (const key of keys) {
          const owners = preferenceListForKey(ring, utf8(key));
          assert.deepEqual(owners.map((o) => (DC1.includes(o) ? 'dc1' : 'dc2')).sort(), ['dc1', 'dc1', 'dc1', 'dc2', 'dc2', 'dc2']);
          finalStates.set(key, new Map(owners.map((o) => [o, c.nodes[idx(c, o)]!.runtime!.localState(key)!])));
        }
        const violations = checkInvariants({ history: client.history, created, finalStates });
        assert.deepEqual(violations, [], `seed ${seed}: ${JSON.stringify(violations.slice(0, 3))}`);
        for (const key of keys) {
          for (const o of DC2) {
            const s = c.nodes[idx(c, o)]!.runtime!.localState(key)!;
            assert.ok(s.siblings.some((v) => v.contentType === `t-during-${key}`), `seed ${seed}: ${o} holds the write of ${key} made while its DC was away`);
          }
        }
        for (const n of c.nodes) n.runtime?.halt();
      }
    });
  });
}

describe('stand-ins across data centres (simulator)', () => {
  it('a replica\'s stand-in is taken in its own DC while that DC has a healthy node, else in another', async () => {
    for (const seed of [3, 4]) {
      const c = new SimCluster(new Prng(seed), {
        nodes: 6, settings: { ...SETTINGS, n: 4, replication: { dc1: 2, dc2: 2 } }, engine: 'sim-disk',
        placement: (i) => ({ dc: i < 3 ? 'dc1' : 'dc2', rack: `r${i % 3}` }),
      });
      c.startAll();
      await runUntil(c, () => c.allUp);
      const client = new Client(c);
      const owners = preferenceListForKey(c.nodes[0]!.runtime!.coreRing()!, utf8('s'));
      const dc2Replica = owners.find((o) => DC2.includes(o))!;
      const dc2Spare = DC2.find((id) => !owners.includes(id))!;
      const dc1Spare = DC1.find((id) => !owners.includes(id))!;
      const via = owners.find((o) => DC1.includes(o))!;
      const holders = (): string[] => c.upNodes().filter((n) => n.runtime!.localVersions('s').some((v) => v.hintFor === dc2Replica)).map((n) => n.info.nodeId);

      c.crash(idx(c, dc2Replica));
      const w1 = await client.run(via, { op: 'put', key: 's', value: utf8('one'), w: 'quorum' });
      assert.equal(w1.ok, true, JSON.stringify(w1));
      await runUntil(c, () => holders().length > 0);
      assert.deepEqual(holders(), [dc2Spare], `seed ${seed}: the hint for ${dc2Replica} (dc2) is kept in dc2`);

      c.crash(idx(c, dc2Spare));
      const w2 = await client.run(via, { op: 'put', key: 's', value: utf8('two'), w: 'quorum' });
      assert.equal(w2.ok, true, JSON.stringify(w2));
      await runUntil(c, () => holders().length > 0);
      assert.deepEqual(holders(), [dc1Spare], `seed ${seed}: with no healthy dc2 node left to stand in, dc1's spare keeps it`);
      for (const n of c.nodes) n.runtime?.halt();
    }
  });
});
