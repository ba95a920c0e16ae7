/**
 * MULTI is refused (Gossamer has no transactions), and so is every command up to its EXEC or
 * DISCARD, so a client's pipelined MULTI ... EXEC never runs its commands one by one while the
 * caller is told the transaction failed (src/api/resp/refused-multi.ts).
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createRespServer } from '../../src/api/resp/index.js';
import type { GossamerRespServer } from '../../src/api/resp/index.js';
import { RespFakeService } from './fake.js';
import { RawResp, encodeCommand } from './resp-client.js';
import type { Reply } from './resp-client.js';

const errorOf = (r: Reply): string => (r as { error: string }).error;

describe('MULTI is refused with its whole block', () => {
  let svc: RespFakeService;
  let server: GossamerRespServer;
  let port = 0;

  before(async () => {
    svc = new RespFakeService('node-a', { maxValueBytes: 1024 });
    server = createRespServer(svc);
    ({ port } = await server.listen('127.0.0.1', 0));
  });
  after(async () => { await server.close(); });
  beforeEach(() => { svc.states.clear(); svc.ops.length = 0; });

  it('a pipelined MULTI, SET, GET, EXEC: nothing runs; EXEC answers EXECABORT; the connection goes on', async () => {
    const c = await RawResp.connect(port);
    c.write(Buffer.concat([['MULTI'], ['SET', 'k', 'v'], ['GET', 'k'], ['EXEC'], ['SET', 'after', '1']]
      .map((cmd) => encodeCommand(cmd))));
    const replies: Reply[] = [];
    for (let i = 0; i < 5; i++) replies.push(await c.read());
    assert.match(errorOf(replies[0]!), /^ERR MULTI is not supported/);
    assert.match(errorOf(replies[1]!), /^ERR not run: the MULTI before it was refused/);
    assert.match(errorOf(replies[2]!), /^ERR not run/);
    assert.match(errorOf(replies[3]!), /^EXECABORT /);
    assert.equal(replies[4], 'OK', 'after EXEC, commands run again');
    assert.deepEqual(svc.ops.map((o) => o.key), ['after'], 'only the command after the block reached the node');
    c.close();
  });

  it('DISCARD closes the block with OK; nested MULTI, and EXEC or DISCARD without MULTI, are errors', async () => {
    const c = await RawResp.connect(port);
    assert.match(errorOf(await c.command('EXEC')), /^ERR EXEC without MULTI/);
    assert.match(errorOf(await c.command('DISCARD')), /^ERR DISCARD without MULTI/);
    assert.match(errorOf(await c.command('MULTI', 'extra')), /wrong number of arguments for 'multi'/);
    assert.equal(await c.command('PING'), 'PONG', 'a MULTI with bad arguments opens no block');
    assert.match(errorOf(await c.command('MULTI')), /^ERR MULTI is not supported/);
    assert.match(errorOf(await c.command('MULTI')), /^ERR MULTI calls can not be nested/);
    assert.match(errorOf(await c.command('PING')), /^ERR not run/);
    assert.equal(await c.command('DISCARD'), 'OK');
    assert.equal(await c.command('PING'), 'PONG');
    c.close();
  });

  it('QUIT inside a block still quits', async () => {
    const c = await RawResp.connect(port);
    assert.match(errorOf(await c.command('MULTI')), /^ERR MULTI is not supported/);
    assert.equal(await c.command('QUIT'), 'OK');
    await c.closedByServer();
  });

  it('ioredis multi().exec() is refused and writes nothing; pipeline() still works', async () => {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await r.connect();
    await assert.rejects(r.multi().set('t', '1').set('u', '2').exec(), /EXECABORT|MULTI/);
    assert.equal(svc.states.size, 0, 'no command of the transaction ran');
    const res = await r.pipeline().set('t', '1').get('t').exec();
    assert.deepEqual(res, [[null, 'OK'], [null, '1']]);
    await r.quit();
  });
});

describe('MULTI refused by the rate limiter still opens its block', () => {
  it('the commands after a rate-limited MULTI do not run', async () => {
    const svc = new RespFakeService('node-a', { maxValueBytes: 1024 });
    const server = createRespServer(svc, {
      gate: (_ip, cmd) => (cmd.toUpperCase() === 'MULTI' ? { ok: false, delayMs: 0, error: 'ERR rate limited, retry after 1 s' } : { ok: true, delayMs: 0 }),
    });
    const { port } = await server.listen('127.0.0.1', 0);
    const c = await RawResp.connect(port);
    c.write(Buffer.concat([['MULTI'], ['SET', 'k', 'v'], ['EXEC'], ['GET', 'k']].map((cmd) => encodeCommand(cmd))));
    const replies: Reply[] = [];
    for (let i = 0; i < 4; i++) replies.push(await c.read());
    assert.equal(errorOf(replies[0]!), 'ERR rate limited, retry after 1 s');
    assert.match(errorOf(replies[1]!), /^ERR not run/);
    assert.match(errorOf(replies[2]!), /^EXECABORT /);
    assert.equal(replies[3], null, 'the SET inside the block never ran');
    c.close();
    await server.close();
  });
});
