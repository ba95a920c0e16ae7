import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../../src/api/http/fast-histogram.js';
import { LATENCY_BUCKETS_S } from '../../src/api/http/metrics.js';

describe('FastHistogram', () => {
  it('renders what prom-client renders for the same observations (buckets, sum, count, label order)', async () => {
    const registry = new Registry();
    const prom = new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['api', 'op'], buckets: LATENCY_BUCKETS_S, registers: [registry] });
    const fast = new FastHistogram('x_seconds', 'h', ['api', 'op'], LATENCY_BUCKETS_S);
    const values = [0, 0.0005, 0.0004, 0.003, 0.1, 0.25, 7, 12, 0.01, 0.0100001];
    const ops = ['get', 'put'];
    values.forEach((v, i) => {
      const op = ops[i % 2]!;
      prom.observe({ api: 'http', op }, v);
      fast.child('http', op)(v);
    });
    fast.child('resp', 'get')(Number.NaN); // ignored, not a crash (and it makes an empty series)
    const lines = (t: string): string[] => t.split('\n').filter((l) => l.startsWith('x_seconds') && !l.includes('api="resp"'));
    assert.deepEqual(lines(fast.render()).sort(), lines(await registry.metrics()).sort());
    assert.match(fast.render(), /x_seconds_count\{api="resp",op="get"\} 0/);
  });

  it('a child observes into its own series; label values are escaped', () => {
    const h = new FastHistogram('y', 'h', ['k'], [1, 2]);
    const a = h.child('a"b');
    a(1.5);
    a(3);
    h.child('c')(0.5);
    const text = h.render();
    assert.match(text, /y_bucket\{le="1",k="a\\"b"\} 0/);
    assert.match(text, /y_bucket\{le="2",k="a\\"b"\} 1/);
    assert.match(text, /y_bucket\{le="\+Inf",k="a\\"b"\} 2/);
    assert.match(text, /y_sum\{k="a\\"b"\} 4.5/);
    assert.match(text, /y_count\{k="c"\} 1/);
  });
});
