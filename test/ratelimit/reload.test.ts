/** Rule reloads in-process: file changes, bad files (one warning, rules kept), SIGHUP. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { watchRules } from '../../src/cli/rate-limit-reload.js';
import type { ReloadOutcome } from '../../src/cli/rate-limit-reload.js';
import type { RateLimitRule } from '../../src/core/ratelimit/index.js';
import type { Logger } from '../../src/ports/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gossamer-rl-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const rule = (limit: number): RateLimitRule => ({ name: 'r', algorithm: 'fixed_window', limit, windowMs: 1000 });

function harness(file: string, sighup = false) {
  let rules: RateLimitRule[] = [rule(1)];
  const warnings: string[] = [];
  const outcomes: ReloadOutcome[] = [];
  const waiters: Array<(o: ReloadOutcome) => void> = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (m) => { warnings.push(m); } };
  const w = watchRules({
    file, logger, sighup, debounceMs: 20,
    current: () => rules, apply: (r) => { rules = r; },
    onOutcome: (o) => { outcomes.push(o); waiters.shift()?.(o); },
  });
  return {
    w, warnings, outcomes, rules: () => rules,
    next: (): Promise<ReloadOutcome> => new Promise((resolve) => waiters.push(resolve)),
  };
}

describe('reloading rate-limit rules', () => {
  it('applies a changed file, ignores an unchanged one, keeps the rules on a bad one with one warning', async () => {
    const file = path.join(dir, 'a.json');
    writeFileSync(file, JSON.stringify({ rateLimits: [rule(1)] }));
    const h = harness(file);
    // The watcher does not hold the process open (a node has its servers for that); the test must.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      assert.equal(h.w.reload().kind, 'unchanged');
      let next = h.next();
      writeFileSync(file, JSON.stringify({ rateLimits: [rule(5)] }));
      assert.equal((await next).kind, 'reloaded');
      assert.equal(h.rules()[0]!.limit, 5);

      for (const bad of ['{ not json', JSON.stringify({ rateLimits: [{ ...rule(1), match: { clientIp: '10.0.0.0/99' } }] }),
        JSON.stringify({ rateLimits: [rule(1), rule(2)] }), JSON.stringify({ nope: 1 })]) {
        next = h.next();
        writeFileSync(file, bad);
        const o = await next;
        assert.equal(o.kind, 'invalid', bad);
        assert.equal(h.rules()[0]!.limit, 5);
      }
      assert.equal(h.warnings.length, 4);
      assert.match(h.warnings[1]!, /^rate-limit rules not reloaded, keeping the 1 in force: invalid setting "rateLimits" .*clientIp/);
      assert.match(h.warnings[2]!, /names two rules/);
      assert.ok(h.warnings.every((l) => !l.includes('\n')));

      next = h.next();
      writeFileSync(file, JSON.stringify({}));
      assert.equal((await next).kind, 'reloaded');
      assert.deepEqual(h.rules(), []);
    } finally {
      clearInterval(keepAlive);
      h.w.close();
    }
  });

  it('SIGHUP rereads the file (the listener goes away on close)', () => {
    const file = path.join(dir, 'b.yaml');
    writeFileSync(file, 'rateLimits:\n  - {name: r, algorithm: fixed_window, limit: 1, windowMs: 1000}\n');
    const h = harness(file, true);
    const before = process.listenerCount('SIGHUP');
    writeFileSync(file, 'rateLimits:\n  - {name: r, algorithm: fixed_window, limit: 7, windowMs: 1000}\n');
    process.emit('SIGHUP', 'SIGHUP');
    assert.equal(h.rules()[0]!.limit, 7);
    h.w.close();
    assert.equal(process.listenerCount('SIGHUP'), before - 1);
  });
});
