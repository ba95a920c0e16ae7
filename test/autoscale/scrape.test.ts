import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { NodeMetrics } from '../../src/api/http/metrics.js';
import { parseMetrics, p99FromBuckets, sampleBetween } from '../../src/cli/autoscale-scrape.js';
import { registerAutoscaleMetrics, registerEventLoopBusy } from '../../src/cli/autoscale-metrics.js';
import { AutoscalePolicy, autoscaleConfig } from '../../src/core/autoscale/index.js';
import { members, snapshot } from './helpers.js';

describe('scraping /metrics for the policy', () => {
  it('rates and p99 between two scrapes of a real registry', async () => {
    const m = new NodeMetrics();
    registerEventLoopBusy(m.registry);
    const first = parseMetrics(await m.render(), 0);
    for (let i = 0; i < 98; i++) m.recordClientRequest('http', 'get', '200', 0.002);
    for (let i = 0; i < 2; i++) m.recordClientRequest('resp', 'put', 'ok', 0.4);
    const second = parseMetrics(await m.render(), 10_000);
    const s = sampleBetween('a', 'dc1', first, second)!;
    assert.equal(s.requestsPerSec, 10); // 100 requests in 10 s, over both APIs
    // 99% of 100 is 99 requests: the 98 fast ones and one of the slow ones, so the 0.5 s bucket.
    assert.equal(s.p99LatencyMs, 500);
    assert.ok(s.eventLoopUtilization >= 0 && s.eventLoopUtilization <= 1);
    assert.ok(second.totals.has('gossamer_event_loop_busy_seconds_total'));
  });

  it('p99 of an interval ignores what came before it; no requests is 0', () => {
    const before = new Map([[0.01, 1000], [0.1, 1000], [Infinity, 1000]]);
    const now = new Map([[0.01, 1000], [0.1, 1100], [Infinity, 1100]]);
    assert.equal(p99FromBuckets(now, before), 100);
    assert.equal(p99FromBuckets(before, before), 0);
  });

  it('a counter that went down (restart) counts from zero; junk lines are skipped', () => {
    const a = parseMetrics('gossamer_client_requests_total{api="http",op="get",status="200"} 500\n', 0);
    const b = parseMetrics([
      '# HELP x', 'garbage line here', 'gossamer_client_requests_total{api="http",op="get",status="200"} 20',
      'gossamer_client_requests_total{api="resp",op="put",status="ok"} 10', 'gossamer_storage_stalls_total NaN',
      'gossamer_storage_sstable_bytes 1000', 'gossamer_storage_memtable_bytes 24', `x${'y'.repeat(5000)} 1`,
    ].join('\n'), 1_000);
    const s = sampleBetween('a', 'dc1', a, b)!;
    assert.equal(s.requestsPerSec, 30);
    assert.equal(s.storedBytes, 1024);
    assert.equal(s.stallsPerSec, 0);
    assert.equal(sampleBetween('a', 'dc1', b, b), undefined, 'an empty interval gives no rates');
  });

  it('the autoscale metrics follow the decisions', async () => {
    const registry = new Registry();
    const metrics = registerAutoscaleMetrics(registry);
    const p = new AutoscalePolicy(autoscaleConfig({ minNodes: 3, maxNodes: 6 }, { n: 3 }, { scaleOutSustainMs: 0 }));
    metrics.record(p.decide(snapshot(0, members(3), { requestsPerSec: 9000 })));
    metrics.record(p.decide(snapshot(1, members(3), { requestsPerSec: 9000 })));
    const text = await registry.metrics();
    assert.match(text, /gossamer_autoscale_desired_nodes 4\n/);
    assert.match(text, /gossamer_autoscale_actual_nodes 3\n/);
    assert.match(text, /gossamer_autoscale_decisions_total\{decision="out",reason="requests_high"\} 1\n/);
    assert.match(text, /gossamer_autoscale_decisions_total\{decision="hold",reason="change_pending"\} 1\n/);
  });
});
