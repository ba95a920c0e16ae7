/**
 * The peer benchmark's report: the Markdown section of docs/benchmarks.md (tables of throughput,
 * latency percentiles, the ratios the issue asks for, each system's configuration, the command)
 * and its SVG charts. Pure: the run's figures in, text out.
 */
import { PHASES, SYSTEMS, SYSTEM_LABELS, barChartSvg, ratio } from './peers-report.js';
import type { PhaseFigures, PhaseName, Results, SystemName } from './peers-report.js';

export interface PeersRun {
  date: string;
  loadAvgAtStart: number[];
  loadAvgAtEnd: number[];
  cpus: number;
  node: string;
  options: { seconds: number; warmupSeconds: number; records: number; connections: number; valueBytes: number; systems: SystemName[]; quick: boolean };
  results: Results;
  configs: Partial<Record<SystemName, string>>;
  skipped: string[];
  command: string;
}

export const PHASE_LABELS: Record<PhaseName, string> = {
  put: 'put (fresh keys)', get: 'get (uniform)', 'ycsb-a': 'YCSB A', 'ycsb-b': 'YCSB B', 'ycsb-c': 'YCSB C', 'ycsb-f': 'YCSB F',
};

const fig = (f: PhaseFigures | undefined, pick: (f: PhaseFigures) => number): string => (f ? String(pick(f)) : '–');

function present(run: PeersRun): SystemName[] {
  return SYSTEMS.filter((s) => run.results[s] !== undefined);
}

/** One goal of the issue: a measured value against its bound. */
interface Goal { what: string; value: number | undefined; bound: number; atMost?: boolean }

function goals(run: PeersRun): Goal[] {
  const r = run.results;
  const g3 = r['gossamer-3'];
  const g1 = r['gossamer-1'];
  const etcd = r['etcd-3'];
  const bare = r['node-http'];
  return [
    { what: '3 nodes: puts / etcd puts', value: ratio(g3?.put?.opsPerSec, etcd?.put?.opsPerSec), bound: 2 },
    { what: '3 nodes: gets / etcd gets', value: ratio(g3?.get?.opsPerSec, etcd?.get?.opsPerSec), bound: 4 },
    { what: '3 nodes: put p99 (ms)', value: g3?.put?.p99Ms, bound: 10, atMost: true },
    { what: '3 nodes: get p99 (ms)', value: g3?.get?.p99Ms, bound: 10, atMost: true },
    { what: '1 node: gets / bare node:http', value: ratio(g1?.get?.opsPerSec, bare?.get?.opsPerSec), bound: 0.5 },
    { what: '1 node: puts / bare node:http', value: ratio(g1?.put?.opsPerSec, bare?.put?.opsPerSec), bound: 0.35 },
    { what: '1 node: put p99 (ms)', value: g1?.put?.p99Ms, bound: 5, atMost: true },
    { what: '1 node: get p99 (ms)', value: g1?.get?.p99Ms, bound: 5, atMost: true },
  ];
}

function goalRows(run: PeersRun): string[] {
  const rows = ['| goal | measured | bound | met? |', '|---|---|---|---|'];
  for (const g of goals(run)) {
    const met = g.value === undefined ? 'not measured' : (g.atMost ? g.value <= g.bound : g.value >= g.bound) ? 'yes' : '**no**';
    rows.push(`| ${g.what} | ${g.value ?? '–'} | ${g.atMost ? '≤' : '≥'} ${g.bound} | ${met} |`);
  }
  const r = run.results;
  const a = r['gossamer-3']?.['ycsb-a']?.opsPerSec;
  rows.push(`| YCSB A, 3 nodes: ops/s; ratio to etcd; to Redis | ${a ?? '–'}; ${ratio(a, r['etcd-3']?.['ycsb-a']?.opsPerSec) ?? '–'}×; ${ratio(a, r.redis?.['ycsb-a']?.opsPerSec) ?? '–'}× | reported | — |`);
  return rows;
}

export function peersMarkdown(run: PeersRun): string {
  const systems = present(run);
  const o = run.options;
  const lines = [
    '## Peers (issue 17) — [the charts](#peer-charts)',
    '',
    '```',
    run.command,
    '```',
    `Run ${run.date} on ${run.cpus} CPUs (Node ${run.node}), load average ${run.loadAvgAtStart[0]} at the start and ${run.loadAvgAtEnd[0]} at the end.`,
    'Every system, its data and the load generator share this one machine: read the ratios of one run, not the absolute figures.',
    `Each phase runs ${o.seconds} s after a ${o.warmupSeconds} s warm-up of YCSB A; ${o.connections} connections in all (one wrk process per member, 1 thread,`,
    `the connections split evenly); ${o.records.toLocaleString('en-US')} records of ${o.valueBytes} bytes preloaded; puts write fresh keys, gets read uniformly`,
    'random records, YCSB A/B/C/F draw keys from YCSB\'s scrambled zipfian (0.99). Values are random bytes (incompressible).',
    'An operation of F is a read then a write of the same key (two requests); ops/s counts it once.',
    '',
    '### Throughput, operations per second',
    '',
    `| phase | ${systems.map((s) => SYSTEM_LABELS[s]).join(' | ')} |`,
    `|---|${systems.map(() => '---').join('|')}|`,
  ];
  for (const p of PHASES) lines.push(`| ${PHASE_LABELS[p]} | ${systems.map((s) => fig(run.results[s]?.[p], (f) => f.opsPerSec)).join(' | ')} |`);
  lines.push('', '### Latency, ms (p50 / p99 / p99.9); errors', '', `| phase | ${systems.map((s) => SYSTEM_LABELS[s]).join(' | ')} |`, `|---|${systems.map(() => '---').join('|')}|`);
  for (const p of PHASES) {
    lines.push(`| ${PHASE_LABELS[p]} | ${systems.map((s) => {
      const f = run.results[s]?.[p];
      return f ? `${f.p50Ms} / ${f.p99Ms} / ${f.p999Ms}${f.errors > 0 ? `; ${f.errors} errors` : ''}` : '–';
    }).join(' | ')} |`);
  }
  lines.push('', '### Ratios', '', '| phase | Gossamer 3 / etcd | Gossamer 3 / Redis | Gossamer 1 / bare node:http |', '|---|---|---|---|');
  for (const p of PHASES) {
    const g3 = run.results['gossamer-3']?.[p]?.opsPerSec;
    const g1 = run.results['gossamer-1']?.[p]?.opsPerSec;
    lines.push(`| ${PHASE_LABELS[p]} | ${ratio(g3, run.results['etcd-3']?.[p]?.opsPerSec) ?? '–'} | ${ratio(g3, run.results.redis?.[p]?.opsPerSec) ?? '–'} | ${ratio(g1, run.results['node-http']?.[p]?.opsPerSec) ?? '–'} |`);
  }
  lines.push('', '### The issue\'s goals', '', ...goalRows(run), '', '### How each system ran', '');
  for (const s of systems) lines.push(`- **${SYSTEM_LABELS[s]}**: ${run.configs[s] ?? ''}`);
  if (run.skipped.length > 0) lines.push(`- Skipped: ${run.skipped.join('; ')}.`);
  lines.push('', '<a id="peer-charts"></a>', '![throughput](peers-throughput.svg)', '', '![p99 latency](peers-p99.svg)', '',
    'Raw figures: `bench/results/peers.json`.');
  return lines.join('\n');
}

export function peersCharts(run: PeersRun): Record<string, string> {
  const systems = present(run);
  const categories = PHASES.map((p) => PHASE_LABELS[p]);
  const series = (pick: (f: PhaseFigures) => number): { name: string; values: (number | undefined)[] }[] =>
    systems.map((s) => ({ name: SYSTEM_LABELS[s], values: PHASES.map((p) => { const f = run.results[s]?.[p]; return f ? pick(f) : undefined; }) }));
  return {
    'peers-throughput.svg': barChartSvg({ title: `Throughput (${run.date.slice(0, 10)}, one machine, ${run.options.connections} connections)`, unit: 'ops/s', categories, series: series((f) => f.opsPerSec) }),
    'peers-p99.svg': barChartSvg({ title: 'p99 latency (lower is better)', unit: 'ms', categories, series: series((f) => f.p99Ms) }),
  };
}
