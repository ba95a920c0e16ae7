import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHttpServer } from '../../src/api/http/index.js';
import type { GossamerHttpServer } from '../../src/api/http/index.js';
import { FakeService } from './fake-service.js';
import { request } from './http-client.js';
import type { Answer } from './http-client.js';
import { contextCovers, decodeContextToken } from '../../src/core/clock/context.js';

const CTX = 'x-gossamer-context';

describe('HTTP API against a fake node', () => {
  let svc: FakeService;
  let server: GossamerHttpServer;
  let port: number;
  const bugs: unknown[] = [];
  const call = (method: string, path: string, opts: Parameters<typeof request>[3] = {}): Promise<Answer> =>
    request(port, method, path, opts);

  before(async () => {
    svc = new FakeService('node-a', { maxValueBytes: 1024 });
    server = createHttpServer(svc, { onBug: (e) => bugs.push(e), replyGraceMs: 50, drainAfterRefusalMs: 500 });
    ({ port } = await server.listen('127.0.0.1', 0));
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => {
    svc.states.clear();
    svc.ops.length = 0;
    svc.serving = true;
    svc.failWith = undefined;
    svc.throwOnSubmit = false;
    svc.hang = false;
    svc.coordinators = ['node-a'];
    bugs.length = 0;
  });

  function assertError(a: Answer, status: number, code: string): Record<string, unknown> {
    assert.equal(a.status, status, a.text);
    assert.match(String(a.headers['content-type']), /application\/json/);
    const body = a.json() as Record<string, unknown>;
    assert.equal(body.error, code);
    assert.equal(typeof body.message, 'string');
    return body;
  }

  it('put then get: 204 with a context, then 200 with the value, its Content-Type and a context', async () => {
    const put = await call('PUT', '/kv/hello', { body: 'world', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(put.status, 204);
    assert.ok(put.headers[CTX]);
    const get = await call('GET', '/kv/hello');
    assert.equal(get.status, 200);
    assert.equal(get.text, 'world');
    assert.equal(get.headers['content-type'], 'text/plain');
    assert.ok(get.headers[CTX]);
    assert.ok(get.headers['last-modified']);
  });

  it('values are raw bytes', async () => {
    const bytes = Uint8Array.from([0, 255, 1, 254, 10, 13]);
    assert.equal((await call('PUT', '/kv/bin', { body: bytes })).status, 204);
    const get = await call('GET', '/kv/bin');
    assert.deepEqual([...get.body], [...bytes]);
    assert.equal(get.headers['content-type'], 'application/octet-stream');
  });

  it('an empty value is a value, not a delete', async () => {
    assert.equal((await call('PUT', '/kv/empty', { body: '' })).status, 204);
    const get = await call('GET', '/kv/empty');
    assert.equal(get.status, 200);
    assert.equal(get.body.length, 0);
  });

  it('a missing key is a plain 404 with no body and no context', async () => {
    const get = await call('GET', '/kv/nope');
    assert.equal(get.status, 404);
    assert.equal(get.body.length, 0);
    assert.equal(get.headers[CTX], undefined);
  });

  it('percent-encoded UTF-8 keys round-trip and reach the node decoded', async () => {
    const key = 'clé/ü 名前?&=';
    const path = '/kv/' + encodeURIComponent(key);
    assert.equal((await call('PUT', path, { body: 'v' })).status, 204);
    assert.equal(svc.ops[0]!.key, key);
    assert.equal((await call('GET', path)).text, 'v');
  });

  it('two blind writes become siblings (300); a write with the context resolves them', async () => {
    svc.coordinators = ['node-a', 'node-b'];
    await call('PUT', '/kv/k', { body: 'one', headers: { 'Content-Type': 'text/plain' } });
    await call('PUT', '/kv/k', { body: 'two' });
    const get = await call('GET', '/kv/k');
    assert.equal(get.status, 300);
    assert.match(String(get.headers['content-type']), /application\/json/);
    const body = get.json() as { context: string; siblings: { value: string | null; contentType: string; lastModified: string }[] };
    assert.equal(body.context, get.headers[CTX]);
    assert.deepEqual(body.siblings.map((s) => Buffer.from(s.value!, 'base64').toString()).sort(), ['one', 'two']);
    assert.deepEqual(body.siblings.map((s) => s.contentType).sort(), ['application/octet-stream', 'text/plain']);
    for (const s of body.siblings) assert.equal(new Date(s.lastModified).toISOString(), s.lastModified);
    const put = await call('PUT', '/kv/k', { body: 'merged', headers: { 'X-Gossamer-Context': body.context } });
    assert.equal(put.status, 204);
    const after = await call('GET', '/kv/k');
    assert.equal(after.status, 200);
    assert.equal(after.text, 'merged');
  });

  it('two blind writes through the same node are siblings too', async () => {
    await call('PUT', '/kv/same', { body: 'a' });
    await call('PUT', '/kv/same', { body: 'b' });
    assert.equal((await call('GET', '/kv/same')).status, 300);
  });

  it('PUT ?supersede=local replaces what the coordinator holds (as RESP SET): repeated blind writes leave one value', async () => {
    await call('PUT', '/kv/sup', { body: 'a' });
    await call('PUT', '/kv/sup', { body: 'b' }); // two blind writes: siblings
    assert.equal((await call('GET', '/kv/sup')).status, 300);
    assert.equal((await call('PUT', '/kv/sup?supersede=local', { body: 'c' })).status, 204);
    const op = svc.ops.at(-1)!;
    assert.equal(op.op === 'put' ? op.supersede : undefined, 'local');
    const get = await call('GET', '/kv/sup');
    assert.equal(get.status, 200);
    assert.equal(get.text, 'c');
    assertError(await call('PUT', '/kv/sup?supersede=all', { body: 'd' }), 400, 'bad_request');
    assertError(await call('GET', '/kv/sup?supersede=local'), 400, 'bad_request');
    assertError(await call('DELETE', '/kv/sup?supersede=local'), 400, 'bad_request');
    assert.equal((await call('GET', '/kv/sup')).text, 'c', 'refused requests changed nothing');
  });

  it('delete: 204, then 404 with the context of the delete; a concurrent delete shows as a null sibling', async () => {
    const put = await call('PUT', '/kv/d', { body: 'x' });
    const del = await call('DELETE', '/kv/d', { headers: { 'X-Gossamer-Context': String(put.headers[CTX]) } });
    assert.equal(del.status, 204);
    assert.ok(del.headers[CTX]);
    assert.equal(svc.ops[1]!.op === 'put' && svc.ops[1]!.value, null);
    const get = await call('GET', '/kv/d');
    assert.equal(get.status, 404);
    assert.equal(get.body.length, 0);
    assert.ok(get.headers[CTX]);

    await call('PUT', '/kv/d2', { body: 'x' });
    // An explicitly empty context (the token of no history) is a blind delete: a sibling of the value.
    await call('DELETE', '/kv/d2', { headers: { 'X-Gossamer-Context': 'AQAA' } });
    const conflict = await call('GET', '/kv/d2');
    assert.equal(conflict.status, 300);
    const values = (conflict.json() as { siblings: { value: string | null }[] }).siblings.map((s) => s.value);
    assert.ok(values.includes(null));
  });

  it('a delete without a context supersedes what a read finds: the next GET is 404, not 300 (issue 8, defect 6)', async () => {
    await call('PUT', '/kv/nc', { body: 'a' });
    await call('PUT', '/kv/nc', { body: 'b' }); // two blind writes: siblings
    assert.equal((await call('GET', '/kv/nc')).status, 300);
    const before = svc.ops.length;
    const del = await call('DELETE', '/kv/nc?r=all&w=2');
    assert.equal(del.status, 204);
    assert.ok(del.headers[CTX]);
    const [read, write] = svc.ops.slice(before);
    assert.equal(read?.op, 'get');
    assert.equal(read?.op === 'get' && read.r, 'all', 'the read uses the request\'s r');
    assert.ok(write?.op === 'put' && write.value === null && write.context && write.context.clock.length > 0, 'the tombstone carries the read context');
    assert.equal(write?.op === 'put' && write.w, 2);
    const after = await call('GET', '/kv/nc');
    assert.equal(after.status, 404);
    assert.equal(after.body.length, 0);
    // Deleting what is absent writes nothing and still answers 204.
    const n = svc.ops.length;
    assert.equal((await call('DELETE', '/kv/never-written')).status, 204);
    assert.deepEqual(svc.ops.slice(n).map((o) => o.op), ['get']);
  });

  it('passes r, w, quorum and timeout to the node; names map to their levels', async () => {
    await call('GET', '/kv/p?r=2&quorum=strict&timeout=150');
    await call('PUT', '/kv/p?w=all&quorum=sloppy', { body: 'v' });
    await call('GET', '/kv/p?r=local_quorum');
    await call('GET', '/kv/p?r=local_one&w=each_quorum&unknown=1');
    assert.deepEqual(svc.ops.map((o) => (o.op === 'get' ? [o.r, o.quorum, o.timeoutMs] : [o.w, o.quorum, o.timeoutMs])), [
      [2, 'strict', 150], ['all', 'sloppy', undefined], ['local_quorum', undefined, undefined], ['local_one', undefined, undefined],
    ]);
  });

  it('passes repair=blocking (and async) on reads to the node', async () => {
    await call('GET', '/kv/p?repair=blocking');
    await call('GET', '/kv/p?repair=async');
    await call('GET', '/kv/p');
    assert.deepEqual(svc.ops.map((o) => (o.op === 'get' ? o.repair : 'put')), ['blocking', 'async', undefined]);
  });

  for (const [what, path] of [
    ['R above N', '/kv/k?r=4'],
    ['W above N (on a GET too)', '/kv/k?w=7'],
    ['a non-numeric W', '/kv/k?w=abc'],
    ['R zero', '/kv/k?r=0'],
    ['a negative R', '/kv/k?r=-1'],
    ['a fractional R', '/kv/k?r=1.5'],
    ['a bad quorum mode', '/kv/k?quorum=maybe'],
    ['a bad repair mode', '/kv/k?repair=later'],
    ['a bad timeout', '/kv/k?timeout=soon'],
    ['a zero timeout', '/kv/k?timeout=0'],
    ['a repeated parameter', '/kv/k?r=1&r=2'],
    ['malformed percent-encoding', '/kv/%E0%A4%A'],
    ['percent-encoded invalid UTF-8', '/kv/%FF%FE'],
    ['an empty key', '/kv/'],
  ] as const) {
    it(`400 bad_request for ${what}`, async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const a = await call(method, path, method === 'PUT' ? { body: 'v' } : {});
        assertError(a, 400, 'bad_request');
      }
      assert.equal(svc.ops.length, 0, 'nothing reached the node');
    });
  }

  it('400 for a malformed context, on put and delete; nothing stored', async () => {
    for (const ctx of ['garbage!!', 'AAAA', 'x'.repeat(20000), 'AQ']) {
      assertError(await call('PUT', '/kv/c', { body: 'v', headers: { 'X-Gossamer-Context': ctx } }), 400, 'bad_request');
      assertError(await call('DELETE', '/kv/c', { headers: { 'X-Gossamer-Context': ctx } }), 400, 'bad_request');
    }
    assert.equal(svc.ops.length, 0);
  });

  it('414 key_too_long past 1024 bytes; 1024 bytes (multi-byte too) is fine', async () => {
    assertError(await call('GET', '/kv/' + 'a'.repeat(1025)), 414, 'key_too_long');
    assertError(await call('PUT', '/kv/' + encodeURIComponent('é'.repeat(513)), { body: 'v' }), 414, 'key_too_long');
    assert.equal((await call('PUT', '/kv/' + 'a'.repeat(1024), { body: 'v' })).status, 204);
    assert.equal((await call('PUT', '/kv/' + encodeURIComponent('é'.repeat(512)), { body: 'v' })).status, 204);
  });

  it('413 value_too_large past maxValueBytes (declared and streamed); the limit itself is fine', async () => {
    assert.equal((await call('PUT', '/kv/big', { body: Buffer.alloc(1024, 1) })).status, 204);
    assertError(await call('PUT', '/kv/big', { body: Buffer.alloc(1025, 1) }), 413, 'value_too_large');
    // Chunked, no Content-Length: refused while streaming.
    const a = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequestChunked(port, '/kv/big2', (status, body) => resolve({ status, body }), reject);
      req.write(Buffer.alloc(800));
      setTimeout(() => { req.write(Buffer.alloc(800)); req.end(); }, 20);
    });
    assert.equal(a.status, 413);
    assert.equal(JSON.parse(a.body).error, 'value_too_large');
    assert.equal((await call('GET', '/kv/big2')).status, 404);
  });

  it('a huge streamed body is refused without being buffered and the node keeps serving', async () => {
    const answer = await new Promise<number>((resolve) => {
      const req = httpRequestChunked(port, '/kv/huge', (status) => resolve(status), () => resolve(-1));
      const chunk = Buffer.alloc(64 * 1024);
      let sent = 0;
      const pump = (): void => {
        while (sent < 50 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) { req.once('drain', pump); return; }
        }
        req.end();
      };
      req.on('error', () => resolve(-1));
      pump();
    });
    assert.ok(answer === 413 || answer === -1, `got ${answer}`);
    assert.equal((await call('GET', '/health')).status, 200);
  });

  it('404 not_found for unknown routes', async () => {
    for (const p of ['/', '/kv', '/nope', '/uix', '/ui/nope', '/admin/local/', '/health/x']) {
      const a = await call('GET', p);
      assert.ok(a.status === 404 || a.status === 400, `${p}: ${a.status}`);
      if (p !== '/admin/local/') assertError(a, 404, 'not_found');
    }
  });

  it('405 method_not_allowed with Allow on known routes', async () => {
    const a = assertError(await call('POST', '/kv/k', { body: 'v' }), 405, 'method_not_allowed');
    assert.ok(a);
    assert.equal((await call('PATCH', '/kv/k', { body: 'v' })).headers.allow, 'GET, HEAD, PUT, DELETE');
    assertError(await call('PUT', '/health', { body: '' }), 405, 'method_not_allowed');
    assertError(await call('DELETE', '/ring'), 405, 'method_not_allowed');
    assertError(await call('POST', '/cluster'), 405, 'method_not_allowed');
    assertError(await call('PUT', '/admin/local/k', { body: 'x' }), 405, 'method_not_allowed');
    assert.equal(svc.ops.length, 0);
  });

  it('503 insufficient_replicas carries required and received', async () => {
    svc.failWith = { ok: false, error: 'insufficient_replicas', message: 'only 2 of 3', required: 3, received: 2 };
    const a = assertError(await call('GET', '/kv/k?r=3'), 503, 'insufficient_replicas');
    assert.equal(a.required, 3);
    assert.equal(a.received, 2);
    const b = assertError(await call('PUT', '/kv/k', { body: 'v' }), 503, 'insufficient_replicas');
    assert.equal(b.required, 3);
  });

  it('503 unavailable while not serving; /health says so too', async () => {
    svc.serving = false;
    assertError(await call('GET', '/health'), 503, 'unavailable');
    assertError(await call('GET', '/kv/k'), 503, 'unavailable');
    assertError(await call('PUT', '/kv/k', { body: 'v' }), 503, 'unavailable');
    svc.serving = true;
    const h = await call('GET', '/health');
    assert.equal(h.status, 200);
    assert.deepEqual(h.json(), { status: 'ok', nodeId: 'node-a' });
  });

  it('a node error becomes its status; a thrown exception is a 500 reported as a bug, not a crash', async () => {
    svc.failWith = { ok: false, error: 'bad_request', message: 'nope' };
    assertError(await call('GET', '/kv/k'), 400, 'bad_request');
    svc.failWith = undefined;
    svc.throwOnSubmit = true;
    assertError(await call('GET', '/kv/k'), 500, 'internal_error');
    assert.equal(bugs.length, 1);
  });

  it('a node that never answers gets a 503 after the timeout plus grace: insufficient_replicas, as the request was taken', async () => {
    svc.hang = true;
    const body = assertError(await call('GET', '/kv/k?timeout=30'), 503, 'insufficient_replicas');
    assert.deepEqual([body.required, body.received], [2, 0]);
    // `unavailable` is kept for requests refused before they were taken (nothing was stored).
    assertError(await call('PUT', '/kv/k?timeout=30&w=all', { body: 'v' }), 503, 'insufficient_replicas');
  });

  it('/cluster, /ring and /ring?key=K', async () => {
    const c = (await call('GET', '/cluster')).json() as { nodeId: string; members: { nodeId: string; state: string; ownership: number }[] };
    assert.equal(c.nodeId, 'node-a');
    assert.equal(c.members.length, 3);
    assert.deepEqual(Object.keys(c.members[0]!).sort(),
      ['address', 'dc', 'heartbeat', 'nodeId', 'ownership', 'rack', 'state', 'weight']);
    const r = (await call('GET', '/ring')).json() as { partitionCount: number; n: number; partitions: { id: number; owner: string; preferenceList: string[] }[] };
    assert.equal(r.partitionCount, 8);
    assert.equal(r.n, 3);
    assert.equal(r.partitions.length, 8);
    assert.deepEqual(r.partitions[1], { id: 1, owner: 'node-b', preferenceList: ['node-b', 'node-c', 'node-a'] });
    const k = (await call('GET', '/ring?key=abc')).json();
    assert.deepEqual(k, { key: 'abc', partition: 3, preferenceList: ['node-a', 'node-b', 'node-c'] });
  });

  it('/admin/local/{key}: what this node holds, 404 when nothing', async () => {
    assert.equal((await call('GET', '/admin/local/x')).status, 404);
    await call('PUT', '/kv/x', { body: 'vv' });
    const a = (await call('GET', '/admin/local/x')).json() as { nodeId: string; versions: { value: string; context: string; hintFor: null }[] };
    assert.equal(a.nodeId, 'node-a');
    assert.equal(a.versions.length, 1);
    assert.equal(Buffer.from(a.versions[0]!.value, 'base64').toString(), 'vv');
    assert.equal(a.versions[0]!.hintFor, null);
    assert.ok(a.versions[0]!.context.length > 0);
  });

  it('/admin/local gives each version its own context, covering that version alone (issue 8)', async () => {
    await call('PUT', '/kv/two', { body: 'one' });
    await call('PUT', '/kv/two', { body: 'two' });
    const a = (await call('GET', '/admin/local/two')).json() as { versions: { value: string; context: string }[] };
    assert.equal(a.versions.length, 2);
    const [x, y] = a.versions.map((v) => decodeContextToken(v.context));
    assert.notDeepEqual(x, y);
    const dots = svc.states.get('two')!.siblings.map((v) => v.dot);
    assert.ok(contextCovers(x!, dots[0]!) && !contextCovers(x!, dots[1]!));
    assert.ok(contextCovers(y!, dots[1]!) && !contextCovers(y!, dots[0]!));
  });

  it('/ring?key= with a malformed percent-encoding is a 400, as on /kv (issue 8)', async () => {
    assertError(await call('GET', '/ring?key=%ZZ'), 400, 'bad_request');
    assertError(await call('GET', '/kv/%ZZ'), 400, 'bad_request');
    assert.equal(((await call('GET', '/ring?key=a%20b')).json() as { key: string }).key, 'a b');
  });

  it('headers over the limit get 431 with their own code (issue 8)', async () => {
    const a = await call('GET', '/kv/k', { headers: { 'X-Big': 'x'.repeat(40 * 1024) } });
    assertError(a, 431, 'headers_too_large');
  });

  it('/metrics counts requests', async () => {
    await call('GET', '/health');
    const m = await call('GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.text, /gossamer_http_requests_total\{route="health",method="GET",status="200"\} \d+/);
  });

  it('HEAD on a key answers headers only', async () => {
    await call('PUT', '/kv/h', { body: 'abc' });
    const h = await call('HEAD', '/kv/h');
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
  });

  it('an abruptly closed connection mid-body stores nothing and crashes nothing', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write('PUT /kv/abrupt HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nhalf-a-body');
        setTimeout(() => { s.destroy(); resolve(); }, 30);
      });
      s.on('error', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(svc.ops.length, 0);
    assert.equal((await call('GET', '/health')).status, 200);
  });

  it('garbage on the socket gets a 400 and the server keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.write('\x00\x01garbage\r\n\r\n'); });
      let got = '';
      s.on('data', (d) => { got += d.toString(); });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await call('GET', '/health')).status, 200);
  });

  it('Expect: 100-continue: refused before the body when the declared size is over the limit', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequestRaw(port, '/kv/exp', { 'Content-Length': '5000', Expect: '100-continue' }, resolve, reject);
      req.on('continue', () => reject(new Error('should not continue')));
    });
    assert.equal(status, 413);
    const ok = await new Promise<number>((resolve, reject) => {
      const req = httpRequestRaw(port, '/kv/exp', { 'Content-Length': '3', Expect: '100-continue' }, resolve, reject);
      req.on('continue', () => req.end('abc'));
    });
    assert.equal(ok, 204);
  });
});

import http from 'node:http';

function httpRequestChunked(port: number, path: string, done: (status: number, body: string) => void, fail: (e: Error) => void): http.ClientRequest {
  const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path, agent: false }, (res) => {
    let body = '';
    res.on('data', (d: Buffer) => { body += d.toString(); });
    res.on('end', () => done(res.statusCode ?? 0, body));
    res.on('error', fail);
  });
  req.on('error', fail);
  return req;
}

function httpRequestRaw(port: number, path: string, headers: Record<string, string>, done: (status: number) => void, fail: (e: Error) => void): http.ClientRequest {
  const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path, headers, agent: false }, (res) => {
    res.resume();
    res.on('end', () => done(res.statusCode ?? 0));
  });
  req.on('error', fail);
  req.flushHeaders();
  return req;
}
