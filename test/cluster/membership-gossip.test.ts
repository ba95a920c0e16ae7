/**
 * Membership with real processes over TCP (free ports, RESP included): a node started against a
 * running cluster adopts its document and owns nothing, every node reports the same ring version;
 * a `kill -9` shows as `faulty` in the others' /cluster within 5 s and `alive` within 5 s of the
 * restart; two single-node clusters pointed at each other refuse each other and keep their rings.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, sleep } from './helpers.js';
import { request } from '../api/http-client.js';

interface ClusterJson {
  nodeId: string;
  clusterId?: string;
  version?: number;
  members: { nodeId: string; state: string; heartbeat: number; ownership: number }[];
}
interface RingJson { clusterId?: string; version?: number; partitions: { owner: string }[] }

async function getJson<T>(port: number, path: string): Promise<T> {
  const r = await request(port, 'GET', path, { timeoutMs: 2000 });
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return JSON.parse(r.body.toString()) as T;
}

/** Polls until `check` holds (or the bound passes); returns the ms it took. */
async function within(boundMs: number, what: string, check: () => Promise<boolean>, logs: () => string): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < boundMs) {
    try {
      if (await check()) return Date.now() - t0;
    } catch { /* a node busy or down: try again */ }
    await sleep(100);
  }
  throw new Error(`${what} not within ${boundMs} ms; logs:\n${logs()}`);
}

const stateOf = async (port: number, id: string): Promise<string | undefined> =>
  (await getJson<ClusterJson>(port, '/cluster')).members.find((m) => m.nodeId === id)?.state;

describe('membership: adoption and failure detection across processes', () => {
  let cluster: TestCluster | undefined;
  after(async () => { await cluster?.destroy(); });

  it('a 4th node adopts the running cluster\'s document, owns nothing; kill -9 → faulty ≤ 5 s, alive ≤ 5 s after restart', async () => {
    let seeds = '';
    // Nodes 0-2 form the ring among themselves; node 3 knows only node 0 (it is not a seed).
    cluster = await TestCluster.create({ size: 4, nodeArgs: (i) => ['--seeds', i < 3 ? seeds : seeds.split(',')[0]!] });
    const c = cluster;
    seeds = c.nodes.slice(0, 3).map((n) => `127.0.0.1:${n.listenPort}`).join(',');
    for (const i of [0, 1, 2]) c.start(i);
    await Promise.all([0, 1, 2].map((i) => c.waitHealthy(i)));
    c.start(3);
    await c.waitHealthy(3);
    const rings = await Promise.all(c.nodes.map((n) => getJson<RingJson>(n.httpPort, '/ring')));
    assert.ok(rings[0]!.clusterId?.startsWith('c-'), JSON.stringify(rings[0]!.clusterId));
    for (const r of rings) {
      assert.equal(r.clusterId, rings[0]!.clusterId);
      assert.equal(r.version, rings[0]!.version);
    }
    assert.ok(!rings[3]!.partitions.some((p) => p.owner === 'n3'), 'the newcomer owns nothing');
    // Every node lists the newcomer (from gossip), with ownership 0 and a heartbeat that moves.
    await within(10_000, 'n3 in every /cluster', async () => {
      for (const n of c.nodes) {
        const m = (await getJson<ClusterJson>(n.httpPort, '/cluster')).members.find((x) => x.nodeId === 'n3');
        if (!m || m.ownership !== 0 || m.heartbeat <= 0 || m.state !== 'alive') return false;
      }
      return true;
    }, () => c.logs());
    const view = await getJson<ClusterJson>(c.nodes[3]!.httpPort, '/cluster');
    assert.equal(view.clusterId, rings[0]!.clusterId);
    assert.deepEqual(view.members.map((m) => m.nodeId).sort(), ['n0', 'n1', 'n2', 'n3']);

    await c.kill(1);
    const others = [0, 2, 3];
    const tookFaulty = await within(5_000, 'n1 faulty everywhere', async () =>
      (await Promise.all(others.map((i) => stateOf(c.nodes[i]!.httpPort, 'n1')))).every((s) => s === 'faulty'), () => c.logs());
    assert.match(c.nodes[0]!.log.join(''), /member n1 (alive|suspect) → (suspect|faulty) \(no heartbeat for [0-9.]+ s; /);
    const metrics = (await request(c.nodes[0]!.httpPort, 'GET', '/metrics')).body.toString();
    assert.match(metrics, /gossamer_member_state_transitions_total\{to="faulty"\} [1-9]/);
    assert.match(metrics, /gossamer_gossip_rounds_total [1-9]/);
    assert.match(metrics, /gossamer_members\{state="faulty"\} 1/);

    c.start(1);
    await c.waitListening(1);
    const tookAlive = await within(5_000, 'n1 alive again everywhere', async () =>
      (await Promise.all(others.map((i) => stateOf(c.nodes[i]!.httpPort, 'n1')))).every((s) => s === 'alive'), () => c.logs());
    console.log(`kill -9 → faulty everywhere in ${tookFaulty} ms; restart → alive everywhere in ${tookAlive} ms`);
  });
});

describe('membership: two clusters refuse each other', () => {
  let cluster: TestCluster | undefined;
  after(async () => { await cluster?.destroy(); });

  it('two single-node clusters pointed at each other refuse each other with a log line and keep their rings', async () => {
    let pointed = false;
    cluster = await TestCluster.create({
      size: 2,
      nodeArgs: (i) => {
        const self = `127.0.0.1:${cluster!.nodes[i]!.listenPort}`;
        const other = `127.0.0.1:${cluster!.nodes[1 - i]!.listenPort}`;
        return ['--seeds', pointed ? `${self},${other}` : self];
      },
    });
    const c = cluster;
    c.start(0);
    c.start(1);
    await c.waitAllHealthy();
    const before = await Promise.all(c.nodes.map((n) => getJson<RingJson>(n.httpPort, '/ring')));
    assert.notEqual(before[0]!.clusterId, before[1]!.clusterId);
    await Promise.all([c.kill(0, 'SIGTERM'), c.kill(1, 'SIGTERM')]);
    pointed = true;
    c.start(0);
    c.start(1);
    await c.waitAllHealthy();
    for (const [i, j] of [[0, 1], [1, 0]] as const) {
      const line = new RegExp(`refusing n${j} at 127\\.0\\.0\\.1:${c.nodes[j]!.listenPort}: it belongs to cluster ${before[j]!.clusterId}, this node to ${before[i]!.clusterId}`);
      await within(10_000, `n${i} refuses n${j}`, async () => line.test(c.nodes[i]!.log.join('')), () => c.logs());
      assert.equal(c.nodes[i]!.log.join('').split('\n').filter((l) => line.test(l)).length, 1, 'one line per peer');
    }
    const afterRings = await Promise.all(c.nodes.map((n) => getJson<RingJson>(n.httpPort, '/ring')));
    for (const i of [0, 1]) {
      assert.equal(afterRings[i]!.clusterId, before[i]!.clusterId);
      assert.equal(afterRings[i]!.version, before[i]!.version);
      const members = (await getJson<ClusterJson>(c.nodes[i]!.httpPort, '/cluster')).members.map((m) => m.nodeId);
      assert.deepEqual(members, [`n${i}`]);
    }
  });
});
