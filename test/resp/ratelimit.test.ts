/**
 * RESP commands pass the rate limiter (routes `RESP <COMMAND>`): refused commands get Redis's
 * `-ERR rate limited, retry after N s`, the connection stays usable, replies keep their order,
 * and a leaky bucket's hold delays a command and every later one of its connection.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRespServer } from '../../src/api/resp/index.js';
import type { GossamerRespServer } from '../../src/api/resp/index.js';
import { RateLimitService } from '../../src/api/ratelimit/index.js';
import type { RateLimitRule } from '../../src/core/ratelimit/index.js';
import { ManualClock } from '../ratelimit/manual-clock.js';
import { RespFakeService } from './fake.js';
import { RawResp, encodeCommand } from './resp-client.js';

interface Served { server: GossamerRespServer; port: number; clock: ManualClock; delays: number[] }

async function serve(rules: RateLimitRule[]): Promise<Served> {
  const clock = new ManualClock();
  const rl = new RateLimitService({ rules, clock });
  const delays: number[] = [];
  const server = createRespServer(new RespFakeService('node-a', { maxValueBytes: 1024 }), {
    gate: (ip, cmd) => {
      const d = rl.checkResp(ip, cmd);
      delays.push(d.delayMs);
      return d;
    },
  });
  const { port } = await server.listen('127.0.0.1', 0);
  return { server, port, clock, delays };
}

describe('RESP behind the rate limiter', () => {
  const servers: GossamerRespServer[] = [];
  after(async () => { await Promise.all(servers.map((s) => s.close())); });

  it('a burst of 12 pipelined SETs against a bucket of 5: 5 OK, 7 refused in order; GET is not limited', async () => {
    const s = await serve([{
      name: 'sets', match: { routes: ['RESP SET'] }, algorithm: 'token_bucket', limit: 5, windowMs: 1000, burst: 5,
      scope: 'node', mode: 'hard',
    } as RateLimitRule]);
    servers.push(s.server);
    const c = await RawResp.connect(s.port);
    c.write(Buffer.concat(Array.from({ length: 12 }, (_, i) => encodeCommand(['SET', `k${i}`, 'v']))));
    const replies = [];
    for (let i = 0; i < 12; i++) replies.push(await c.read());
    assert.deepEqual(replies.slice(0, 5), ['OK', 'OK', 'OK', 'OK', 'OK']);
    for (const r of replies.slice(5)) assert.deepEqual(r, { error: 'ERR rate limited, retry after 1 s' });
    assert.equal((await c.command('GET', 'k0'))?.toString(), 'v', 'GET matches no rule');
    s.clock.advance(1000);
    assert.equal(await c.command('SET', 'again', 'v'), 'OK', 'the bucket refilled');
    c.close();
  });

  it('a leaky bucket holds a command and the ones behind it, and keeps their order', async () => {
    const s = await serve([{
      name: 'leak', match: { routes: ['RESP SET'] }, algorithm: 'leaky_bucket', limit: 20, windowMs: 1000, burst: 4,
      scope: 'node', mode: 'hard',
    } as RateLimitRule]);
    servers.push(s.server);
    const c = await RawResp.connect(s.port);
    c.write(Buffer.concat([encodeCommand(['SET', 'a', '1']), encodeCommand(['SET', 'a', '2']), encodeCommand(['GET', 'a'])]));
    const replies = [await c.read(), await c.read(), await c.read()];
    assert.deepEqual(replies.slice(0, 2), ['OK', 'OK']);
    assert.ok(s.delays.some((d) => d > 0), `a SET was held (delays ${s.delays.join(',')})`);
    assert.equal(replies[2]?.toString(), '2', 'the GET behind a held SET ran after it');
    c.close();
  });
});
