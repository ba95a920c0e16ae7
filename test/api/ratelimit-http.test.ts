/**
 * The rate limiter at the HTTP door, in-process, on a clock the test moves: exact counts of a
 * burst, the 429's body and headers, the limit headers on allowed answers, recovery after
 * Retry-After, matching (routes, CIDR, API key), all-rules-must-pass with rollback, the leaky
 * bucket's hold, fail-open, and /metrics.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHttpServer } from '../../src/api/http/index.js';
import type { GossamerHttpServer } from '../../src/api/http/index.js';
import { RateLimitService, createHttpRateGate } from '../../src/api/ratelimit/index.js';
import type { RateLimitRule } from '../../src/core/ratelimit/index.js';
import { FakeService } from './fake-service.js';
import { request } from './http-client.js';
import type { Answer } from './http-client.js';
import { ManualClock } from '../ratelimit/manual-clock.js';

const perClient: RateLimitRule = {
  name: 'per-client', match: { clientIp: '0.0.0.0/0', routes: ['GET /kv', 'PUT /kv'] },
  algorithm: 'token_bucket', limit: 10, windowMs: 1000, burst: 10,
};

interface Setup {
  clock: ManualClock;
  rl: RateLimitService;
  server: GossamerHttpServer;
  port: number;
  call(method: string, path: string, headers?: Record<string, string>): Promise<Answer>;
}

let open: GossamerHttpServer[] = [];
afterEach(async () => {
  await Promise.all(open.map((s) => s.close()));
  open = [];
});

async function setup(rules: RateLimitRule[]): Promise<Setup> {
  const clock = new ManualClock();
  const rl = new RateLimitService({ rules, clock });
  const server = createHttpServer(new FakeService(), { rateLimit: createHttpRateGate(rl) });
  const { port } = await server.listen('127.0.0.1', 0);
  open.push(server);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  return {
    clock, rl, server, port,
    call: (method, path, headers = {}) => request(port, method, path, { headers, agent }),
  };
}

const burst = (s: Setup, n: number, path = '/kv/a', headers: Record<string, string> = {}): Promise<Answer[]> =>
  Promise.all(Array.from({ length: n }, () => s.call('GET', path, headers)));

describe('rate limits over HTTP (virtual time)', () => {
  it('10 req/s per client, a burst of 50: exactly 10 pass, 40 get 429 with the headers of API.md', async () => {
    const s = await setup([perClient]);
    const answers = await burst(s, 50);
    const ok = answers.filter((a) => a.status === 404); // the key is absent: a routed GET
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(ok.length, 10);
    assert.equal(refused.length, 40);
    assert.deepEqual(ok.map((a) => Number(a.headers['x-ratelimit-remaining'])).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const a of ok) {
      assert.equal(a.headers['x-ratelimit-limit'], '10');
      assert.equal(a.headers['retry-after'], undefined);
    }
    for (const a of refused) {
      assert.equal(a.headers['x-ratelimit-limit'], '10');
      assert.equal(a.headers['x-ratelimit-remaining'], '0');
      assert.equal(a.headers['retry-after'], '1');
      assert.equal(a.headers['x-ratelimit-retry-after'], '100');
      assert.match(String(a.headers['content-type']), /application\/json/);
      const body = a.json() as Record<string, unknown>;
      assert.equal(body.error, 'rate_limited');
      assert.equal(body.rule, 'per-client');
      assert.equal(typeof body.message, 'string');
    }
    // After Retry-After seconds, requests pass again (a full bucket: 10).
    s.clock.advance(Number(refused[0]!.headers['retry-after']) * 1000);
    const again = await burst(s, 12);
    assert.equal(again.filter((a) => a.status === 404).length, 10);
    const st = s.rl.stats().rules[0]!;
    assert.equal(st.allowed, 20);
    assert.equal(st.refused, 42);
  });

  it('refill during a burst: 100 ms of virtual time gives exactly one more', async () => {
    const s = await setup([perClient]);
    assert.equal((await burst(s, 15)).filter((a) => a.status !== 429).length, 10);
    s.clock.advance(250);
    assert.equal((await burst(s, 15)).filter((a) => a.status !== 429).length, 2);
  });

  it('routes match by prefix of "METHOD /path"; other routes carry no limit headers', async () => {
    const s = await setup([{ ...perClient, limit: 1, burst: 1 }]);
    assert.equal((await s.call('GET', '/kv/x')).status, 404);
    assert.equal((await s.call('GET', '/kv/y')).status, 429);
    const health = await s.call('GET', '/health');
    assert.equal(health.status, 200);
    assert.equal(health.headers['x-ratelimit-limit'], undefined);
    assert.equal((await s.call('DELETE', '/kv/x')).status, 204); // DELETE is not in the rule's routes
    // HEAD is matched as its GET: no way around a GET rule.
    const head = await s.call('HEAD', '/kv/x');
    assert.equal(head.status, 429);
  });

  it('a CIDR the client is outside of does not apply; IPv6 blocks are parsed', async () => {
    const s = await setup([
      { ...perClient, name: 'lan', match: { clientIp: '10.0.0.0/8' }, limit: 1, burst: 1 },
      { ...perClient, name: 'v6', match: { clientIp: '2001:db8::/32' }, limit: 1, burst: 1 },
    ]);
    const answers = await burst(s, 5);
    assert.ok(answers.every((a) => a.status === 404 && a.headers['x-ratelimit-limit'] === undefined));
  });

  it('IPv6 clients and IPv4 clients of a dual-stack socket match their CIDRs', async () => {
    const clock = new ManualClock();
    const rl = new RateLimitService({ clock, rules: [
      { ...perClient, name: 'v6-loopback', match: { clientIp: '::1/128' }, limit: 1, burst: 1 },
      { ...perClient, name: 'v4-loopback', match: { clientIp: '127.0.0.0/8' }, limit: 2, burst: 2 },
    ] });
    const server = createHttpServer(new FakeService(), { rateLimit: createHttpRateGate(rl) });
    const { port } = await server.listen('::', 0);
    open.push(server);
    const v6 = await Promise.all([0, 1].map(() => request(port, 'GET', '/kv/a', {}, '::1')));
    assert.deepEqual(v6.map((a) => a.status).sort(), [404, 429]);
    assert.equal(v6.find((a) => a.status === 429)!.headers['x-ratelimit-limit'], '1');
    // The socket reports ::ffff:127.0.0.1; the IPv4 block matches it.
    const v4 = await Promise.all([0, 1, 2].map(() => request(port, 'GET', '/kv/a', {}, '127.0.0.1')));
    assert.deepEqual(v4.map((a) => a.status).sort(), [404, 404, 429]);
    assert.deepEqual(rl.stats().rules.map((r) => r.keys), [1, 1]);
  });

  it('with apiKeyHeader, each API key has its own limit; without the header, the client IP is the key', async () => {
    const s = await setup([{ ...perClient, match: { apiKeyHeader: 'X-Api-Key' }, limit: 3, burst: 3 }]);
    const a = await burst(s, 5, '/kv/a', { 'X-Api-Key': 'alice' });
    const b = await burst(s, 5, '/kv/a', { 'X-Api-Key': 'bob' });
    const anon = await burst(s, 5);
    for (const set of [a, b, anon]) assert.equal(set.filter((x) => x.status === 404).length, 3);
    assert.equal(s.rl.stats().rules[0]!.keys, 3);
  });

  it('every matching rule must pass; headers come from the one with the least remaining; a refusal costs no rule anything', async () => {
    const s = await setup([
      { ...perClient, name: 'wide', limit: 100, burst: 100 },
      { ...perClient, name: 'narrow', algorithm: 'fixed_window', limit: 3, match: { routes: ['GET /kv/hot'] } },
    ]);
    const first = await s.call('GET', '/kv/hot');
    assert.equal(first.headers['x-ratelimit-limit'], '3');
    assert.equal(first.headers['x-ratelimit-remaining'], '2');
    const rest = await burst(s, 9, '/kv/hot');
    assert.equal(rest.filter((a) => a.status === 404).length, 2);
    // 'wide' gave 3 tokens to admitted requests and none to the 7 refused by 'narrow'.
    const cold = await s.call('GET', '/kv/cold');
    assert.equal(cold.headers['x-ratelimit-limit'], '100');
    assert.equal(cold.headers['x-ratelimit-remaining'], '96');
    const st = Object.fromEntries(s.rl.stats().rules.map((r) => [r.name, r]));
    assert.equal(st.wide!.allowed, 4);
    assert.equal(st.narrow!.refused, 7);
  });

  it('a leaky bucket holds admitted requests so they leave at its steady rate', async () => {
    const s = await setup([{ ...perClient, name: 'leaky', algorithm: 'leaky_bucket', limit: 10, burst: 3 }]);
    const t0 = performance.now();
    const done: number[] = [];
    const answers = await Promise.all([0, 1, 2, 3].map(async () => {
      const a = await s.call('GET', '/kv/a');
      done.push(performance.now() - t0);
      return a;
    }));
    assert.deepEqual(answers.map((a) => a.status).sort(), [404, 404, 404, 429]);
    done.sort((x, y) => x - y);
    // Held 0, 100 and 200 ms (lower bounds: a busy machine only makes them later).
    assert.ok(done[2]! >= 100 && done[3]! >= 195, done.join(','));
  });

  it('fail-open: when the limiter breaks, requests pass and the failure is counted', async () => {
    const s = await setup([{ ...perClient, scope: 'cluster', limit: 1, burst: 1 }]);
    s.rl.limiter.setShareSource({ share: () => { throw new Error('sync state broken'); } });
    const answers = await burst(s, 5);
    assert.ok(answers.every((a) => a.status === 404));
    assert.equal(s.rl.stats().failOpen, 5);
    const m = await s.call('GET', '/metrics');
    assert.match(m.text, /^gossamer_ratelimit_fail_open_total 5$/m);
  });

  it('/metrics counts allowed and refused per rule', async () => {
    const s = await setup([perClient]);
    await burst(s, 13);
    const m = await s.call('GET', '/metrics');
    assert.match(m.text, /^gossamer_ratelimit_allowed_total\{rule="per-client",scope="node"\} 10$/m);
    assert.match(m.text, /^gossamer_ratelimit_refused_total\{rule="per-client",scope="node"\} 3$/m);
    assert.match(m.text, /^gossamer_http_requests_total\{route="kv",method="GET",status="429"\} 3$/m);
  });

  it('a refused PUT does not store its value', async () => {
    const svc = new FakeService();
    const clock = new ManualClock();
    const rl = new RateLimitService({ rules: [{ ...perClient, limit: 1, burst: 1 }], clock });
    const server = createHttpServer(svc, { rateLimit: createHttpRateGate(rl) });
    const { port } = await server.listen('127.0.0.1', 0);
    open.push(server);
    assert.equal((await request(port, 'PUT', '/kv/k', { body: 'one' })).status, 204);
    assert.equal((await request(port, 'PUT', '/kv/k', { body: 'two' })).status, 429);
    assert.equal(svc.ops.length, 1);
  });
});
