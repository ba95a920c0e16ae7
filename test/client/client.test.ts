/** The TypeScript client against a real 3-node cluster, and against a scripted HTTP server for its retry rules. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import { GossamerClient, GossamerError } from '../../src/client/index.js';
import type { Sibling } from '../../src/client/index.js';
import { Routing } from '../../src/client/routing.js';
import { ROOT, TestCluster } from '../cluster/helpers.js';
import { request } from '../api/http-client.js';

/** A grow-only counter: one count per writer; siblings merge by taking each writer's largest count. */
function mergeCounters(siblings: readonly Sibling[]): string {
  const merged: Record<string, number> = {};
  for (const s of siblings) {
    if (s.value === null) continue;
    for (const [w, n] of Object.entries(JSON.parse(s.value.toString('utf8')) as Record<string, number>)) merged[w] = Math.max(merged[w] ?? 0, n);
  }
  return JSON.stringify(merged);
}

describe('GossamerClient on a 3-node cluster', { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let endpoints: string[];
  const clients: GossamerClient[] = [];
  const client = (opts: Partial<ConstructorParameters<typeof GossamerClient>[0]> = {}): GossamerClient => {
    const c = new GossamerClient({ endpoints, ringRefreshMs: 0, ...opts });
    clients.push(c);
    return c;
  };

  before(async () => {
    cluster = await TestCluster.create({ size: 3, extraArgs: ['--n', '3', '--partitions', '64'] });
    cluster.startAll();
    await cluster.waitAllHealthy();
    endpoints = cluster.nodes.map((n) => `127.0.0.1:${n.httpPort}`);
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster.destroy();
  });

  it('put then get; contexts are carried, so repeated puts leave one version', async () => {
    const c = client();
    for (const v of ['one', 'two', 'three']) await c.put('carried', v);
    const r = await c.get('carried', { r: 'all' });
    assert.equal(r.value?.toString(), 'three');
    assert.equal(r.siblings.length, 1);
    assert.equal((await c.get('never-written')).found, false);
  });

  it('siblings from two writers reach the resolver callback; writing its result resolves them', async () => {
    const a = client();
    const b = client();
    await a.put('cart', 'apple', { blind: true });
    await b.put('cart', 'pear', { blind: true });
    let seen: string[] = [];
    const reader = client({ resolver: (siblings) => {
      seen = siblings.map((s) => s.value!.toString()).sort();
      return seen.join(',');
    } });
    const r = await reader.get('cart', { r: 'all' });
    assert.deepEqual(seen, ['apple', 'pear']);
    assert.equal(r.value?.toString(), 'apple,pear');
    await reader.put('cart', r.value!);
    const after = await client().get('cart', { r: 'all' });
    assert.equal(after.siblings.length, 1);
    assert.equal(after.value?.toString(), 'apple,pear');
  });

  it('update under concurrent writers loses no increment (a mergeable counter, siblings resolved by the callback)', async () => {
    const writers = 4;
    const each = 8;
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      const c = client({ endpoints: [endpoints[w % endpoints.length]!], resolver: mergeCounters });
      for (let i = 0; i < each; i++) {
        await c.update('counter', (cur) => {
          const m = cur === null ? {} : JSON.parse(cur.toString('utf8')) as Record<string, number>;
          m[`w${w}`] = (m[`w${w}`] ?? 0) + 1;
          return JSON.stringify(m);
        });
      }
    }));
    const final = await client({ resolver: mergeCounters }).get('counter', { r: 'all' });
    const counts = JSON.parse(final.value!.toString('utf8')) as Record<string, number>;
    assert.equal(Object.values(counts).reduce((x, y) => x + y, 0), writers * each, JSON.stringify(counts));
  });

  it('routes a key straight to its first replica, from /ring and the members\' HTTP addresses in /cluster', async () => {
    const cl = (await request(cluster.nodes[0]!.httpPort, 'GET', '/cluster')).json() as { members: { nodeId: string; http?: string }[] };
    assert.deepEqual(cl.members.map((m) => m.http).sort(), [...endpoints].sort());
    const c = client({ endpoints: [endpoints[0]!] });
    await c.refreshRing();
    assert.ok(c.routesByRing);
    const ring = (await request(cluster.nodes[0]!.httpPort, 'GET', '/ring')).json() as { partitionCount: number; n: number; partitions: { id: number; preferenceList: string[] }[] };
    const routing = new Routing([endpoints[0]!], 1000);
    routing.install(ring, cl);
    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      const want = ((await request(cluster.nodes[1]!.httpPort, 'GET', `/ring?key=${key}`)).json() as { preferenceList: string[] }).preferenceList;
      const httpOf = new Map(cl.members.map((m) => [m.nodeId, m.http]));
      assert.deepEqual(routing.candidates(key, 0).slice(0, 3), want.map((id) => httpOf.get(id)), key);
    }
  });

  it('fails over when a node is killed', async () => {
    const c = client();
    await c.put('fo', 'before');
    await cluster.kill(0);
    for (let i = 0; i < 10; i++) {
      await c.put(`fo-${i}`, `v${i}`);
      assert.equal((await c.get(`fo-${i}`)).value?.toString(), `v${i}`);
    }
    assert.equal((await c.get('fo')).value?.toString(), 'before');
  });
});

describe('GossamerClient retries and errors (scripted server)', () => {
  let server: http.Server;
  let port = 0;
  let script: ((req: http.IncomingMessage, res: http.ServerResponse) => void)[] = [];
  const hits: number[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      hits.push(Date.now());
      const next = script.shift();
      if (next) next(req, res);
      else { res.statusCode = 500; res.end(); }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => { await new Promise((r) => server.close(r)); });

  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  it('honours Retry-After on 429, then succeeds', async () => {
    hits.length = 0;
    script = [
      json(429, { error: 'rate_limited', message: 'slow down' }, { 'Retry-After': '1' }),
      (_req, res) => { res.writeHead(200, { 'X-Gossamer-Context': 'AQAA' }); res.end('ok'); },
    ];
    const c = new GossamerClient({ endpoints: [`127.0.0.1:${port}`], ringRefreshMs: 0, backoffBaseMs: 1 });
    const r = await c.get('k');
    c.close();
    assert.equal(r.value?.toString(), 'ok');
    assert.equal(hits.length, 2);
    assert.ok(hits[1]! - hits[0]! >= 950, `waited ${hits[1]! - hits[0]!} ms`);
  });

  it('gives typed errors: 400 at once, insufficient_replicas with its counts after the attempts', async () => {
    script = [json(400, { error: 'bad_request', message: 'r must be 1..3' })];
    const c = new GossamerClient({ endpoints: [`127.0.0.1:${port}`], ringRefreshMs: 0, backoffBaseMs: 1, attempts: 3 });
    await assert.rejects(c.get('k'), (e: unknown) => e instanceof GossamerError && e.code === 'bad_request' && e.status === 400);
    hits.length = 0;
    script = Array.from({ length: 3 }, () => json(503, { error: 'insufficient_replicas', message: 'needed 2', required: 2, received: 1 }));
    await assert.rejects(c.put('k', 'v', { blind: true }), (e: unknown) => e instanceof GossamerError && e.code === 'insufficient_replicas'
      && e.required === 2 && e.received === 1 && e.retryable);
    assert.equal(hits.length, 3, 'three attempts');
    c.close();
    const dead = new GossamerClient({ endpoints: ['127.0.0.1:1'], ringRefreshMs: 0, backoffBaseMs: 1, attempts: 2 });
    await assert.rejects(dead.get('k'), (e: unknown) => e instanceof GossamerError && e.code === 'unreachable');
    dead.close();
  });
});

describe('the gossamer/client export', () => {
  it('resolves under plain node from the package directory (compiled JavaScript)', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e',
      "const m = await import('gossamer/client'); const c = new m.GossamerClient({ endpoints: ['127.0.0.1:1'], ringRefreshMs: 0 }); c.close(); console.log(typeof m.GossamerClient, typeof m.GossamerError);"],
    { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'function function');
  });
});
