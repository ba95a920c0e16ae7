/**
 * Sloppy quorum and hinted handoff with five real `gossamer start` processes (N=3, W=2): two
 * nodes are killed with SIGKILL, 1,000 writes all succeed on stand-ins, a stand-in holding hints
 * is killed with SIGKILL too, and once all three restart every hint is delivered (pending = 0,
 * the restarted stand-in's among them) and every key is on each of its own replicas, as
 * `/admin/local` on the owners shows (not as hints).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../api/http-client.js';
import { TestCluster, sleep } from './helpers.js';

interface HintsView { stored: number; delivered: number; dropped: number; pendingTotal: number; pending: Record<string, number> }
const KEYS = 1000;

describe('hinted handoff across five real processes', { timeout: 240_000 }, () => {
  let c: TestCluster;
  const port = (i: number): number => c.nodes[i]!.httpPort;

  async function hints(i: number): Promise<HintsView> {
    const r = await request(port(i), 'GET', '/cluster');
    assert.equal(r.status, 200);
    return (r.json() as { hints: HintsView }).hints;
  }

  async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${c.logs().slice(-4000)}`);
      await sleep(100);
    }
  }

  /**
   * Until gossip lands, a node believes a peer alive while its own link to it is up; after a
   * start those links come up with the transport's reconnect backoff, so wait for them.
   */
  async function allLinked(nodes: number[]): Promise<void> {
    await waitFor('every node linked to every other', async () => {
      const views = await Promise.all(nodes.map(async (i) => (await request(port(i), 'GET', '/cluster')).json() as { members: { nodeId: string; state: string }[] }));
      return views.every((v) => v.members.filter((m) => nodes.includes(Number(m.nodeId.slice(1)))).every((m) => m.state === 'alive'));
    }, 20_000);
  }

  before(async () => {
    c = await TestCluster.create({ size: 5, extraArgs: ['--partitions', '64', '--request-timeout-ms', '2000'] });
    c.startAll();
    await c.waitAllHealthy();
    await allLinked([0, 1, 2, 3, 4]);
  });
  after(async () => {
    if (process.env.GOSSAMER_TEST_LOGS) process.stderr.write(c.logs());
    await c.destroy();
  });

  it('W=2 writes all succeed with two of five nodes killed; hints come home after restarts, a killed stand-in\'s too', async () => {
    await Promise.all([c.kill(3), c.kill(4)]);
    const t0 = Date.now();
    // The survivors see the links drop (the failure detector today); writes do not wait for it.
    const failures: string[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < KEYS) {
        const i = next++;
        const r = await request(port(i % 3), 'PUT', `/kv/key-${i}?w=2`, { body: `value-${i}` });
        if (r.status !== 204) failures.push(`key-${i} via n${i % 3} at ${Date.now() - t0} ms owners ${JSON.stringify(((await request(port(0), "GET", `/ring?key=key-${i}`)).json() as { preferenceList: string[] }).preferenceList)}: ${r.status} ${r.text}`);
      }
    }));
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${KEYS} writes failed`);

    let held = await Promise.all([0, 1, 2].map((i) => hints(i)));
    const total = held.reduce((a, h) => a + h.pendingTotal, 0);
    assert.ok(total >= KEYS, `stand-ins hold ${total} hints for the dead nodes`);
    for (const h of held) for (const target of Object.keys(h.pending)) assert.ok(['n3', 'n4'].includes(target));

    // Every write's last copies are placed (each coordinator has settled every slot).
    await waitFor('writes settled', async () => {
      const views = await Promise.all([0, 1, 2].map(async (i) => (await request(port(i), 'GET', '/cluster')).json() as { coordinating: number }));
      return views.every((v) => v.coordinating === 0);
    }, 10_000);
    // A stand-in holding hints dies with them on disk.
    held = await Promise.all([0, 1, 2].map((i) => hints(i)));
    const standIn = held.findIndex((h) => h.pendingTotal > 0);
    const heldByStandIn = held[standIn]!.pendingTotal;
    await c.kill(standIn);

    c.start(3);
    c.start(4);
    c.start(standIn);
    await Promise.all([c.waitHealthy(3), c.waitHealthy(4), c.waitHealthy(standIn)]);
    await waitFor('every hint delivered', async () => {
      const all = await Promise.all([0, 1, 2, 3, 4].map((i) => hints(i)));
      return all.every((h) => h.pendingTotal === 0);
    }, 30_000);
    const metrics = (await request(port(standIn), 'GET', '/metrics')).text;
    const delivered = /^gossamer_hints_delivered_total (\d+)$/m.exec(metrics);
    assert.ok(delivered, `no hint counters in /metrics:\n${metrics}`);
    assert.match(metrics, /^gossamer_read_repairs_total \d+$/m);
    const restarted = await hints(standIn);
    assert.equal(Number(delivered[1]), restarted.delivered);
    // At least what it held: forwards queued for it while it was down arrive after its restart, and
    // coordinating them again (idempotently) may hint a copy for a node still starting.
    assert.ok(restarted.delivered >= heldByStandIn, `the restarted stand-in delivered the ${heldByStandIn} hints it held when it was killed (${restarted.delivered})`);
    assert.equal(restarted.dropped, 0);

    const idx = (id: string): number => Number(id.slice(1));
    const missing: string[] = [];
    let checked = 0;
    let duplicated = 0;
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < KEYS; i += 8) {
        const ring = (await request(port(0), 'GET', `/ring?key=key-${i}`)).json() as { preferenceList: string[] };
        assert.equal(ring.preferenceList.length, 3);
        for (const owner of ring.preferenceList) {
          const local = await request(port(idx(owner)), 'GET', `/admin/local/key-${i}`);
          const versions = local.status === 200 ? (local.json() as { versions: { value: string | null; hintFor: string | null }[] }).versions : [];
          const own = versions.filter((v) => v.hintFor === null);
          const right = own.filter((v) => v.value !== null && Buffer.from(v.value, 'base64').toString() === `value-${i}`);
          if (right.length === 0 || right.length !== own.length) missing.push(`key-${i} on ${owner}: ${JSON.stringify(versions)}`);
          // Two versions of the one write: a forward retried after a slow acceptance was coordinated
          // twice (at-least-once forwarding, docs/architecture.md). Counted, not hidden.
          if (right.length > 1) duplicated++;
          checked++;
        }
      }
    }));
    assert.equal(checked, KEYS * 3);
    if (duplicated > 0) process.stderr.write(`note: ${duplicated} key copies hold the write twice (a forward coordinated twice)\n`);
    if (missing.length > 0) {
      const k = missing[0]!.split(' ')[0]!;
      process.stderr.write(`diagnosis: ${missing.length} missing; ${k} owners ${(await request(port(0), 'GET', `/ring?key=${k}`)).text}\n`);
      for (let i = 0; i < 5; i++) process.stderr.write(`diagnosis: n${i} ${(await request(port(i), 'GET', `/admin/local/${k}`)).text} ${JSON.stringify(await hints(i))}\n`);
    }
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} key copies missing on their owners (or holding another value)`);
  });
});
