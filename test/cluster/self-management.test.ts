/**
 * Nodes that manage themselves, with real `gossamer start` processes: a 4th node started with
 * `--auto-join` against a running 3-node cluster joins and commits its own claim (the ring flips
 * to four members, a quarter of the partitions on the newcomer); SIGTERM with
 * `--decommission-on-stop` hands its partitions over before it exits 0, every node ends on a
 * three-member ring, and every key written while it was a member is readable.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../api/http-client.js';
import { TestCluster, sleep } from './helpers.js';

const Q = 64;

interface RingDoc { version: number; partitions: { owner: string }[]; transition?: unknown }

async function ringOf(port: number): Promise<RingDoc> {
  return (await request(port, 'GET', '/ring')).json() as RingDoc;
}

describe('--auto-join and --decommission-on-stop across four real processes', { timeout: 300_000 }, () => {
  let c: TestCluster;
  const firstThree = (): string => c.nodes.slice(0, 3).map((n) => `127.0.0.1:${n.listenPort}`).join(',');
  const port = (i: number): number => c.nodes[i]!.httpPort;

  async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${c.logs().slice(-6000)}`);
      await sleep(100);
    }
  }

  const owners = async (ports: number[]): Promise<Set<string>[]> => Promise.all(ports.map(async (p) => {
    const r = await ringOf(p);
    return r.transition ? new Set<string>(['(moving)']) : new Set(r.partitions.map((x) => x.owner));
  }));

  before(async () => {
    c = await TestCluster.create({
      size: 4, extraArgs: ['--partitions', String(Q)],
      nodeArgs: (i) => ['--seeds', firstThree(), ...(i === 3 ? ['--auto-join', '--decommission-on-stop'] : [])],
    });
    for (let i = 0; i < 3; i++) c.start(i);
    await Promise.all([0, 1, 2].map((i) => c.waitHealthy(i)));
  });
  after(async () => {
    if (process.env.GOSSAMER_TEST_LOGS) process.stderr.write(c.logs());
    await c.destroy();
  });

  it('joins by itself, then leaves by itself on SIGTERM; no key is lost', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => `self-${i}`);
    for (const k of keys.slice(0, 100)) assert.equal((await request(port(Number(k.slice(5)) % 3), 'PUT', `/kv/${k}`, { body: `v-${k}` })).status, 204);

    c.start(3);
    await waitFor('the newcomer owns partitions at every node', async () => (await owners([0, 1, 2, 3].map(port))).every((s) => s.has('n3') && s.size === 4));
    const ring = await ringOf(port(0));
    const share = ring.partitions.filter((p) => p.owner === 'n3').length / Q;
    assert.ok(Math.abs(share - 0.25) <= 0.05, `n3 owns ${share} of the partitions`);
    assert.match(c.nodes[3]!.log.join(''), /auto-join: staged and committed this node's claim/);
    for (const k of keys.slice(100)) assert.equal((await request(port(3), 'PUT', `/kv/${k}`, { body: `v-${k}` })).status, 204);

    const { code } = await c.kill(3, 'SIGTERM');
    assert.equal(code, 0, c.nodes[3]!.log.join('').slice(-3000));
    assert.match(c.nodes[3]!.log.join(''), /decommission-on-stop: this node left the ring; stopping/);
    await waitFor('every node on a three-member ring', async () => (await owners([0, 1, 2].map(port))).every((s) => !s.has('n3') && s.size === 3), 30_000);
    const unreadable: string[] = [];
    for (const k of keys) {
      const r = await request(port(Number(k.slice(5)) % 3), 'GET', `/kv/${k}`);
      if (r.status !== 200 || r.text !== `v-${k}`) unreadable.push(`${k}: ${r.status}`);
    }
    assert.deepEqual(unreadable, [], 'every key is readable after the node left');
  });
});
