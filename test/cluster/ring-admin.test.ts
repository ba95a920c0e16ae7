/**
 * Changing the ring with real `gossamer start` processes: `status` and `ring` print their
 * tables; removenode of a stopped node, plan and commit make every node install the same
 * version with a transition; bad input gets 400/404/409. A 4th node started against the running
 * cluster adopts its document (gossip), joins, and after plan/commit the data streams and the ring
 * flips to four members with every key still readable.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../api/http-client.js';
import { TestCluster, runCli, sleep } from './helpers.js';

const Q = 64;

interface ClusterDoc {
  nodeId: string; clusterId?: string; version?: number;
  members: { nodeId: string; state: string; ownership: number; nextOwnership?: number; joining?: boolean }[];
  staged?: { kind: string; nodeId: string }[];
  transition?: { members: string[]; movingPartitions: number; donePartitions: number } | null;
  loadBytes?: number | null;
}

/** One of the three first nodes, by the key's number (writes spread over them). */
const i0 = (k: string): number => Number(k.split('-').pop()) % 3;

async function clusterDoc(port: number): Promise<ClusterDoc> {
  const a = await request(port, 'GET', '/cluster');
  assert.equal(a.status, 200, a.text);
  return a.json() as ClusterDoc;
}

/** Polls until `ok` holds for every port's /cluster (bounded); returns the documents. */
async function until(ports: number[], ok: (d: ClusterDoc) => boolean, what: string, timeoutMs = 20_000): Promise<ClusterDoc[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const docs = await Promise.all(ports.map(clusterDoc));
    if (docs.every(ok)) return docs;
    if (Date.now() > deadline) assert.fail(`${what}: not reached within ${timeoutMs} ms: ${JSON.stringify(docs.map((d) => [d.nodeId, d.version, d.staged, d.transition]))}`);
    await sleep(50);
  }
}

describe('ring administration on a 3-node cluster of real processes', { timeout: 300_000 }, () => {
  let c: TestCluster;
  const host = (i: number): string[] => ['--host', `127.0.0.1:${c.nodes[i]!.httpPort}`];
  // Nodes 0-2 form the ring; node 3 (the would-be joiner) is given the same three seeds.
  const firstThree = (): string => c.nodes.slice(0, 3).map((n) => `127.0.0.1:${n.listenPort}`).join(',');

  before(async () => {
    c = await TestCluster.create({ size: 4, extraArgs: ['--partitions', String(Q)], nodeArgs: () => ['--seeds', firstThree()] });
    for (let i = 0; i < 3; i++) c.start(i);
    await Promise.all([0, 1, 2].map((i) => c.waitHealthy(i)));
  });
  after(async () => {
    if (process.env.GOSSAMER_TEST_LOGS) process.stderr.write(c.logs());
    await c.destroy();
  });

  it('gossamer status prints the nodetool-like table with every member, its load and ownership, and the ring version', async () => {
    await request(c.nodes[1]!.httpPort, 'PUT', '/kv/status-key', { body: 'x'.repeat(1000) });
    const r = await runCli(['status', ...host(0)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ring version 1$/m);
    assert.match(r.stdout, /^NODE +ADDRESS +RACK +WEIGHT +STATE +LOAD +OWNERSHIP$/m);
    for (const n of c.nodes.slice(0, 3)) {
      // Each member's load comes from that member itself (a size, not "-"), ownership a third.
      assert.match(r.stdout, new RegExp(`^${n.nodeId}\\*? +127\\.0\\.0\\.1:${n.listenPort} +rack1 +1 +alive +[0-9.]+ (B|KiB|MiB) +3[234]\\.[0-9]%$`, 'm'), r.stdout);
    }
  });

  it('gossamer ring prints ranges of partitions with their owner and preference list; --key one key\'s replicas', async () => {
    const r = await runCli(['ring', ...host(1)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${Q} partitions, N=3$`, 'm'));
    assert.match(r.stdout, /^PARTITIONS +OWNER +PREFERENCE LIST$/m);
    const rows = r.stdout.split('\n').filter((l) => /^\d+(-\d+)? +n\d +n\d, n\d, n\d$/.test(l));
    assert.ok(rows.length > 0, r.stdout);
    // The ranges cover every partition exactly once, in order.
    let next = 0;
    for (const row of rows) {
      const [first, last = first] = row.split(/ +/)[0]!.split('-').map(Number);
      assert.equal(first, next);
      next = last! + 1;
    }
    assert.equal(next, Q);
    const k = await runCli(['ring', '--key', 'status-key', ...host(1)]);
    assert.match(k.stdout, /^key "status-key": partition \d+, replicas n\d, n\d, n\d$/m);
  });

  it('join, plan and commit of a 4th node: a quarter of the partitions move, every key stays readable', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `join-key-${i}`);
    for (const k of keys) assert.equal((await request(c.nodes[i0(k)]!.httpPort, 'PUT', `/kv/${k}`, { body: `v-${k}` })).status, 204);
    c.start(3);
    await c.waitHealthy(3);
    const ports = c.nodes.map((n) => n.httpPort);
    const first = await clusterDoc(ports[0]!);
    await until([ports[3]!], (d) => d.clusterId === first.clusterId, 'the 4th node adopts the cluster document');
    const join = await runCli(['join', ...host(3)]);
    assert.equal(join.code, 0, join.stderr);
    const plan = await runCli(['plan', '--json', ...host(0)]);
    const p = (JSON.parse(plan.stdout) as { plan: { ownerChanges: unknown[]; partitionCount: number } }).plan;
    assert.ok(Math.abs(p.ownerChanges.length / p.partitionCount - 0.25) <= 0.05, `${p.ownerChanges.length} of ${p.partitionCount} move`);
    const commit = await runCli(['commit', ...host(0)]);
    assert.equal(commit.code, 0, commit.stderr);
    const docs = await until(ports, (d) => d.transition?.members.length === 4, 'every node installs the transition');
    assert.equal(new Set(docs.map((d) => d.version)).size, 1, 'every node reports the same version');
    // Transfer streams the moving partitions, then any node flips the ring: four members, no transition.
    const flipped = await until(ports, (d) => !d.transition && d.members.length === 4, 'every node is on the 4-member ring', 120_000);
    assert.equal(new Set(flipped.map((d) => d.version)).size, 1, 'every node reports the same version after the flip');
    const unreadable: string[] = [];
    for (const k of keys) {
      const r = await request(ports[i0(k) % 4]!, 'GET', `/kv/${k}`);
      if (r.status !== 200 || r.text !== `v-${k}`) unreadable.push(`${k}: ${r.status}`);
    }
    assert.deepEqual(unreadable, [], 'every key written before the join is readable after it');
  });
});

describe('removenode, plan and commit on a 4-node cluster of real processes', { timeout: 180_000 }, () => {
  let c: TestCluster;
  const port = (i: number): number => c.nodes[i]!.httpPort;
  const host = (i: number): string[] => ['--host', `127.0.0.1:${port(i)}`];
  const live = [0, 1, 2];

  before(async () => {
    c = await TestCluster.create({ size: 4, extraArgs: ['--partitions', String(Q)] });
    c.startAll();
    await c.waitAllHealthy();
  });
  after(async () => {
    if (process.env.GOSSAMER_TEST_LOGS) process.stderr.write(c.logs());
    await c.destroy();
  });

  it('bad input: an unknown node is 404, the node addressed 400, a wrong method 405, nothing staged to commit 409', async () => {
    const unknown = await request(port(0), 'POST', '/admin/removenode/nobody');
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json() as { error: string }).error, 'not_found');
    assert.equal((await request(port(0), 'POST', '/admin/removenode/n0')).status, 400);
    assert.equal((await request(port(0), 'POST', '/admin/removenode/%E0%A4%A')).status, 400);
    const wrong = await request(port(0), 'GET', '/admin/commit');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers['allow'], 'POST');
    const nothing = await request(port(0), 'POST', '/admin/commit');
    assert.equal(nothing.status, 409);
    assert.match((nothing.json() as { message: string }).message, /nothing is staged/);
    const cli = await runCli(['removenode', 'nobody', ...host(0)]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /^gossamer: removenode: not_found: no ring member nobody\n$/);
    const plan = await runCli(['plan', ...host(2)]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /^nothing staged \(cluster version 1\)$/m);
    assert.equal((await clusterDoc(port(1))).version, 1, 'no refusal changed the document');
  });

  it('a stopped node removed: the plan moves about a quarter of the partitions; commit reaches every node at once', async () => {
    await c.kill(3, 'SIGTERM');
    const staged = await runCli(['removenode', 'n3', ...host(0)]);
    assert.equal(staged.code, 0, staged.stderr);
    assert.match(staged.stdout, /^staged remove n3 \(cluster version 2\)$/m);
    // Ring-push: the other live nodes hold the staged change without waiting for gossip.
    await until(live.map(port), (d) => d.version === 2 && d.staged?.[0]?.nodeId === 'n3', 'the staged change reaches every node');

    const plan = await runCli(['plan', '--json', ...host(1)]);
    assert.equal(plan.code, 0, plan.stderr);
    const p = JSON.parse(plan.stdout) as { plan: { ownerChanges: { to: string }[]; partitionCount: number; membersAfter: string[] }; estimate: { bytes: number | null } };
    assert.deepEqual(p.plan.membersAfter, ['n0', 'n1', 'n2']);
    const moved = p.plan.ownerChanges.length / p.plan.partitionCount;
    assert.ok(Math.abs(moved - 0.25) <= 0.05, `${p.plan.ownerChanges.length} of ${p.plan.partitionCount} partitions change owner`);
    assert.ok(p.plan.ownerChanges.every((ch) => ch.to !== 'n3'));
    assert.equal(typeof p.estimate.bytes, 'number', 'an LSM node estimates the bytes');
    const human = await runCli(['plan', ...host(1)]);
    assert.match(human.stdout, /^ {2}remove n3$/m);
    assert.match(human.stdout, new RegExp(`^${p.plan.ownerChanges.length} of ${Q} partitions change owner; `, 'm'));
    assert.match(human.stdout, /^n3 +25\.0% +0\.0% +-25\.0%$/m);

    const commit = await runCli(['commit', ...host(2)]);
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout, /^committed at cluster version 3: \d+ partitions move/m);
    const docs = await until(live.map(port), (d) => d.version === 3, 'every node installs the commit');
    for (const d of docs) {
      assert.deepEqual(d.transition?.members, ['n0', 'n1', 'n2']);
      assert.equal(d.transition?.donePartitions, 0);
      assert.equal(d.staged?.length ?? 0, 0);
      assert.equal(d.members.find((m) => m.nodeId === 'n3')?.state, 'leaving', `n3 is leaving at ${d.nodeId}`);
    }
    const ring = (await request(port(0), 'GET', '/ring')).json() as { version: number; partitions: { next?: { preferenceList: string[] } }[] };
    assert.equal(ring.version, 3);
    assert.ok(ring.partitions.some((x) => x.next !== undefined), '/ring shows the next preference list of moving partitions');
    assert.ok(ring.partitions.every((x) => !x.next || !x.next.preferenceList.includes('n3')));
    const status = await runCli(['status', ...host(1)]);
    assert.match(status.stdout, /^ring version 3; transition: 0 of \d+ moving partitions done$/m);
    assert.match(status.stdout, /^n3 .* leaving +- +25\.0% → 0\.0%$/m);
  });

  it('during the transition: a second commit is 409, staging is 409, and the cluster keeps serving', async () => {
    const again = await request(port(1), 'POST', '/admin/commit');
    assert.equal(again.status, 409);
    assert.match((again.json() as { message: string }).message, /a transition is under way \(version 3, 0 of \d+ moving partitions done\)/);
    const cli = await runCli(['commit', ...host(0)]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /^gossamer: commit: conflict: a transition is under way/);
    assert.equal((await request(port(0), 'POST', '/admin/leave')).status, 409);
    const t = (await request(port(2), 'GET', '/admin/transition')).json() as { version: number; transition: { leaving: string[]; moving: number[]; done: number[] } };
    assert.equal(t.version, 3);
    assert.deepEqual(t.transition.leaving, ['n3']);
    assert.ok(t.transition.moving.length > 0);
    const put = await request(port(0), 'PUT', '/kv/during', { body: 'v' });
    assert.equal(put.status, 204);
    assert.equal((await request(port(2), 'GET', '/kv/during')).text, 'v');
  });
});
