/**
 * Three real `gossamer start` processes over TCP on 127.0.0.1: the HTTP API end to end, bad
 * input of every kind (the nodes keep serving), and a node killed with SIGKILL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { request } from '../api/http-client.js';
import type { Answer } from '../api/http-client.js';
import { TestCluster, runCli, sleep } from './helpers.js';

const CTX = 'x-gossamer-context';
const MAX_VALUE = 65536;

describe('a 3-node cluster of real processes', { timeout: 180_000 }, () => {
  let c: TestCluster;
  const port = (i: number): number => c.nodes[i]!.httpPort;
  const call = (i: number, method: string, path: string, opts: Parameters<typeof request>[3] = {}): Promise<Answer> =>
    request(port(i), method, path, opts);

  async function stillServing(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const proc = c.nodes[i]!.proc;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) continue; // stopped on purpose
      const h = await call(i, 'GET', '/health');
      assert.equal(h.status, 200, `node ${i} stopped serving`);
    }
  }

  before(async () => {
    c = await TestCluster.create({ size: 3, extraArgs: ['--max-value-bytes', String(MAX_VALUE), '--partitions', '64'] });
  });
  after(async () => {
    if (process.env.GOSSAMER_TEST_LOGS) process.stderr.write(c.logs());
    await c.destroy();
  });

  it('/health is 503 until the node serves with a known ring, then 200', async () => {
    c.start(0);
    assert.equal(await c.waitListening(0), 503, 'a lone seed waits for the others');
    const h = await call(0, 'GET', '/health');
    assert.equal((h.json() as { error: string }).error, 'unavailable');
    const kv = await call(0, 'PUT', '/kv/early', { body: 'x' });
    assert.equal(kv.status, 503);
    assert.equal((kv.json() as { error: string }).error, 'unavailable');
    c.start(1);
    c.start(2);
    await c.waitAllHealthy();
    const ok = (await call(0, 'GET', '/health')).json();
    assert.deepEqual(ok, { status: 'ok', nodeId: 'n0' });
  });

  it('a put through node 0 reads back through node 2', async () => {
    const put = await call(0, 'PUT', '/kv/greeting', { body: 'hello', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(put.status, 204, put.text);
    assert.ok(put.headers[CTX]);
    const get = await call(2, 'GET', '/kv/greeting');
    assert.equal(get.status, 200);
    assert.equal(get.text, 'hello');
    assert.equal(get.headers['content-type'], 'text/plain');
    assert.ok(get.headers[CTX]);
  });

  it('/cluster and /ring describe three members', async () => {
    type Cluster = { nodeId: string; members: { nodeId: string; ownership: number; state: string }[] };
    let cl = (await call(1, 'GET', '/cluster')).json() as Cluster;
    // A member is alive once this node's own connection to it is up (it may trail the ring by a moment).
    for (let i = 0; i < 100 && cl.members.some((m) => m.state !== 'alive'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      cl = (await call(1, 'GET', '/cluster')).json() as Cluster;
    }
    assert.equal(cl.nodeId, 'n1');
    assert.deepEqual(cl.members.map((m) => m.nodeId).sort(), ['n0', 'n1', 'n2']);
    assert.deepEqual(cl.members.map((m) => m.state), ['alive', 'alive', 'alive']);
    const total = cl.members.reduce((a, m) => a + m.ownership, 0);
    assert.ok(Math.abs(total - 1) < 1e-9);
    const ring = (await call(1, 'GET', '/ring')).json() as { partitionCount: number; n: number; partitions: { preferenceList: string[] }[] };
    assert.equal(ring.partitionCount, 64);
    assert.equal(ring.n, 3);
    assert.equal(ring.partitions.length, 64);
    const k = (await call(1, 'GET', '/ring?key=greeting')).json() as { preferenceList: string[] };
    assert.deepEqual([...k.preferenceList].sort(), ['n0', 'n1', 'n2']);
  });

  it('two blind puts through two nodes are siblings (300); a put with the context merges them', async () => {
    assert.equal((await call(0, 'PUT', '/kv/cart', { body: 'apple' })).status, 204);
    assert.equal((await call(1, 'PUT', '/kv/cart', { body: 'pear' })).status, 204);
    const get = await call(2, 'GET', '/kv/cart?r=3');
    assert.equal(get.status, 300, get.text);
    const doc = get.json() as { context: string; siblings: { value: string }[] };
    assert.deepEqual(doc.siblings.map((s) => Buffer.from(s.value, 'base64').toString()).sort(), ['apple', 'pear']);
    assert.equal(doc.context, get.headers[CTX]);
    const merge = await call(2, 'PUT', '/kv/cart?w=3', { body: 'apple+pear', headers: { 'X-Gossamer-Context': doc.context } });
    assert.equal(merge.status, 204);
    const after = await call(0, 'GET', '/kv/cart?r=3');
    assert.equal(after.status, 200, after.text);
    assert.equal(after.text, 'apple+pear');
  });

  it('two blind puts through the same node are siblings too', async () => {
    await call(1, 'PUT', '/kv/same', { body: 'one' });
    await call(1, 'PUT', '/kv/same', { body: 'two' });
    const get = await call(0, 'GET', '/kv/same?r=all');
    assert.equal(get.status, 300, get.text);
    assert.equal((get.json() as { siblings: unknown[] }).siblings.length, 2);
  });

  it('delete → 404 with the context of the delete', async () => {
    const put = await call(0, 'PUT', '/kv/gone?w=3', { body: 'x' });
    const del = await call(1, 'DELETE', '/kv/gone?w=3', { headers: { 'X-Gossamer-Context': String(put.headers[CTX]) } });
    assert.equal(del.status, 204);
    const get = await call(2, 'GET', '/kv/gone?r=3');
    assert.equal(get.status, 404);
    assert.equal(get.body.length, 0);
    assert.ok(get.headers[CTX]);
    assert.equal((await call(2, 'GET', '/kv/never-written')).status, 404);
  });

  it('/admin/local shows what each node holds', async () => {
    await call(0, 'PUT', '/kv/local?w=3', { body: 'L' });
    for (let i = 0; i < 3; i++) {
      const a = await call(i, 'GET', '/admin/local/local');
      assert.equal(a.status, 200);
      const doc = a.json() as { nodeId: string; versions: { value: string }[] };
      assert.equal(doc.nodeId, `n${i}`);
      assert.equal(Buffer.from(doc.versions[0]!.value, 'base64').toString(), 'L');
    }
  });

  it('bad input gets its status and changes nothing; the nodes keep serving', async () => {
    const expectError = async (a: Answer, status: number, code: string): Promise<void> => {
      assert.equal(a.status, status, a.text);
      assert.equal((a.json() as { error: string }).error, code);
    };
    await expectError(await call(0, 'PUT', '/kv/greeting', { body: 'evil', headers: { 'X-Gossamer-Context': 'not-a-context!' } }), 400, 'bad_request');
    // A well-formed context whose counter is 2^53 - 1: refused, never an overflow that kills the node.
    await expectError(await call(0, 'PUT', '/kv/greeting', { body: 'evil', headers: { 'X-Gossamer-Context': 'AQECbjD_________DwAA' } }), 400, 'bad_request');
    await expectError(await call(0, 'GET', '/kv/greeting?r=4'), 400, 'bad_request');
    await expectError(await call(0, 'PUT', '/kv/greeting?w=abc', { body: 'evil' }), 400, 'bad_request');
    await expectError(await call(0, 'GET', '/kv/greeting?timeout=-5'), 400, 'bad_request');
    await expectError(await call(1, 'PUT', '/kv/' + 'k'.repeat(1025), { body: 'evil' }), 414, 'key_too_long');
    await expectError(await call(1, 'PUT', '/kv/greeting', { body: Buffer.alloc(MAX_VALUE + 1, 7) }), 413, 'value_too_large');
    await expectError(await call(2, 'GET', '/no/such/route'), 404, 'not_found');
    await expectError(await call(2, 'POST', '/kv/greeting', { body: 'evil' }), 405, 'method_not_allowed');
    assert.equal((await call(1, 'PUT', '/kv/limit', { body: Buffer.alloc(MAX_VALUE, 7) })).status, 204);
    await stillServing();
    assert.equal((await call(2, 'GET', '/kv/greeting?r=3')).text, 'hello', 'nothing was changed');
  });

  it('a garbage frame on the inter-node port is dropped; the cluster keeps working', async () => {
    for (const garbage of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), Buffer.alloc(4096, 0xab)]) {
      await new Promise<void>((resolve) => {
        const s = net.connect(c.nodes[1]!.listenPort, '127.0.0.1', () => {
          s.write(garbage);
          setTimeout(() => s.destroy(), 100);
        });
        s.on('error', () => resolve());
        s.on('close', () => resolve());
      });
    }
    await stillServing();
    assert.equal((await call(0, 'PUT', '/kv/after-garbage?w=3', { body: 'fine' })).status, 204);
    assert.equal((await call(1, 'GET', '/kv/after-garbage?r=3')).text, 'fine');
  });

  it('an abruptly closed client connection mid-body stores nothing and crashes nothing', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(port(0), '127.0.0.1', () => {
        s.write('PUT /kv/abrupt HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n' + 'y'.repeat(3000));
        setTimeout(() => { s.destroy(); resolve(); }, 100);
      });
      s.on('error', () => resolve());
    });
    await sleep(100);
    await stillServing();
    assert.equal((await call(0, 'GET', '/kv/abrupt?r=3')).status, 404);
  });

  it('the CLI: put, get, siblings, del, status, ring; exit statuses', async () => {
    const host = ['--host', `127.0.0.1:${port(0)}`];
    assert.equal((await runCli(['put', 'cli-key', 'v1', ...host])).code, 0);
    const got = await runCli(['get', 'cli-key', ...host]);
    assert.equal(got.code, 0);
    assert.equal(got.stdout, 'v1');
    // --blind: no context read first, so the write is a sibling of v1 (a plain put would supersede it).
    assert.equal((await runCli(['put', 'cli-key', '--file', '-', '--blind', ...host], 'v2 from stdin')).code, 0);
    const sib = await runCli(['get', 'cli-key', ...host]);
    assert.equal(sib.code, 0);
    assert.match(sib.stdout, /2 siblings/);
    assert.match(sib.stdout, /"v1"/);
    assert.match(sib.stdout, /"v2 from stdin"/);
    const ctx = /context: (\S+)/.exec(sib.stdout)![1]!;
    assert.equal((await runCli(['put', 'cli-key', 'merged', '--context', ctx, '--w', '3', ...host])).code, 0);
    assert.equal((await runCli(['get', 'cli-key', '--r', '3', ...host])).stdout, 'merged');
    // A delete with the context seen (a plain `del` reads it first by itself).
    const seen = await runCli(['get', 'cli-key', '-v', ...host]);
    const ctx2 = /context: (\S+)/.exec(seen.stderr)![1]!;
    assert.equal((await runCli(['del', 'cli-key', '--context', ctx2, '--w', '3', ...host])).code, 0);
    const missing = await runCli(['get', 'cli-key', ...host]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^gossamer: not found: cli-key\n$/);
    const bad = await runCli(['get', 'cli-key', '--r', '7', ...host]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.split('\n').filter(Boolean).length, 1);
    assert.equal((await runCli(['get', 'x', '--r', 'lots', ...host])).code, 2);
    assert.equal((await runCli(['frobnicate'])).code, 2);
    const status = await runCli(['status', ...host]);
    assert.equal(status.code, 0);
    for (const id of ['n0', 'n1', 'n2']) assert.match(status.stdout, new RegExp(`^${id}`, 'm'));
    const ring = await runCli(['ring', '--key', 'greeting', ...host]);
    assert.equal(ring.code, 0);
    assert.match(ring.stdout, /partition \d+, replicas n\d, n\d, n\d/);
    const down = await runCli(['get', 'k', '--host', '127.0.0.1:1']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach 127\.0\.0\.1:1/);
  });

  it('with one node killed (SIGKILL): a W=2 put succeeds, an R=3 get is 503 insufficient_replicas 3/2', async () => {
    const exit = await c.kill(2, 'SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    const put = await call(0, 'PUT', '/kv/after-crash?w=2&timeout=1000', { body: 'survives' });
    assert.equal(put.status, 204, put.text);
    const get2 = await call(1, 'GET', '/kv/after-crash?r=2&timeout=1000');
    assert.equal(get2.status, 200, get2.text);
    assert.equal(get2.text, 'survives');
    for (const q of ['', '&quorum=strict']) {
      const get3 = await call(0, 'GET', `/kv/after-crash?r=3&timeout=300${q}`);
      assert.equal(get3.status, 503, get3.text);
      const body = get3.json() as { error: string; required: number; received: number; message: string };
      assert.equal(body.error, 'insufficient_replicas');
      assert.equal(body.required, 3);
      assert.equal(body.received, 2);
    }
    // The killed node stops answering gossip and probes: the others suspect it, then convict it.
    let state = '';
    for (let i = 0; i < 100 && state !== 'faulty'; i++) {
      const cl = (await call(0, 'GET', '/cluster')).json() as { members: { nodeId: string; state: string }[] };
      state = cl.members.find((m) => m.nodeId === 'n2')!.state;
      if (state !== 'faulty') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state, 'faulty');
    await stillServing();
  });

  it('SIGTERM is a graceful shutdown with exit status 0', async () => {
    const exits = await Promise.all([c.kill(0, 'SIGTERM'), c.kill(1, 'SIGTERM')]);
    for (const e of exits) assert.deepEqual(e, { code: 0, signal: null }, c.logs());
  });
});
