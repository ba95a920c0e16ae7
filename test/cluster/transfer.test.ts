/**
 * `leave` of a node under a write load, with four real `gossamer start` processes (N=3, Q=64):
 * writers keep writing fresh keys through every node while the leaving node's partitions are
 * streamed to their new replicas; once every node is on the new ring, every acknowledged write
 * is read back (quorum) and the node that left says so in its log.
 *
 * The commit goes through a test-only path: ring-admin's operator surface (plan/commit) lands
 * in parallel, so the test builds the committed document itself — the cluster's first document,
 * computed from what `/cluster` reports, plus the transition `rebalance` gives — and pushes it to
 * one node as a peer would (`xfer-doc`, over the inter-node transport). At the merge this
 * becomes `gossamer leave --host <n3>` + `gossamer commit`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../api/http-client.js';
import { TestCluster, sleep } from './helpers.js';
import { createTcpTransport } from '../../src/adapters/tcp-transport.js';
import type { ClusterMeta, MemberInfo } from '../../src/core/membership/index.js';
import { encodeClusterMeta, firstClusterMeta, ringOf } from '../../src/core/membership/index.js';
import { rebalance } from '../../src/core/ring/index.js';
import type { Message } from '../../src/core/types.js';

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
    const doc: ClusterMeta = { ...first, version: 2, transition: { members: stay, owners: next.owners, done: [] } };
    await pushDocument(c.nodes[0]!.listenPort, doc);
    const committedAt = Date.now();

    await waitFor('every node on the new ring', async () => {
      const rings = await Promise.all([0, 1, 2, 3].map(async (i) => ((await request(port(i), 'GET', '/ring')).json() as { partitions: { owner: string }[] }).partitions.map((p) => p.owner).join()));
      return rings.every((r) => r === next.owners.join());
    }, 120_000);
    const flipMs = Date.now() - committedAt;
    const during = acked.size;
    await sleep(500);
    stop = true;
    await Promise.all(writers);
    assert.ok(acked.size > during, 'writes went on after the flip');

    const lost: string[] = [];
    for (const [key, value] of acked) {
      const r = await request(port(Number(key[1]) % 3), 'GET', `/kv/${key}`);
      if (r.status !== 200 || r.text !== value) lost.push(`${key}: ${r.status} ${r.text.slice(0, 40)}`);
    }
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${acked.size} acknowledged writes not read back (${failed} writes failed)`);
    const view = (await request(port(0), 'GET', '/cluster')).json() as { members: { nodeId: string }[] };
    assert.deepEqual(view.members.map((m) => m.nodeId).sort(), ['n0', 'n1', 'n2']);
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

/** Sends the document to the node at `listenPort` as a peer would (an `xfer-doc` push). */
async function pushDocument(listenPort: number, doc: ClusterMeta): Promise<void> {
  const t = await createTcpTransport<Message>({
    self: { nodeId: 'test-driver', dc: 'dc1', rack: 'rack1', weight: 0 }, listenHost: '127.0.0.1', listenPort: 0,
    seeds: [`127.0.0.1:${listenPort}`],
  });
  try {
    const linked = new Promise<string>((resolve) => t.onPeer((p) => resolve(p.nodeId)));
    const to = await linked;
    t.send({ from: 'test-driver', to, msg: { type: 'xfer-doc', id: 0, meta: encodeClusterMeta(doc) } });
    await sleep(500);
  } finally {
    await t.close();
  }
}
