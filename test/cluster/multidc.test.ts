/**
 * Losing a data centre with six real `gossamer start` processes in two DCs (`--dc`), replication
 * {dc1: 3, dc2: 3} from a config file: every node of dc2 is killed with SIGKILL; `local_quorum`
 * writes through dc1 all succeed while `each_quorum` ones are refused; dc2 restarts, the hints
 * its nodes missed drain, and every key is on each of its six replicas (`/admin/local` on the
 * owners, as their own copies, not as hints). `/cluster` groups the members by DC. Then dc2 is
 * lost again, this time with its disks: it returns empty, hints bring back only what was written
 * meanwhile, and `gossamer repair` at its nodes (anti-entropy across the DCs) brings back the rest:
 * every partition's roots equal on all six replicas.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from '../api/http-client.js';
import { TestCluster, runCli, sleep } from './helpers.js';

interface HintsView { pendingTotal: number; pending: Record<string, number> }
const KEYS = 300;
const DC1 = [0, 1, 2];
const DC2 = [3, 4, 5];

describe('losing a data centre: six real processes in two DCs', { timeout: 240_000 }, () => {
  let c: TestCluster;
  const port = (i: number): number => c.nodes[i]!.httpPort;
  const cluster = async (i: number): Promise<{ hints: HintsView; members: { nodeId: string; state: string }[]; datacenters: { dc: string; replicas: number | null; members: string[] }[] }> =>
    (await request(port(i), 'GET', '/cluster')).json() as never;

  async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${c.logs().slice(-4000)}`);
      await sleep(100);
    }
  }

  /** The failure detector today is the transport's links: wait until each node sees the others. */
  async function linked(nodes: number[], alive: number[]): Promise<void> {
    await waitFor(`nodes ${nodes.join(',')} see ${alive.join(',')} alive`, async () => {
      const views = await Promise.all(nodes.map((i) => cluster(i)));
      return views.every((v) => v.members.filter((m) => alive.includes(Number(m.nodeId.slice(1)))).every((m) => m.state === 'alive'));
    }, 30_000);
  }

  before(async () => {
    c = await TestCluster.create({
      size: 6,
      extraArgs: ['--partitions', '64', '--request-timeout-ms', '2000'],
      nodeArgs: (i) => ['--dc', i < 3 ? 'dc1' : 'dc2', '--rack', `r${i % 3}`, '--config', path.join(c.dir, 'multidc.json')],
    });
    writeFileSync(path.join(c.dir, 'multidc.json'), JSON.stringify({ replication: { dc1: 3, dc2: 3 } }));
    c.startAll();
    await c.waitAllHealthy();
    await linked([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]);
  });
  after(async () => {
    if (process.env.GOSSAMER_TEST_LOGS) process.stderr.write(c.logs());
    await c.destroy();
  });

  it('/cluster groups the members by DC with their replica counts', async () => {
    const v = await cluster(0);
    assert.deepEqual(v.datacenters.map((d) => [d.dc, d.replicas, d.members]), [
      ['dc1', 3, ['n0', 'n1', 'n2']], ['dc2', 3, ['n3', 'n4', 'n5']],
    ]);
  });

  it('gossamer status and the dashboard\'s data group the members by DC', async () => {
    const out = await runCli(['status', '--host', `127.0.0.1:${port(4)}`]);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split('\n');
    const at = (s: string): number => lines.findIndex((l) => l.includes(s));
    const dc1 = at('Datacenter: dc1');
    const dc2 = at('Datacenter: dc2');
    assert.ok(dc1 >= 0 && dc2 > dc1, out.stdout);
    assert.match(lines[dc1]!, /3 of 3 alive, 3 replicas per key/);
    const row = (id: string): number => lines.findIndex((l) => l.startsWith(`${id} `) || l.startsWith(`${id}* `));
    for (const id of ['n0', 'n1', 'n2']) assert.ok(row(id) > dc1 && row(id) < dc2, `${id} is listed under dc1:\n${out.stdout}`);
    for (const id of ['n3', 'n4', 'n5']) assert.ok(row(id) > dc2, `${id} is listed under dc2:\n${out.stdout}`);
    const ui = (await request(port(2), 'GET', '/ui/data?ring=0')).json() as { datacenters: { dc: string; members: string[]; alive: number }[] };
    assert.deepEqual(ui.datacenters.map((d) => [d.dc, d.members, d.alive]), [['dc1', ['n0', 'n1', 'n2'], 3], ['dc2', ['n3', 'n4', 'n5'], 3]]);
  });

  it('local_quorum writes in dc1 succeed with all of dc2 down; after dc2 returns every replica holds every key', async () => {
    await Promise.all(DC2.map((i) => c.kill(i)));
    await waitFor('dc1 sees dc2 down', async () => {
      const views = await Promise.all(DC1.map((i) => cluster(i)));
      return views.every((v) => v.members.filter((m) => ['n3', 'n4', 'n5'].includes(m.nodeId)).every((m) => m.state !== 'alive'));
    }, 20_000);
    const failures: string[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < KEYS) {
        const i = next++;
        const r = await request(port(DC1[i % 3]!), 'PUT', `/kv/key-${i}?w=local_quorum`, { body: `value-${i}` });
        if (r.status !== 204) failures.push(`key-${i}: ${r.status} ${r.text}`);
      }
    }));
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${KEYS} local_quorum writes failed`);
    const read = await request(port(1), 'GET', '/kv/key-7?r=local_quorum');
    assert.equal(read.status, 200);
    assert.equal(read.text, 'value-7');
    const each = await request(port(0), 'PUT', '/kv/each?w=each_quorum', { body: 'x' });
    assert.equal(each.status, 503, each.text);
    assert.equal((each.json() as { error: string }).error, 'insufficient_replicas');

    // Every write's slots are settled (a slot still waiting on a dc2 node keeps its hint at the end).
    await waitFor('writes settled', async () => {
      const views = await Promise.all(DC1.map(async (i) => (await request(port(i), 'GET', '/cluster')).json() as { coordinating: number }));
      return views.every((v) => v.coordinating === 0);
    }, 20_000);
    const held = await Promise.all(DC1.map((i) => cluster(i)));
    const pending = held.reduce((a, v) => a + v.hints.pendingTotal, 0);
    assert.ok(pending >= KEYS * 3, `dc1 holds ${pending} hints for dc2's replicas: ${JSON.stringify(held.map((v) => v.hints))}`);
    for (const v of held) for (const target of Object.keys(v.hints.pending)) assert.ok(['n3', 'n4', 'n5'].includes(target));

    for (const i of DC2) c.start(i);
    await Promise.all(DC2.map((i) => c.waitHealthy(i)));
    await waitFor('every hint delivered', async () => {
      const all = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => cluster(i)));
      return all.every((v) => v.hints.pendingTotal === 0);
    }, 60_000);

    const missing: string[] = [];
    await Promise.all(Array.from({ length: 6 }, async (_, w) => {
      for (let i = w; i < KEYS; i += 6) {
        const ring = (await request(port(0), 'GET', `/ring?key=key-${i}`)).json() as { preferenceList: string[] };
        assert.deepEqual(ring.preferenceList.map((o) => (Number(o.slice(1)) < 3 ? 'dc1' : 'dc2')).sort(), ['dc1', 'dc1', 'dc1', 'dc2', 'dc2', 'dc2']);
        for (const owner of ring.preferenceList) {
          const local = await request(port(Number(owner.slice(1))), 'GET', `/admin/local/key-${i}`);
          const versions = local.status === 200 ? (local.json() as { versions: { value: string | null; hintFor: string | null }[] }).versions : [];
          const own = versions.filter((v) => v.hintFor === null && v.value !== null && Buffer.from(v.value, 'base64').toString() === `value-${i}`);
          if (own.length !== 1) missing.push(`key-${i} on ${owner}: ${JSON.stringify(versions)}`);
        }
      }
    }));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} key copies missing on their owners`);
  });

  it('a DC that returns with its disks lost is brought back in line by `gossamer repair`: equal roots in both DCs', async () => {
    await Promise.all(DC2.map((i) => c.kill(i)));
    for (const i of DC2) rmSync(c.nodes[i]!.dataDir, { recursive: true, force: true });
    await waitFor('dc1 sees dc2 down', async () => {
      const views = await Promise.all(DC1.map((i) => cluster(i)));
      return views.every((v) => v.members.filter((m) => ['n3', 'n4', 'n5'].includes(m.nodeId)).every((m) => m.state !== 'alive'));
    }, 20_000);
    for (let i = KEYS; i < KEYS + 50; i++) {
      const r = await request(port(DC1[i % 3]!), 'PUT', `/kv/key-${i}?w=local_quorum`, { body: `value-${i}` });
      assert.equal(r.status, 204, r.text);
    }
    for (const i of DC2) c.start(i);
    await Promise.all(DC2.map((i) => c.waitHealthy(i)));
    await linked([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]);
    const own = async (node: number, key: string): Promise<number> => {
      const local = await request(port(node), 'GET', `/admin/local/${key}`);
      if (local.status !== 200) return 0;
      return (local.json() as { versions: { value: string | null; hintFor: string | null }[] }).versions.filter((v) => v.hintFor === null && v.value !== null).length;
    };
    assert.equal(await own(4, 'key-0'), 0, 'n4 came back without the keys written before the loss');
    for (const i of DC2) {
      const r = await runCli(['repair', '--json', '--host', `127.0.0.1:${port(i)}`]);
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as { failed: number; keysRepaired: number };
      assert.equal(summary.failed, 0, r.stdout);
    }
    const rootsOf = async (i: number): Promise<Record<string, number>> => {
      const r = await request(port(i), 'GET', '/admin/roots');
      assert.equal(r.status, 200, r.text);
      return (r.json() as { roots: Record<string, number> }).roots;
    };
    // Hints still draining may change a root after the repair: wait until every node agrees.
    await waitFor('equal roots on all six replicas', async () => {
      const all = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => rootsOf(i)));
      return all.every((r) => JSON.stringify(r) === JSON.stringify(all[0]));
    }, 60_000);
    const lacking: string[] = [];
    for (let i = 0; i < KEYS + 50; i += 7) for (const n of DC2) if ((await own(n, `key-${i}`)) !== 1) lacking.push(`key-${i} on n${n}`);
    assert.deepEqual(lacking.slice(0, 5), [], `${lacking.length} sampled key copies missing in dc2`);
  });
});
