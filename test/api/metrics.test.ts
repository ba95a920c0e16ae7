/** /metrics: what a Prometheus scrape sees after known traffic, and the node's collectors. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpServer } from '../../src/api/http/index.js';
import type { GossamerHttpServer } from '../../src/api/http/index.js';
import { NodeMetrics } from '../../src/api/http/metrics.js';
import { RPC_GIVE_UP_MS, STORAGE_FIELDS, createNodeObservability } from '../../src/cli/node-metrics.js';
import { MemoryEngine } from '../../src/storage/memory-engine.js';
import type { StorageEngine } from '../../src/ports/index.js';
import { FakeService } from './fake-service.js';
import { request } from './http-client.js';

/** Parses the exposition text into `name{labels}` → value (samples only). */
function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

function familyNames(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!);
}

describe('/metrics over HTTP', () => {
  let server: GossamerHttpServer;
  let port: number;
  const metrics = new NodeMetrics();
  before(async () => {
    server = createHttpServer(new FakeService('node-a'), { metricsRegistry: metrics, replyGraceMs: 50 });
    ({ port } = await server.listen('127.0.0.1', 0));
  });
  after(async () => { await server.close(); });

  it('counts client operations by API, op and status, with a latency histogram per op', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await request(port, 'PUT', '/kv/k', { body: 'v' })).status, 204);
    assert.equal((await request(port, 'GET', '/kv/k')).status, 300); // three blind writes: siblings
    assert.equal((await request(port, 'GET', '/kv/absent')).status, 404);
    assert.equal((await request(port, 'DELETE', '/kv/absent')).status, 204);
    assert.equal((await request(port, 'GET', '/kv/k?r=zero')).status, 400);
    const m = await request(port, 'GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const s = samples(m.text);
    assert.equal(s.get('gossamer_client_requests_total{api="http",op="put",status="204"}'), 3);
    assert.equal(s.get('gossamer_client_requests_total{api="http",op="get",status="300"}'), 1);
    assert.equal(s.get('gossamer_client_requests_total{api="http",op="get",status="404"}'), 1);
    assert.equal(s.get('gossamer_client_requests_total{api="http",op="get",status="400"}'), 1);
    assert.equal(s.get('gossamer_client_requests_total{api="http",op="delete",status="204"}'), 1);
    assert.equal(s.get('gossamer_client_request_duration_seconds_count{api="http",op="put"}'), 3);
    assert.equal(s.get('gossamer_client_request_duration_seconds_count{api="http",op="get"}'), 3);
    assert.equal(s.get('gossamer_client_request_duration_seconds_bucket{le="+Inf",api="http",op="get"}'), 3);
    assert.ok(s.get('gossamer_client_request_duration_seconds_sum{api="http",op="put"}')! > 0);
    assert.equal(s.get('gossamer_http_requests_total{route="kv",method="PUT",status="204"}'), 3);
    for (const name of familyNames(m.text)) assert.match(name, /^gossamer_/, `${name} is named gossamer_*`);
    // The dashboard's recent series saw the same seven client operations.
    const recent = metrics.recent.points().reduce((a, p) => a + p.requests, 0);
    assert.equal(recent, 7);
  });

  it('refuses other methods with 405', async () => {
    assert.equal((await request(port, 'POST', '/metrics')).status, 405);
  });
});

function fakeLsm(stats: Record<string, unknown>): StorageEngine {
  const e = new MemoryEngine() as unknown as { stats(): Record<string, unknown> };
  e.stats = () => ({ ...stats });
  return e as unknown as StorageEngine;
}

describe('node collectors', () => {
  it('storage: gauges read as they are, counters follow the engine\'s totals; fields it lacks are not exported', async () => {
    const stats: Record<string, unknown> = { memtableBytes: 4096, tables: 3, tableBytes: 10_000, flushes: 2, compactions: 1, blockCacheHits: 7, blockCacheMisses: 1, corruptions: [] };
    const obs = createNodeObservability(fakeLsm(stats) as unknown as StorageEngine, { defaultMetrics: false });
    try {
      let s = samples(await obs.metrics.render());
      assert.equal(s.get('gossamer_storage_memtable_bytes'), 4096);
      assert.equal(s.get('gossamer_storage_sstables'), 3);
      assert.equal(s.get('gossamer_storage_flushes_total'), 2);
      assert.equal(s.get('gossamer_storage_block_cache_hits_total'), 7);
      assert.equal(s.get('gossamer_storage_corruptions'), 0);
      assert.equal(s.has('gossamer_storage_bloom_useful_total'), false, 'this engine reports no bloom counts');
      Object.assign(stats, { flushes: 5, memtableBytes: 0 });
      s = samples(await obs.metrics.render());
      assert.equal(s.get('gossamer_storage_flushes_total'), 5);
      assert.equal(s.get('gossamer_storage_memtable_bytes'), 0);
      assert.equal(obs.ui.self().loadBytes, 10_000);
    } finally {
      obs.close();
    }
    const withBloom = createNodeObservability(fakeLsm({ bloomUseful: 9, bloomFalsePositives: 2 }) as unknown as StorageEngine, { defaultMetrics: false });
    const s2 = samples(await withBloom.metrics.render());
    withBloom.close();
    assert.equal(s2.get('gossamer_storage_bloom_useful_total'), 9);
    assert.equal(s2.get('gossamer_storage_bloom_false_positives_total'), 2);
    assert.ok(STORAGE_FIELDS.every((f) => f.name.startsWith('gossamer_storage_')));
  });

  it('replica RPCs are timed from request to matching reply; unanswered ones are counted after the give-up time', async () => {
    let nowMs = 1000;
    const obs = createNodeObservability(new MemoryEngine(), { defaultMetrics: false, now: () => nowMs });
    try {
      obs.wire.sent('b', { type: 'replica-put', id: 1, key: 'k', state: new Uint8Array() });
      obs.wire.sent('c', { type: 'replica-put', id: 2, key: 'k', state: new Uint8Array() });
      obs.wire.sent('c', { type: 'replica-get', id: 3, key: 'k' });
      nowMs += 4;
      obs.wire.received('b', { type: 'replica-put-ack', id: 1, key: 'k' });
      obs.wire.received('b', { type: 'replica-put-ack', id: 2, key: 'k' }); // wrong peer: not a reply to 2
      obs.wire.received('c', { type: 'replica-put-ack', id: 3, key: 'k' }); // wrong type: not a reply to 3
      nowMs += 16;
      obs.wire.received('c', { type: 'replica-get-reply', id: 3, key: 'k', state: null });
      let s = samples(await obs.metrics.render());
      assert.equal(s.get('gossamer_replica_rpc_duration_seconds_count{type="replica-put",peer="b"}'), 1);
      assert.equal(s.get('gossamer_replica_rpc_duration_seconds_sum{type="replica-put",peer="b"}'), 0.004);
      assert.equal(s.get('gossamer_replica_rpc_duration_seconds_sum{type="replica-get",peer="c"}'), 0.02);
      assert.equal(s.has('gossamer_replica_rpc_duration_seconds_count{type="replica-put",peer="c"}'), false);
      assert.equal(s.get('gossamer_messages_sent_total{type="replica-put"}'), 2);
      assert.equal(s.get('gossamer_messages_received_total{type="replica-put-ack"}'), 3);
      nowMs += RPC_GIVE_UP_MS;
      s = samples(await obs.metrics.render());
      assert.equal(s.get('gossamer_replica_rpc_unanswered_total{type="replica-put"}'), 1, 'the put to c never answered');
      obs.wire.received('c', { type: 'replica-put-ack', id: 2, key: 'k' }); // too late: forgotten
      s = samples(await obs.metrics.render());
      assert.equal(s.has('gossamer_replica_rpc_duration_seconds_count{type="replica-put",peer="c"}'), false);
    } finally {
      obs.close();
    }
  });

  it('members by state, serving, partitions owned; the dashboard\'s hint count only once a source registers', async () => {
    const obs = createNodeObservability(new MemoryEngine(), { defaultMetrics: false });
    try {
      const svc = Object.assign(new FakeService('node-a'), { inFlight: () => 2 });
      const base = svc.members.bind(svc);
      svc.members = () => base().map((m) => (m.nodeId === 'node-c' ? { ...m, state: 'suspect' as const } : m));
      obs.attach(svc);
      const s = samples(await obs.metrics.render());
      assert.equal(s.get('gossamer_members{state="alive"}'), 2);
      assert.equal(s.get('gossamer_members{state="suspect"}'), 1);
      assert.equal(s.get('gossamer_members{state="faulty"}'), 0);
      assert.equal(s.get('gossamer_node_serving'), 1);
      assert.equal(s.get('gossamer_requests_in_flight'), 2);
      assert.equal(s.get('gossamer_partitions_owned'), 3); // owners of the fake's 8 partitions: a, b, c, a, b, c, a, b
      assert.equal(s.has('gossamer_hints_pending'), false);
      assert.equal(obs.ui.hintsPending(), null);
      obs.setHintsSource(() => 12);
      // The dashboard reads the source; the gossamer_hints_* metrics come from the node's stats
      // (src/runtime/stats-text.ts, checked on real processes in test/cluster/handoff.test.ts).
      assert.equal(obs.ui.hintsPending(), 12);
    } finally {
      obs.close();
    }
  });

  it('event-loop utilization covers the interval since the previous scrape: high after a busy spell, lower after an idle one', async () => {
    const obs = createNodeObservability(new MemoryEngine(), { defaultMetrics: false });
    try {
      await obs.metrics.render(); // starts the interval here
      const until = Date.now() + 100;
      while (Date.now() < until) { /* keep the loop busy */ }
      const busy = samples(await obs.metrics.render()).get('gossamer_event_loop_utilization')!;
      await new Promise<void>((r) => setTimeout(r, 200)); // the loop waits in poll: idle
      const idle = samples(await obs.metrics.render()).get('gossamer_event_loop_utilization')!;
      assert.ok(busy > 0.5 && busy <= 1, `busy spell: ${busy}`);
      assert.ok(idle >= 0 && idle < busy, `idle spell ${idle} below busy ${busy}`);
    } finally {
      obs.close();
    }
  });

  it('the event-loop delay histogram is a valid cumulative histogram', async () => {
    const obs = createNodeObservability(new MemoryEngine(), { defaultMetrics: true });
    try {
      const until = Date.now() + 30;
      while (Date.now() < until) { /* block the loop a little */ }
      await new Promise<void>((r) => setTimeout(r, 50));
      const text = await obs.metrics.render();
      const s = samples(text);
      const buckets = [...s.entries()].filter(([k]) => k.startsWith('gossamer_event_loop_delay_seconds_bucket'));
      assert.ok(buckets.length >= 5);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]![1] >= buckets[i - 1]![1], 'cumulative');
      assert.equal(s.get('gossamer_event_loop_delay_seconds_bucket{le="+Inf"}'), s.get('gossamer_event_loop_delay_seconds_count'));
      for (const name of familyNames(text)) assert.match(name, /^gossamer_/, `${name} is named gossamer_*`);
    } finally {
      obs.close();
    }
  });
});
