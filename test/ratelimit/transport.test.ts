/**
 * The rl-* message family on a real node's inter-node port: the runtime hands it to the rate
 * limiter before the core's validator; malformed messages are dropped and counted (never a
 * crash, never the core's "malformed message" path), well-formed ones change the node's share.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode } from '../../src/cli/node-main.js';
import type { RunningNode } from '../../src/cli/node-main.js';
import { loadConfig } from '../../src/cli/config.js';
import { createTcpTransport } from '../../src/adapters/tcp-transport.js';
import type { TcpTransport } from '../../src/adapters/tcp-transport.js';
import type { Logger } from '../../src/ports/index.js';
import { freePorts } from '../cluster/helpers.js';

/** Resolves once `cond()` holds (checked on each of the node's sync rounds, every 100 ms). */
async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('rl-* messages over the inter-node transport', () => {
  let node: RunningNode;
  let peer: TcpTransport<unknown>;
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error: (m) => { warnings.push(m); }, warn: (m) => { warnings.push(m); } };

  before(async () => {
    // Three ports asked for: the RESP port was http + 1, never reserved, and a CI run lost it
    // to another test's socket (EADDRINUSE).
    const [listen, http, resp] = await freePorts(3);
    const { config } = loadConfig({
      flags: { listen: `127.0.0.1:${listen}`, http: `127.0.0.1:${http}`, resp: `127.0.0.1:${resp}`, nodeId: 'n0' },
      env: {},
    });
    config.rateLimits = [{ name: 'c', algorithm: 'token_bucket', limit: 100, windowMs: 1000, scope: 'cluster' }];
    node = await startNode(config, { memory: true, logger, sighup: false });
    peer = await createTcpTransport<unknown>({
      self: { nodeId: 'p1', dc: 'dc1', rack: 'rack1', weight: 1 }, listenHost: '127.0.0.1', listenPort: 0, seeds: [config.listen],
    });
    await until(() => peer.isConnected('n0') && node.transport.isConnected('p1'), 'the peer to connect');
  });
  after(async () => {
    await peer?.close();
    await node?.stop();
  });

  it('drops and counts malformed ones, takes well-formed ones into account', async () => {
    const bad = [
      { type: 'rl-demand', v: 1, entries: 'boom' },
      { type: 'rl-demand', v: 9, entries: [] },
      { type: 'rl-nonsense' },
      { type: 'rl-demand', v: 1, entries: [['c', 'ip:1.2.3.4', -5]] },
    ];
    for (const msg of bad) peer.send({ from: 'p1', to: 'n0', msg });
    await until(() => node.rateLimit.stats().sync.malformed === bad.length, 'the malformed messages to be counted');
    assert.ok(!warnings.some((w) => /dropped a malformed message/.test(w)), 'the core validator never saw them');

    // A peer that reports heavy demand for a key takes most of the limit: this node admits less.
    const key = 'ip:192.0.2.1';
    const report = (): void => peer.send({ from: 'p1', to: 'n0', msg: { type: 'rl-demand', v: 1, entries: [['c', key, 10_000]] } });
    report();
    await until(() => node.rateLimit.stats().sync.messagesReceived >= 1, 'the report to arrive');
    let admitted = 0;
    for (let i = 0; i < 200; i++) {
      if (i % 20 === 0) report();
      if (node.rateLimit.check({ route: 'GET /kv/a', clientIp: '192.0.2.1' }).admitted) admitted++;
    }
    // Alone it would admit its bucket of 100. Its own demand is not measured yet (no sync round
    // since the key appeared), so it splits evenly with the one peer that reports the key: 50.
    assert.ok(admitted >= 50 && admitted <= 55, `admitted ${admitted}`);
    assert.equal(node.rateLimit.stats().sync.malformed, bad.length);
  });
});
