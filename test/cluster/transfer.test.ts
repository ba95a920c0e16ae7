/**
 * `leave` of a node under a write load, with four real `gossamer start` processes (N=3, Q=64):
 * writers keep writing fresh keys through every node while the leaving node's partitions are
 * streamed to their new replicas; once every node is on the new ring, every acknowledged write
 * is read back (quorum) and the node that left says so in its log.
 *
 * The change goes through the operator's routes (`POST /admin/leave` at n3, `POST /admin/commit`,
 * what `gossamer leave` and `gossamer commit` send); the test computes the ring it must lead to
 * (the cluster's first document, from what `/cluster` reports, and `rebalance` without n3) to
 * check every node ends on it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../api/http-client.js';
import { TestCluster, sleep } from './helpers.js';
import type { MemberInfo } from '../../src/core/membership/index.js';
import { firstClusterMeta, ringOf } from '../../src/core/membership/index.js';
import { rebalance } from '../../src/core/ring/index.js';

const Q = 64;

describe('partition transfer across four real processes: leave under a write load', { timeout: 240_000 }, () => {
  let c: TestCluster;
  const port = (i: number): number => c.nodes[i]!.httpPort;

  async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${c.logs().slice(-6000)}`);
      await sleep(100);
    }
  }

  before(async () => {
    c = await TestCluster.create({ size: 4, extraArgs: ['--partitions', String(Q)] });
    c.startAll();
    await c.waitAllHealthy();
  });

  after(async () => {
    await c.destroy();
  });

  it('loses no acknowledged write, and every node ends on the new ring', async (t) => {
    const cluster = (await request(port(0), 'GET', '/cluster')).json() as { members: MemberInfo[] };
    const members: MemberInfo[] = cluster.members.map((m) => ({ nodeId: m.nodeId, address: m.address, dc: m.dc, rack: m.rack, weight: m.weight }));
    const first = firstClusterMeta({ partitions: Q, n: 3 }, members);
    const ring0 = (await request(port(0), 'GET', '/ring')).json() as { partitions: { owner: string }[] };
    assert.deepEqual(ring0.partitions.map((p) => p.owner), [...first.owners], 'the test computes the cluster\'s own document');

    // Writers: fresh keys through every node (the leaving one too), W=quorum.
    const acked = new Map<string, string>();
    let failed = 0;
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const key = `w${w}-k${i}`;
        const value = `v-${w}-${i}`;
        try {
          const r = await request(port((w + i) % 4), 'PUT', `/kv/${key}`, { body: value, timeoutMs: 5000 });
          if (r.status === 204) acked.set(key, value);
          else failed++;
        } catch {
          failed++;
        }
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    await waitFor('some writes before the change', async () => acked.size >= 200, 30_000);

    const stay = members.filter((m) => m.nodeId !== 'n3');
    const next = rebalance(ringOf(first), stay);
    const leave = await request(port(3), 'POST', '/admin/leave');
    assert.equal(leave.status, 200, leave.text);
    const commit = await request(port(3), 'POST', '/admin/commit');
    assert.equal(commit.status, 200, commit.text);
    const committedAt = Date.now();

    await waitFor('every node on the new ring', async () => {
      const rings = await Promise.all([0, 1, 2, 3].map(async (i) => ((await request(port(i), 'GET', '/ring')).json() as { partitions: { owner: string }[] }).partitions.map((p) => p.owner).join()));
      return rings.every((r) => r === next.owners.join());
    }, 120_000);
    const flipMs = Date.now() - committedAt;
    const during = acked.size;
    await waitFor('writes acknowledged after the flip', async () => acked.size >= during + 50, 30_000);
    stop = true;
    await Promise.all(writers);

    const lost: string[] = [];
    for (const [key, value] of acked) {
      const r = await request(port(Number(key[1]) % 3), 'GET', `/kv/${key}`);
      if (r.status !== 200 || r.text !== value) lost.push(`${key}: ${r.status} ${r.text.slice(0, 40)}`);
    }
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${acked.size} acknowledged writes not read back (${failed} writes failed)`);
    const view = (await request(port(0), 'GET', '/cluster')).json() as { members: { nodeId: string; state: string; ownership: number }[] };
    assert.deepEqual(view.members.filter((m) => m.ownership > 0).map((m) => m.nodeId).sort(), ['n0', 'n1', 'n2']);
    assert.equal(view.members.find((m) => m.nodeId === 'n3')?.state ?? 'left', 'left', 'n3 is shown left (or forgotten)');
    assert.match(c.nodes[3]!.log.join(''), /left the cluster/);
    let keys = 0;
    let bytes = 0;
    for (const i of [0, 1, 2]) {
      const text = (await request(port(i), 'GET', '/metrics')).text;
      keys += Number(/^gossamer_transfer_keys_total (\d+)/m.exec(text)?.[1] ?? 0);
      bytes += Number(/^gossamer_transfer_bytes_total (\d+)/m.exec(text)?.[1] ?? 0);
    }
    assert.ok(keys > 0, 'the metrics show keys streamed');
    t.diagnostic(`${acked.size} writes acknowledged (${failed} failed); commit to flip ${flipMs} ms (2 s settle + 2 s catch-up settle included); ${keys} keys, ${bytes} bytes streamed (both passes)`);
  });
});
