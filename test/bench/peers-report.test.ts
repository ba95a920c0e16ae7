import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WRK_MARKER, barChartSvg, mergeRuns, parseRedisBenchmark, parseWrkResult, replaceMarked } from '../../bench/peers-report.js';
import type { GenRun } from '../../bench/peers-report.js';
import { opSequence, requestsPerOp, wrkScript } from '../../bench/peers-lua.js';
import { parsePeersArgs } from '../../bench/peers.js';
import { peersMarkdown } from '../../bench/peers-markdown.js';
import type { PeersRun } from '../../bench/peers-markdown.js';

/** A run whose latencies are uniform on [lo, hi] ms. */
function uniformRun(requests: number, lo: number, hi: number, durationS = 10): GenRun {
  const q = Array.from({ length: 999 }, (_, i) => lo + ((hi - lo) * (i + 1)) / 1000);
  q.push(lo + (hi - lo) * 0.9999);
  return { requests, durationS, errors: 0, quantilesMs: q, p50Ms: q[499]!, p99Ms: q[989]!, p999Ms: q[998]! };
}

describe('peer benchmark: parsing and report', () => {
  it('reads the line the wrk script prints, in ms, errors summed', () => {
    const q = Array.from({ length: 1000 }, (_, i) => (i + 1) * 10);
    const line = `${WRK_MARKER}${JSON.stringify({ requests: 5000, duration_us: 2_000_000, errors: { connect: 0, read: 1, write: 0, status: 3, timeout: 2 }, p50: 1500, p99: 9000, p999: 12000, q })}`;
    const r = parseWrkResult(`Running 2s test\n${line}\n`);
    assert.equal(r.requests, 5000);
    assert.equal(r.durationS, 2);
    assert.equal(r.errors, 6);
    assert.equal(r.p50Ms, 1.5);
    assert.equal(r.p999Ms, 12);
    assert.equal(r.quantilesMs[999], 10);
    assert.throws(() => parseWrkResult('no result here'), /no result line/);
  });

  it('merging processes adds their rates and takes quantiles of the mixture', () => {
    const fast = uniformRun(9000, 0, 10);
    const slow = uniformRun(1000, 100, 200);
    const m = mergeRuns([fast, slow]);
    assert.equal(m.requestsPerSec, 1000);
    assert.ok(m.p50Ms > 5 && m.p50Ms < 6, `p50 ${m.p50Ms}: the middle of the fast 90%`);
    assert.ok(m.p99Ms > 180 && m.p99Ms <= 200, `p99 ${m.p99Ms}: within the slow 10%'s top`);
    assert.ok(m.p999Ms >= m.p99Ms);
    const one = mergeRuns([fast], 1.5);
    assert.equal(one.opsPerSec, Math.round(900 / 1.5));
    assert.equal(one.p50Ms, Math.round(fast.p50Ms * 1000) / 1000);
  });

  it('reads redis-benchmark 7 output: throughput, p50/p99 from the summary, p99.9 from the distribution', () => {
    const out = [
      '====== SET ======', '  100000 requests completed in 1.00 seconds', '  50 parallel clients',
      'Latency by percentile distribution:', '0.000% <= 0.100 milliseconds (cumulative count 1)', '50.000% <= 0.300 milliseconds (cumulative count 50000)',
      '99.219% <= 0.900 milliseconds (cumulative count 99219)', '99.902% <= 1.500 milliseconds (cumulative count 99902)', '100.000% <= 3.000 milliseconds (cumulative count 100000)',
      '', 'Summary:', '  throughput summary: 99800.40 requests per second', '  latency summary (msec):',
      '          avg       min       p50       p95       p99       max', '        0.310     0.100     0.303     0.599     0.871     3.000', '',
    ].join('\n');
    const r = parseRedisBenchmark(out);
    assert.deepEqual(r, [{ test: 'SET', requestsPerSec: 99800, p50Ms: 0.303, p99Ms: 0.871, p999Ms: 1.5 }]);
  });

  it('the YCSB sequences follow the mixes; F counts two requests per operation', () => {
    const a = opSequence('ycsb-a', 1000, 20_000, 7);
    const reads = [...a.ops].filter((c) => c === 'R').length / a.ops.length;
    assert.ok(reads > 0.47 && reads < 0.53, `A reads ${reads}`);
    assert.ok(a.keys.every((k) => k >= 0 && k < 1000));
    const counts = new Map<number, number>();
    for (const k of a.keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    const top = Math.max(...counts.values());
    assert.ok(top > 20_000 / 1000 * 5, `zipfian: the hottest key is drawn ${top} times, far above uniform`);
    assert.equal([...opSequence('ycsb-c', 1000, 1000, 1).ops].every((c) => c === 'R'), true);
    assert.equal(requestsPerOp('ycsb-f'), 1.5);
    assert.equal(requestsPerOp('ycsb-a'), 1);
    const lua = wrkScript({ dialect: 'etcd', phase: 'ycsb-b', records: 100, valueBytes: 1024, sequenceLength: 50 });
    assert.match(lua, /\/v3\/kv\/put/);
    assert.match(lua, /PEERS-RESULT/);
  });

  it('arguments: --quick shortens, --seconds and --systems are checked', () => {
    assert.equal(parsePeersArgs(['peers']).seconds, 30);
    assert.equal(parsePeersArgs(['peers', '--quick']).seconds, 3);
    assert.equal(parsePeersArgs(['peers', '--seconds', '12']).seconds, 12);
    assert.equal(parsePeersArgs(['peers', '--seconds=5']).seconds, 5);
    assert.deepEqual(parsePeersArgs(['--systems', 'redis,etcd-3']).systems, ['redis', 'etcd-3']);
    assert.throws(() => parsePeersArgs(['--seconds', 'x']), /positive number/);
    assert.throws(() => parsePeersArgs(['--systems', 'mongo']), /unknown system/);
  });

  it('the SVG chart: one bar per value, heights in proportion, text escaped', () => {
    const svg = barChartSvg({ title: 'a <b> & c', unit: 'ops/s', categories: ['x', 'y'], series: [{ name: 's1', values: [100, 50] }, { name: 's2', values: [25, undefined] }] });
    assert.match(svg, /^<svg /);
    assert.match(svg, /a &lt;b&gt; &amp; c/);
    const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="#[0-9a-f]{6}"><title>/g)].map((m) => Number(m[1]));
    assert.equal(heights.length, 3);
    assert.ok(Math.abs(heights[0]! / heights[2]! - 2) < 0.02 && Math.abs(heights[0]! / heights[1]! - 4) < 0.05, `heights ${heights.join(',')}`);
  });

  it('the marked section is replaced in place, or inserted before the anchor once', () => {
    const doc = '# B\n\n## Ring\ntext\n';
    const once = replaceMarked(doc, 'one', '<!-- b -->', '<!-- e -->', '## Ring');
    assert.equal(once, '# B\n\n<!-- b -->\none\n<!-- e -->\n\n## Ring\ntext\n');
    const twice = replaceMarked(once, 'two', '<!-- b -->', '<!-- e -->', '## Ring');
    assert.equal(twice, '# B\n\n<!-- b -->\ntwo\n<!-- e -->\n\n## Ring\ntext\n');
  });

  it('the report names missed goals as misses', () => {
    const f = (ops: number, p99: number) => ({ requestsPerSec: ops, opsPerSec: ops, errors: 0, p50Ms: 1, p99Ms: p99, p999Ms: p99 });
    const run: PeersRun = {
      date: '2026-11-30T00:00:00Z', loadAvgAtStart: [1], loadAvgAtEnd: [1], cpus: 2, node: 'v20', skipped: [], command: 'npm run bench -- peers',
      options: { seconds: 30, warmupSeconds: 10, records: 10_000, connections: 50, valueBytes: 1024, systems: ['gossamer-3', 'etcd-3'], quick: false },
      results: { 'gossamer-3': { put: f(9000, 8), get: f(10_000, 12) }, 'etcd-3': { put: f(4000, 30), get: f(5000, 30) } },
      configs: {},
    };
    const md = peersMarkdown(run);
    assert.match(md, /\| 3 nodes: puts \/ etcd puts \| 2\.25 \| ≥ 2 \| yes \|/);
    assert.match(md, /\| 3 nodes: gets \/ etcd gets \| 2 \| ≥ 4 \| \*\*no\*\* \|/);
    assert.match(md, /\| 3 nodes: get p99 \(ms\) \| 12 \| ≤ 10 \| \*\*no\*\* \|/);
    assert.match(md, /\| 1 node: gets \/ bare node:http \| – \| ≥ 0\.5 \| not measured \|/);
  });
});
