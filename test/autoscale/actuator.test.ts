/**
 * The dev actuator's loop against a fake cluster: nodes that answer /cluster and /metrics with
 * counters that grow with a load the test sets; starting and stopping a node changes the members
 * (as --auto-join and --decommission-on-stop will once membership is connected).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DevAutoscaler, devAutoscaleConfig } from '../../src/cli/autoscale.js';
import type { ActuatorDeps, ManagedNode } from '../../src/cli/autoscale.js';

class FakeCluster {
  nowMs = 0;
  totalRps = 0;
  nodes: (ManagedNode & { requests: number; state: string })[] = [];
  printed: string[] = [];
  stopped: string[] = [];
  private seq = 0;
  joins = true;

  constructor(count: number) { for (let i = 0; i < count; i++) this.add(); }

  add(): ManagedNode {
    const n = { nodeId: `node-${this.seq}`, http: `h${this.seq}:1`, requests: 0, state: this.joins ? 'alive' : 'none' };
    this.seq++;
    this.nodes.push(n);
    return n;
  }

  /** Time passes: every member takes its share of the load. */
  advance(ms: number): void {
    this.nowMs += ms;
    const members = this.nodes.filter((n) => n.state === 'alive');
    for (const n of members) n.requests += (this.totalRps / members.length) * (ms / 1000);
  }

  deps(): ActuatorDeps {
    return {
      nodes: () => this.nodes,
      addNode: () => this.add(),
      removeNode: (id) => { this.stopped.push(id); this.nodes = this.nodes.filter((n) => n.nodeId !== id); },
      get: async (url) => {
        const [, host, route] = /^http:\/\/([^/]+)(\/.*)$/.exec(url)!;
        const node = this.nodes.find((n) => n.http === host);
        if (!node) throw new Error('ECONNREFUSED');
        if (route === '/cluster') {
          return { status: 200, text: JSON.stringify({ nodeId: node.nodeId, members: this.nodes.filter((n) => n.state !== 'none').map((n) => ({ nodeId: n.nodeId, dc: 'dc1', state: n.state })) }) };
        }
        return { status: 200, text: `gossamer_client_requests_total{api="http",op="get",status="200"} ${node.requests}\ngossamer_process_cpu_seconds_total 0\n` };
      },
      nowMs: () => this.nowMs,
      print: (l) => { this.printed.push(l); },
    };
  }
}

const FAST = { scaleOutSustainMs: 5_000, scaleInSustainMs: 5_000, cooldownMs: 5_000, reverseCooldownMs: 20_000, changeTimeoutMs: 60_000 };

describe('dev autoscale actuator (fake cluster)', () => {
  it('grows under load to the maximum and shrinks back when the load stops, stopping the newest node', async () => {
    const fake = new FakeCluster(3);
    const config = devAutoscaleConfig({ minNodes: 3, maxNodes: 5 }, 3);
    const scaler = new DevAutoscaler({ ...config, ...FAST }, fake.deps());
    const counts: number[] = [];
    fake.totalRps = 3000; // 1000 per node on 3: over dev's 400
    for (let i = 0; i < 40; i++) { fake.advance(2_500); await scaler.step(); counts.push(fake.nodes.length); }
    assert.equal(Math.max(...counts), 5, fake.printed.join('\n'));
    fake.totalRps = 0;
    for (let i = 0; i < 60; i++) { fake.advance(2_500); await scaler.step(); counts.push(fake.nodes.length); }
    assert.equal(fake.nodes.length, 3, fake.printed.join('\n'));
    assert.deepEqual(fake.stopped, ['node-4', 'node-3'], 'the newest first');
    assert.ok(fake.printed.some((l) => /^autoscale: scale out 3 → 4 \(requests_high\).*starting node-3/.test(l)), fake.printed.join('\n'));
    assert.ok(fake.printed.some((l) => /^autoscale: scale in 5 → 4 \(load_low\).*stopping node-4/.test(l)), fake.printed.join('\n'));
    assert.ok(fake.printed[0]!.startsWith('autoscale: hold (no_data)'), 'the first round has no rates yet');
  });

  it('waits for a started node to join (change_pending), and gives the change up after the timeout', async () => {
    const fake = new FakeCluster(3);
    fake.joins = false; // today: no membership behind --auto-join
    const config = devAutoscaleConfig({ minNodes: 3, maxNodes: 5 }, 3);
    const scaler = new DevAutoscaler({ ...config, ...FAST }, fake.deps());
    fake.totalRps = 3000;
    const reasons: string[] = [];
    for (let i = 0; i < 35; i++) { fake.advance(2_500); reasons.push((await scaler.step()).reason); }
    assert.ok(reasons.includes('change_pending'), reasons.join(','));
    assert.ok(reasons.includes('change_timeout'), reasons.join(','));
    assert.ok(fake.printed.some((l) => /hold \(change_pending\)/.test(l)));
  });

  it('holds when no node answers', async () => {
    const fake = new FakeCluster(3);
    const deps = { ...fake.deps(), get: async (): Promise<{ status: number; text: string }> => { throw new Error('ECONNREFUSED'); } };
    const d = await new DevAutoscaler(devAutoscaleConfig({ minNodes: 3, maxNodes: 5 }, 3), deps).step();
    assert.equal(d.reason, 'no_data');
  });
});
