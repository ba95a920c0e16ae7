/** The `rateLimits` setting: what the schema accepts, and one clear line for what it refuses. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseRateLimits } from '../../src/cli/config.js';

const ok = { name: 'per-client', algorithm: 'token_bucket', limit: 10, windowMs: 1000 };

function refusal(value: unknown): string {
  try {
    parseRateLimits(value, 'in f.json');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.ok(!e.message.includes('\n'));
    return e.message;
  }
  return assert.fail('accepted');
}

describe('rateLimits schema', () => {
  it('accepts API.md\'s example and every algorithm, scope and mode', () => {
    const example = {
      name: 'per-client', match: { clientIp: '0.0.0.0/0', apiKeyHeader: 'X-Api-Key', routes: ['GET /kv', 'PUT /kv', 'RESP SET'] },
      algorithm: 'token_bucket', limit: 10, windowMs: 1000, burst: 10, scope: 'node', mode: 'hard',
    };
    assert.deepEqual(parseRateLimits([example], 'x'), [example]);
    for (const algorithm of ['token_bucket', 'leaky_bucket', 'fixed_window', 'sliding_window_log', 'sliding_window_counter']) {
      assert.equal(parseRateLimits([{ ...ok, algorithm, scope: 'cluster', mode: 'soft', softPercent: 20 }], 'x').length, 1);
    }
    assert.deepEqual(parseRateLimits(undefined, 'x'), []);
    assert.equal(parseRateLimits([{ ...ok, match: { clientIp: ' 2001:db8::/32 ' } }], 'x')[0]!.match!.clientIp, '2001:db8::/32');
  });

  it('refuses bad rules with the setting, the place and the field', () => {
    assert.match(refusal([{ ...ok, algorithm: 'magic' }]), /^invalid setting "rateLimits" \(in f\.json\): 0\.algorithm: must be token_bucket/);
    assert.match(refusal([{ ...ok, match: { clientIp: '10.0.0.0/33' } }]), /0\.match\.clientIp: must be an IPv4 or IPv6 address or CIDR/);
    assert.match(refusal([{ ...ok, match: { clientIp: 'example.com' } }]), /clientIp/);
    assert.match(refusal([{ ...ok, match: { apiKeyHeader: 'X Api Key' } }]), /apiKeyHeader: must be an HTTP header name/);
    assert.match(refusal([ok, { ...ok }]), /1\.name: "per-client" names two rules/);
    assert.match(refusal([{ ...ok, name: 'has space' }]), /0\.name/);
    assert.match(refusal([{ ...ok, limit: 0 }]), /0\.limit/);
    assert.match(refusal([{ ...ok, windowMs: 1.5 }]), /0\.windowMs/);
    assert.match(refusal([{ ...ok, burst: 0.5 }]), /0\.burst/);
    assert.match(refusal([{ ...ok, algorithm: 'fixed_window', limit: 0.5 }]), /0\.limit: must be at least 1 for a window algorithm/);
    assert.match(refusal([{ ...ok, algorithm: 'sliding_window_log', limit: 100_000, mode: 'soft' }]), /one timestamp per request/);
    assert.match(refusal([{ ...ok, scope: 'global' }]), /0\.scope/);
    assert.match(refusal([{ ...ok, extra: 1 }]), /extra|Unrecognized/i);
    assert.match(refusal({ name: 'x' }), /must be a list of rules/);
  });
});
