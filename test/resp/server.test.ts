/** The RESP front end in-process, over a fake node: commands, errors, pipelining, bounds. */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createRespServer } from '../../src/api/resp/index.js';
import type { GossamerRespServer } from '../../src/api/resp/index.js';
import { SlowService } from './fake.js';
import { RawResp } from './resp-client.js';
import type { Reply } from './resp-client.js';

const text = (r: Reply): unknown => (Buffer.isBuffer(r) ? r.toString('utf8') : Array.isArray(r) ? r.map(text) : r);

describe('RESP front end (in-process, fake node)', () => {
  let svc: SlowService;
  let server: GossamerRespServer;
  let port = 0;
  let c: RawResp;

  before(async () => {
    svc = new SlowService('node-a', { maxValueBytes: 64 });
    server = createRespServer(svc);
    ({ port } = await server.listen('127.0.0.1', 0));
  });
  after(async () => { await server.close(); });
  beforeEach(async () => {
    svc.states.clear();
    svc.failWith = undefined;
    svc.serving = true;
    c = await RawResp.connect(port);
  });

  it('PING, PING msg, ECHO, SELECT 0, and SELECT 1 refused', async () => {
    assert.equal(await c.command('PING'), 'PONG');
    assert.equal(text(await c.command('ping', 'hi')), 'hi');
    assert.equal(text(await c.command('ECHO', 'x y')), 'x y');
    assert.equal(await c.command('SELECT', '0'), 'OK');
    assert.deepEqual(await c.command('SELECT', '1'), { error: 'ERR DB index is out of range' });
    c.close();
  });

  it('SET then GET; repeated SETs leave one version; GET of a missing key is nil', async () => {
    for (const v of ['1', '2', '3']) assert.equal(await c.command('SET', 'k', v), 'OK');
    assert.equal(text(await c.command('GET', 'k')), '3');
    assert.equal(svc.states.get('k')!.siblings.length, 1, 'no sibling pile-up');
    assert.ok(svc.ops.filter((o) => o.op === 'put').every((o) => o.op === 'put' && o.supersede === 'local'));
    assert.equal(await c.command('GET', 'nope'), null);
    c.close();
  });

  it('GET answers the sibling with the newest timestamp', async () => {
    await svc.submit({ op: 'put', key: 's', value: Buffer.from('older') });
    await svc.submit({ op: 'put', key: 's', value: Buffer.from('newer') });
    await svc.submit({ op: 'put', key: 's2', value: Buffer.from('b') });
    assert.equal(svc.states.get('s')!.siblings.length, 2);
    assert.equal(text(await c.command('GET', 's')), 'newer');
    c.close();
  });

  it('DEL counts the keys that existed and supersedes what it read; EXISTS, MSET, MGET', async () => {
    assert.equal(await c.command('MSET', 'a', '1', 'b', '2'), 'OK');
    assert.deepEqual(text(await c.command('MGET', 'a', 'b', 'c')), ['1', '2', null]);
    assert.equal(await c.command('EXISTS', 'a', 'b', 'c', 'a'), 3);
    await svc.submit({ op: 'put', key: 'a', value: Buffer.from('blind sibling') });
    assert.equal(await c.command('DEL', 'a', 'c', 'a'), 1);
    assert.equal(await c.command('GET', 'a'), null);
    assert.ok(svc.states.get('a')!.siblings.every((v) => v.value === null), 'every version read was superseded by the tombstone');
    assert.equal(await c.command('EXISTS', 'a'), 0);
    c.close();
  });

  it('HELLO and HELLO 2 answer RESP2; HELLO 3 is refused as Redis 5 refuses it', async () => {
    const h = text(await c.command('HELLO', '2', 'SETNAME', 'me')) as unknown[];
    assert.equal(h[h.indexOf('proto') + 1], 2);
    assert.equal(text(await c.command('CLIENT', 'GETNAME')), 'me');
    assert.ok(Array.isArray(await c.command('HELLO')));
    const r = await c.command('HELLO', '3');
    assert.match((r as { error: string }).error, /^ERR unknown command 'HELLO'/);
    assert.equal(await c.command('PING'), 'PONG', 'the connection stays usable');
    c.close();
  });

  it('COMMAND, CONFIG GET, CLIENT, INFO answer what tools ask', async () => {
    assert.deepEqual(await c.command('COMMAND', 'DOCS'), []);
    assert.equal(await c.command('COMMAND', 'COUNT'), 0);
    assert.deepEqual(text(await c.command('CONFIG', 'GET', 'save')), ['save', '']);
    assert.deepEqual(text(await c.command('CONFIG', 'GET', 'appendonly')), ['appendonly', 'no']);
    assert.deepEqual(await c.command('CONFIG', 'GET', 'nonexistent'), []);
    assert.equal(await c.command('CLIENT', 'SETINFO', 'LIB-NAME', 'x'), 'OK');
    assert.equal(typeof await c.command('CLIENT', 'ID'), 'number');
    const info = text(await c.command('INFO')) as string;
    assert.match(info, /redis_version:/);
    assert.match(info, /loading:0/);
    assert.match(info, /gossamer_node_id:node-a/);
    c.close();
  });

  it('unknown commands and bad arguments get -ERR replies and the connection stays open', async () => {
    assert.match((await c.command('FLUSHALL') as { error: string }).error, /^ERR unknown command 'FLUSHALL'/);
    assert.match((await c.command('GET') as { error: string }).error, /wrong number of arguments for 'get'/);
    assert.match((await c.command('SET', 'k', 'v', 'EX', '10') as { error: string }).error, /^ERR syntax error/);
    assert.match((await c.command('SET', '', 'v') as { error: string }).error, /empty keys/);
    assert.match((await c.command('SET', 'k'.repeat(1025), 'v') as { error: string }).error, /limit is 1024/);
    assert.match((await c.command('SET', Buffer.from([0xff, 0xfe]), 'v') as { error: string }).error, /UTF-8/);
    assert.match((await c.command('SET', 'k', 'x'.repeat(65)) as { error: string }).error, /value_too_large/);
    assert.equal(svc.states.size, 0, 'nothing was stored');
    assert.equal(await c.command('PING'), 'PONG');
    c.close();
  });

  it('a node refusal becomes an -ERR line with the API code', async () => {
    svc.failWith = { ok: false, error: 'insufficient_replicas', message: 'needed 2 replies, received 1', required: 2, received: 1 };
    assert.match((await c.command('SET', 'k', 'v') as { error: string }).error, /^ERR insufficient_replicas: .*required 2, received 1/);
    svc.failWith = undefined;
    svc.serving = false;
    assert.match((await c.command('GET', 'k') as { error: string }).error, /^ERR unavailable/);
    c.close();
  });

  it('pipelined replies come back in the order the commands were sent', async () => {
    c.write(Buffer.concat([
      Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nslow1\r\n$1\r\nA\r\n'),
      Buffer.from('*1\r\n$4\r\nPING\r\n'),
      Buffer.from('*3\r\n$3\r\nSET\r\n$4\r\nfast\r\n$1\r\nB\r\n'),
      Buffer.from('*2\r\n$3\r\nGET\r\n$5\r\nslow1\r\n'),
      Buffer.from('*2\r\n$4\r\nECHO\r\n$4\r\nlast\r\n'),
    ]));
    while (svc.heldCount < 1) await new Promise((r) => setImmediate(r));
    svc.release();
    while (svc.heldCount < 1) await new Promise((r) => setImmediate(r));
    svc.release();
    const got: unknown[] = [];
    for (let i = 0; i < 5; i++) got.push(text(await c.read()));
    assert.deepEqual(got, ['OK', 'PONG', 'OK', 'A', 'last']);
    c.close();
  });

  it('pipelined DEL then SET of one key leaves the value; SET then DEL leaves nothing', async () => {
    await c.command('SET', 'd', 'old');
    c.write(Buffer.concat([
      Buffer.from('*2\r\n$3\r\nDEL\r\n$1\r\nd\r\n'),
      Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nd\r\n$3\r\nnew\r\n'),
      Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nd\r\n'),
      Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\ne\r\n$1\r\nx\r\n'),
      Buffer.from('*2\r\n$3\r\nDEL\r\n$1\r\ne\r\n'),
      Buffer.from('*2\r\n$6\r\nEXISTS\r\n$1\r\ne\r\n'),
    ]));
    const got: unknown[] = [];
    for (let i = 0; i < 6; i++) got.push(text(await c.read()));
    assert.deepEqual(got, [1, 'OK', 'new', 'OK', 1, 0]);
    c.close();
  });

  it('a malformed frame closes that connection with a protocol error; other connections and the server go on', async () => {
    const other = await RawResp.connect(port);
    assert.equal(await c.command('PING'), 'PONG');
    c.write('*1\r\n$99999999999\r\n');
    assert.match((await c.read() as { error: string }).error, /^ERR Protocol error: invalid bulk length/);
    await c.closedByServer();
    assert.equal(await other.command('PING'), 'PONG');
    other.close();
  });

  it('QUIT answers OK and closes', async () => {
    assert.equal(await c.command('QUIT'), 'OK');
    await c.closedByServer();
  });

  it('ioredis works, pipelining included', async () => {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await r.connect();
    assert.equal(await r.set('io', 'v1'), 'OK');
    assert.equal(await r.get('io'), 'v1');
    const p = r.pipeline();
    for (let i = 0; i < 100; i++) p.set(`p${i}`, String(i));
    for (let i = 0; i < 100; i++) p.get(`p${i}`);
    const res = await p.exec();
    assert.ok(res);
    assert.deepEqual(res.slice(100).map(([e, v]) => { assert.equal(e, null); return v; }), Array.from({ length: 100 }, (_, i) => String(i)));
    assert.equal(await r.del('io', 'p1', 'missing'), 2);
    assert.deepEqual(await r.mget('io', 'p2'), [null, '2']);
    await r.quit();
    c.close();
  });
});
