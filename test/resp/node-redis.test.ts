/**
 * node-redis (the `redis` package, 6.x) against the RESP front end in-process, over a fake node.
 *
 * node-redis 6 speaks RESP3 by default: its handshake is `HELLO 3`, and it has no fallback when
 * HELLO is refused (any error fails the handshake, and the default reconnect strategy retries
 * forever). Gossamer refuses `HELLO 3` the way Redis 5 does (API.md), so node-redis must be told
 * `RESP: 2`. The first test shows what the default options do; the rest use `RESP: 2`.
 */
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RESP_TYPES, createClient } from 'redis';
import { createRespServer } from '../../src/api/resp/index.js';
import type { GossamerRespServer } from '../../src/api/resp/index.js';
import { SlowService } from './fake.js';
import { RawResp } from './resp-client.js';

/** Waits (turn by turn, no timers) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

describe('node-redis 6 against the RESP front end', () => {
  let svc: SlowService;
  let server: GossamerRespServer;
  let port = 0;
  /** Every client made, destroyed after each test so a failed assertion leaves none reconnecting. */
  const made: { isOpen: boolean; destroy(): void }[] = [];
  const connect = async () => {
    const c = createClient({ url: `redis://127.0.0.1:${port}`, RESP: 2 });
    made.push(c);
    c.on('error', () => { /* every error is also a rejected command, asserted there */ });
    await c.connect();
    return c;
  };

  before(async () => {
    svc = new SlowService('node-a', { maxValueBytes: 64 });
    server = createRespServer(svc);
    ({ port } = await server.listen('127.0.0.1', 0));
  });
  after(async () => { await server.close(); });
  afterEach(() => {
    for (const c of made.splice(0)) if (c.isOpen) c.destroy();
  });
  beforeEach(() => {
    svc.states.clear();
    svc.ops.length = 0;
  });

  it('default options (RESP3): HELLO 3 is refused as Redis 5 refuses it, and node-redis keeps reconnecting', async () => {
    const c = createClient({ socket: { host: '127.0.0.1', port } });
    made.push(c);
    const errors: Error[] = [];
    c.on('error', (e: Error) => errors.push(e));
    // (events.once would reject on the 'error' event that comes first)
    const reconnecting = new Promise((resolve) => c.once('reconnecting', resolve));
    let settled = false;
    const connecting = c.connect().then(() => 'ready', (e: Error) => e).finally(() => { settled = true; });
    await reconnecting;
    assert.equal(settled, false, 'connect() is still retrying after the refusal');
    assert.ok(errors.length >= 1);
    assert.match(errors[0]!.message, /^ERR unknown command 'HELLO', with args beginning with: '3'/);
    assert.equal(c.isReady, false, 'the handshake never completes');
    c.destroy();
    const outcome = await connecting;
    assert.ok(outcome instanceof Error, 'connect() rejects once the client is destroyed');
    assert.equal(svc.ops.length, 0, 'nothing reached the node');
    const raw = await RawResp.connect(port);
    assert.equal(await raw.command('PING'), 'PONG', 'the server goes on');
    raw.close();
  });

  it('RESP: 2 connects; SET, GET, DEL, EXISTS, MSET, MGET', async () => {
    const c = await connect();
    assert.equal(c.isReady, true);
    assert.equal(await c.set('k', 'v1'), 'OK');
    assert.equal(await c.set('k', 'v2'), 'OK');
    assert.equal(await c.get('k'), 'v2');
    assert.equal(svc.states.get('k')!.siblings.length, 1, 'repeated SETs leave one version');
    assert.equal(await c.get('missing'), null);
    assert.equal(await c.mSet({ a: '1', b: '2' }), 'OK');
    assert.deepEqual(await c.mGet(['a', 'b', 'c']), ['1', '2', null]);
    assert.equal(await c.exists(['a', 'b', 'c', 'a']), 3);
    assert.equal(await c.del(['a', 'c', 'k']), 2);
    assert.deepEqual(await c.mGet(['a', 'k', 'b']), [null, null, '2']);
    assert.equal(await c.exists('a'), 0);
    await c.close();
  });

  it('binary values round-trip as Buffers', async () => {
    const c = await connect();
    const bytes = Buffer.from([0, 0xff, 0xfe, 13, 10, 36]);
    assert.equal(await c.set('bin', bytes), 'OK');
    const got = await c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get('bin');
    assert.ok(Buffer.isBuffer(got));
    assert.deepEqual(got, bytes);
    await c.close();
  });

  it('commands issued together go out as one pipeline (no MULTI) and resolve in order', async () => {
    const c = await connect();
    const all = Promise.all([
      c.set('slow1', 'A'), c.set('fast', 'B'), c.get('fast'), c.get('slow1'), c.echo('last'),
    ]);
    // slow1's SET is held by the node: the later commands reach it anyway, so the client did
    // not wait for a reply before sending them.
    await until(() => svc.heldCount === 1 && svc.ops.some((o) => o.op === 'get' && o.key === 'fast'));
    svc.release();
    await until(() => svc.heldCount === 1);
    svc.release();
    assert.deepEqual(await all, ['OK', 'OK', 'B', 'A', 'last']);
    await c.close();
  });

  it('multi().execAsPipeline() sends the batch without MULTI/EXEC; multi().exec() is refused and runs none of its commands', async () => {
    const c = await connect();
    const batch = c.multi();
    for (let i = 0; i < 50; i++) batch.set(`p${i}`, String(i));
    for (let i = 0; i < 50; i++) batch.get(`p${i}`);
    const res = await batch.execAsPipeline();
    assert.deepEqual(res.slice(50), Array.from({ length: 50 }, (_, i) => String(i)));
    await assert.rejects(c.multi().set('t', '1').get('t').exec(), { message: /^ERR MULTI is not supported/ });
    assert.equal(svc.states.has('t'), false, 'the refused transaction wrote nothing');
    assert.equal(await c.ping(), 'PONG', 'the connection stays usable');
    await c.close();
  });

  it('refusals reach the caller as errors and the connection goes on', async () => {
    const c = await connect();
    await assert.rejects(c.set('k', 'v', { expiration: { type: 'EX', value: 10 } }), /syntax error/);
    await assert.rejects(c.set('k', 'x'.repeat(65)), /value_too_large/);
    await assert.rejects(c.set('', 'v'), /empty keys/);
    assert.equal(svc.states.size, 0, 'nothing was stored');
    assert.equal(await c.set('k', 'ok'), 'OK');
    await c.close();
  });

  it('quit() sends QUIT and the server closes; close() answers pending commands first', async () => {
    const q = await connect();
    assert.equal(await q.quit(), 'OK');
    assert.equal(q.isOpen, false);
    const c = await connect();
    const pending = c.set('last', 'word');
    await c.close();
    assert.equal(await pending, 'OK');
    assert.equal(c.isOpen, false);
    assert.equal(Buffer.from(svc.states.get('last')!.siblings[0]!.value!).toString('utf8'), 'word');
  });
});
