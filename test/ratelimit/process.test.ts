/**
 * One real `gossamer start` process with a rate-limit rule in its config file, on the real
 * clock: a burst of 50 against 10 req/s passes the bucket plus what refilled while the burst
 * lasted (judged from the client's own measure of the burst), the rest get 429 with the headers
 * of API.md, requests pass again after Retry-After, and the rules reload without a restart —
 * a bad file keeps the old ones, and SIGHUP does not stop the node.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestCluster } from '../cluster/helpers.js';
import type { NodeProc } from '../cluster/helpers.js';
import { request } from '../api/http-client.js';
import type { Answer } from '../api/http-client.js';

function writeRules(file: string, rules: unknown): void {
  writeFileSync(file, JSON.stringify({ partitions: 64, rateLimits: rules }));
}

const perClient = (limit: number): unknown => ({
  name: 'per-client', match: { clientIp: '0.0.0.0/0', routes: ['GET /kv', 'PUT /kv'] },
  algorithm: 'token_bucket', limit, windowMs: 1000, burst: limit,
});

/** Resolves when the node's output (from now on) matches `re`. */
function nextLog(n: NodeProc, re: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const streams = [n.proc!.stdout!, n.proc!.stderr!];
    const onData = (d: Buffer): void => {
      const line = d.toString().split('\n').find((l) => re.test(l));
      if (line === undefined) return;
      done();
      resolve(line);
    };
    const timer = setTimeout(() => { done(); reject(new Error(`no log line ${re} within ${timeoutMs} ms:\n${n.log.join('')}`)); }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      for (const s of streams) s.off('data', onData);
    };
    for (const s of streams) s.on('data', onData);
  });
}

describe('rate limits in a real node process', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let dir = '';
  let file = '';
  let node: NodeProc;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  const burst = (n: number): Promise<Answer[]> =>
    Promise.all(Array.from({ length: n }, (_, i) => request(node.httpPort, 'GET', `/kv/b${i}`, { agent })));

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gossamer-rl-'));
    file = path.join(dir, 'gossamer.json');
    writeRules(file, [perClient(10)]);
    cluster = await TestCluster.create({ size: 1, extraArgs: ['--config', file] });
    node = cluster.start(0);
    await cluster.waitHealthy(0);
  });
  after(async () => {
    agent.destroy();
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('10 req/s, a burst of 50: the bucket plus the refill during the burst pass, the rest 429; after Retry-After they pass again', async () => {
    const t0 = performance.now();
    const answers = await burst(50);
    const elapsedMs = performance.now() - t0;
    const passed = answers.filter((a) => a.status !== 429);
    const refused = answers.filter((a) => a.status === 429);
    // The node saw every request between t0 and the last answer: at most floor(elapsed × 10/s) refilled.
    const most = 10 + Math.floor((elapsedMs * 10) / 1000);
    assert.ok(passed.length >= 10 && passed.length <= most, `${passed.length} passed in ${elapsedMs.toFixed(0)} ms (at most ${most})`);
    assert.equal(passed.length + refused.length, 50);
    assert.ok(passed.every((a) => a.status === 404 && a.headers['x-ratelimit-limit'] === '10'));
    for (const a of refused) {
      assert.equal(a.headers['x-ratelimit-limit'], '10');
      assert.equal(a.headers['x-ratelimit-remaining'], '0');
      assert.equal(a.headers['retry-after'], '1');
      const ms = Number(a.headers['x-ratelimit-retry-after']);
      assert.ok(ms >= 1 && ms <= 100, String(ms));
      assert.equal((a.json() as { error: string }).error, 'rate_limited');
    }
    // Waiting what Retry-After says is enough.
    await new Promise((r) => setTimeout(r, Number(refused[0]!.headers['retry-after']) * 1000));
    const again = await request(node.httpPort, 'GET', '/kv/again', { agent });
    assert.equal(again.status, 404);
  });

  it('a new rule file is applied without a restart; a bad one keeps the rules in force', async () => {
    let reloaded = nextLog(node, /rate-limit rules reloaded/);
    writeRules(file, [perClient(1000)]);
    await reloaded;
    assert.equal((await burst(50)).filter((a) => a.status === 429).length, 0);

    const refusedLine = nextLog(node, /rate-limit rules not reloaded/);
    writeFileSync(file, JSON.stringify({ rateLimits: [{ name: 'x', algorithm: 'magic', limit: 1, windowMs: 1 }] }));
    const line = await refusedLine;
    assert.match(line, /keeping the 1 in force.*rateLimits.*algorithm/);
    const still = await burst(50);
    assert.equal(still.filter((a) => a.status === 429).length, 0);
    assert.equal(still[0]!.headers['x-ratelimit-limit'], '1000');

    reloaded = nextLog(node, /rate-limit rules reloaded/);
    writeRules(file, [perClient(2)]);
    await reloaded;
    const t0 = performance.now();
    const passed = (await burst(10)).filter((a) => a.status !== 429).length;
    const most = 2 + Math.floor(((performance.now() - t0) * 2) / 1000);
    assert.ok(passed >= 2 && passed <= most, `${passed} passed (at most ${most})`);
  });

  it('SIGHUP reloads instead of stopping the node', async () => {
    const reloaded = nextLog(node, /rate-limit rules reloaded/);
    // Written and signalled: whichever comes first reloads, and the node must survive the signal.
    writeRules(file, [perClient(5)]);
    node.proc!.kill('SIGHUP');
    await reloaded;
    const h = await request(node.httpPort, 'GET', '/health');
    assert.equal(h.status, 200);
    assert.equal(node.proc!.exitCode, null);
  });
});
