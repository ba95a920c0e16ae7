/**
 * The limiter's parts: CIDR matching (IPv4, IPv6, mapped), the bounded key table (idle
 * eviction, the overflow slot under a flood of distinct clients), rules (routes, keys, soft
 * mode), the RESP check, and fail-open.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  KeyTable, RateLimiter, cidrContains, createAlgorithm, newVerdict, parseCidr, parseIp,
} from '../../src/core/ratelimit/index.js';
import type { RateLimitRule } from '../../src/core/ratelimit/index.js';
import { RateLimitService } from '../../src/api/ratelimit/index.js';
import { ManualClock } from './manual-clock.js';

const T0 = 1_700_000_000_000;
const rule: RateLimitRule = { name: 'r', algorithm: 'token_bucket', limit: 2, windowMs: 1000 };

describe('CIDR and addresses', () => {
  const inBlock = (block: string, ip: string): boolean => cidrContains(parseCidr(block)!, parseIp(ip)!);

  it('IPv4 blocks, single addresses and the IPv4-mapped form', () => {
    assert.equal(inBlock('10.0.0.0/8', '10.200.3.4'), true);
    assert.equal(inBlock('10.0.0.0/8', '11.0.0.1'), false);
    assert.equal(inBlock('192.168.1.0/25', '192.168.1.127'), true);
    assert.equal(inBlock('192.168.1.0/25', '192.168.1.128'), false);
    assert.equal(inBlock('0.0.0.0/0', '203.0.113.9'), true);
    assert.equal(inBlock('0.0.0.0/0', '2001:db8::1'), false);
    assert.equal(inBlock('10.0.0.0/8', '::ffff:10.1.2.3'), true);
    assert.equal(inBlock('127.0.0.1', '127.0.0.1'), true);
    assert.equal(inBlock('127.0.0.1', '127.0.0.2'), false);
  });

  it('IPv6 blocks, compressed forms, zones, everything', () => {
    assert.equal(inBlock('2001:db8::/32', '2001:db8:ffff::1'), true);
    assert.equal(inBlock('2001:db8::/32', '2001:db9::1'), false);
    assert.equal(inBlock('::/0', '10.0.0.1'), true);
    assert.equal(inBlock('::1/128', '::1'), true);
    assert.equal(inBlock('fe80::/10', 'fe80::1%eth0'), true);
    assert.equal(inBlock('2001:db8:0:0:0:0:0:0/127', '2001:db8::1'), true);
  });

  it('refuses malformed addresses and blocks', () => {
    for (const bad of ['', 'x', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4/33', '::/129', '1::2::3',
      '12345::', ':::', '1.2.3.4/', '1.2.3.4/-1', '2001:db8::/3a', '1:2:3:4:5:6:7:8:9']) {
      assert.equal(parseCidr(bad), undefined, bad);
    }
  });
});

describe('the key table', () => {
  const algo = createAlgorithm('fixed_window', { limit: 1, windowMs: 1000, burst: 1, softFactor: 1, delayMsMax: 1 });
  const hit = (t: KeyTable, key: string, now: number): boolean => {
    const v = newVerdict();
    const base = t.slotOf(key, now, 1); // first: it may grow (replace) the data array
    algo.admit(t.data, base, now, 1, v);
    return v.admitted;
  };

  it('sweeps idle keys and reuses their slots: memory follows the active clients', () => {
    const t = new KeyTable(algo, 1000);
    for (let i = 0; i < 500; i++) hit(t, `k${i}`, T0);
    assert.equal(t.size, 500);
    const bytes = t.stateBytes;
    assert.equal(t.sweep(T0 + 500, 10_000), 0); // all still in their window
    assert.equal(t.sweep(T0 + 1000, 10_000), 500);
    assert.equal(t.size, 0);
    for (let i = 0; i < 500; i++) hit(t, `j${i}`, T0 + 2000);
    assert.equal(t.stateBytes, bytes);
  });

  it('a full table evicts an idle key for a newcomer, else judges newcomers on one shared slot', () => {
    const t = new KeyTable(algo, 3);
    for (const k of ['a', 'b', 'c']) assert.equal(hit(t, k, T0), true);
    // Full of active keys: newcomers share the overflow slot (its limit of 1 per window).
    assert.equal(hit(t, 'd', T0 + 1), true);
    assert.equal(hit(t, 'e', T0 + 2), false);
    assert.equal(t.overflowed, 2);
    // The tracked keys kept their exact state.
    assert.equal(hit(t, 'a', T0 + 3), false);
    assert.equal(t.size, 3);
    // Once they are idle, a newcomer takes one's place.
    assert.equal(hit(t, 'f', T0 + 1000), true);
    assert.equal(t.size, 3);
    assert.equal(t.overflowed, 2);
  });

  it('a million distinct clients stay within keysMax', () => {
    const t = new KeyTable(algo, 10_000);
    for (let i = 0; i < 1_000_000; i++) hit(t, `ip:${i}`, T0 + Math.floor(i / 1000));
    assert.ok(t.size <= 10_000);
    assert.ok(t.stateBytes <= (10_001) * algo.width * 8);
  });
});

describe('the limiter', () => {
  it('keys per API key when the header is present, else per client IP', () => {
    const l = new RateLimiter([{ ...rule, match: { apiKeyHeader: 'X-Api-Key' } }]);
    const withKey = (k: string | undefined, ip: string) => l.check({
      route: 'GET /kv/a', clientIp: ip, header: (n) => (n === 'x-api-key' ? k : undefined),
    }, T0).admitted;
    assert.deepEqual([withKey('a', '1.1.1.1'), withKey('a', '2.2.2.2'), withKey('a', '3.3.3.3')], [true, true, false]);
    assert.deepEqual([withKey(undefined, '1.1.1.1'), withKey(undefined, '1.1.1.1'), withKey(undefined, '1.1.1.1')], [true, true, false]);
    assert.equal(withKey(undefined, '2.2.2.2'), true);
  });

  it('very long API keys are bounded but still distinct', () => {
    const l = new RateLimiter([{ ...rule, limit: 1, match: { apiKeyHeader: 'k' } }]);
    const long = (c: string) => l.check({ route: 'x', clientIp: '', header: () => 'p'.repeat(5000) + c }, T0).admitted;
    assert.equal(long('a'), true);
    assert.equal(long('b'), true);
    assert.equal(long('a'), false);
  });

  it('soft rules let softPercent more through and count it', () => {
    const l = new RateLimiter([{ ...rule, algorithm: 'fixed_window', limit: 20, mode: 'soft', softPercent: 25 }]);
    let ok = 0;
    for (let i = 0; i < 40; i++) if (l.check({ route: 'x', clientIp: '1.1.1.1' }, T0).admitted) ok++;
    assert.equal(ok, 25);
    assert.equal(l.stats().rules[0]!.softOver, 5);
  });

  it('a reload keeps the state of unchanged rules and resets changed ones', () => {
    const l = new RateLimiter([rule, { ...rule, name: 'other' }]);
    const go = () => l.check({ route: 'x', clientIp: '1.1.1.1' }, T0).admitted;
    go(); go();
    assert.equal(go(), false);
    l.setRules([rule]);
    assert.equal(go(), false); // 'r' unchanged: still empty
    l.setRules([{ ...rule, limit: 3 }]);
    assert.equal(go(), true); // changed: afresh
  });

  it('fail-open: corrupt state admits, counts, and heals', () => {
    const l = new RateLimiter([rule]);
    const t = (l as unknown as { rules: Array<{ table: KeyTable }> }).rules[0]!.table;
    assert.equal(l.check({ route: 'x', clientIp: '1.1.1.1' }, T0).admitted, true);
    t.data.fill(Number.NaN);
    assert.equal(l.check({ route: 'x', clientIp: '1.1.1.1' }, T0).admitted, true);
    assert.equal(l.stats().failOpen, 1);
    // Healed: the key starts afresh (a bucket of 2).
    assert.equal(l.check({ route: 'x', clientIp: '1.1.1.1' }, T0).admitted, true);
    assert.equal(l.check({ route: 'x', clientIp: '1.1.1.1' }, T0).admitted, true);
    assert.equal(l.check({ route: 'x', clientIp: '1.1.1.1' }, T0).admitted, false);
    assert.equal(l.stats().failOpen, 1);
  });
});

describe('the RESP check', () => {
  it('judges "RESP <COMMAND>" routes and answers the Redis-style error', () => {
    const clock = new ManualClock(T0);
    const rl = new RateLimitService({ clock, rules: [{ ...rule, limit: 1, match: { routes: ['RESP SET'] } }] });
    assert.deepEqual(rl.checkResp('10.0.0.1', 'set'), { ok: true, delayMs: 0 });
    const refused = rl.checkResp('10.0.0.1', 'SET');
    assert.equal(refused.ok, false);
    assert.equal(refused.error, 'ERR rate limited, retry after 1 s');
    assert.equal(refused.reply, '-ERR rate limited, retry after 1 s\r\n');
    assert.equal(rl.checkResp('10.0.0.1', 'GET').ok, true);
    clock.advance(1000);
    assert.equal(rl.checkResp('10.0.0.1', 'SET').ok, true);
  });
});
