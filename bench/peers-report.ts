/**
 * The peer benchmark's pure half: parsing what the load generators print (wrk through the Lua
 * `done()` of bench/peers-lua.ts, redis-benchmark's own report), merging the latency
 * distributions of several generator processes, and writing the report (Markdown tables, SVG bar
 * charts, the marked section of docs/benchmarks.md). No IO here, so tests can feed it text.
 */

/** What one generator process measured in one phase. */
export interface GenRun {
  requests: number;
  durationS: number;
  errors: number;
  /** Latency quantiles in ms at 0.1%, 0.2%, ... 99.9% (999 points), then 99.99%. */
  quantilesMs: number[];
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

/** One phase against one system, its generator processes merged. */
export interface PhaseFigures {
  requestsPerSec: number;
  /** Client operations per second: a read-modify-write (YCSB F) is one operation of two requests. */
  opsPerSec: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

export const PHASES = ['put', 'get', 'ycsb-a', 'ycsb-b', 'ycsb-c', 'ycsb-f'] as const;
export type PhaseName = (typeof PHASES)[number];

export const SYSTEMS = ['gossamer-1', 'gossamer-3', 'etcd-3', 'redis', 'node-http'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const SYSTEM_LABELS: Record<SystemName, string> = {
  'gossamer-1': 'Gossamer 1 node',
  'gossamer-3': 'Gossamer 3 nodes',
  'etcd-3': 'etcd 3 nodes',
  redis: 'Redis',
  'node-http': 'bare node:http',
};

/** The marker line wrk's Lua `done()` prints before its JSON. */
export const WRK_MARKER = 'PEERS-RESULT ';

/** Parses the JSON line bench/peers-lua.ts's `done()` prints (latencies in µs). */
export function parseWrkResult(stdout: string): GenRun {
  const line = stdout.split('\n').find((l) => l.startsWith(WRK_MARKER));
  if (!line) throw new Error(`wrk printed no result line: ${stdout.slice(0, 300)}`);
  const j = JSON.parse(line.slice(WRK_MARKER.length)) as {
    requests: number; duration_us: number; errors: Record<string, number>; q: number[]; p50: number; p99: number; p999: number;
  };
  if (!Array.isArray(j.q) || j.q.length !== 1000) throw new Error(`wrk's quantiles: expected 1000 points, got ${j.q?.length}`);
  const errors = Object.values(j.errors).reduce((s, x) => s + x, 0);
  return {
    requests: j.requests, durationS: j.duration_us / 1e6, errors,
    quantilesMs: j.q.map((us) => us / 1000), p50Ms: j.p50 / 1000, p99Ms: j.p99 / 1000, p999Ms: j.p999 / 1000,
  };
}

/**
 * Merges several processes' runs: throughputs add (they ran side by side); latency quantiles come
 * from the mixture of their distributions, each process weighted by its requests (each quantile
 * point stands for 0.1% of that process's requests).
 */
export function mergeRuns(runs: readonly GenRun[], requestsPerOp = 1): PhaseFigures {
  if (runs.length === 0) throw new Error('no runs to merge');
  const requestsPerSec = runs.reduce((s, r) => s + (r.durationS > 0 ? r.requests / r.durationS : 0), 0);
  const errors = runs.reduce((s, r) => s + r.errors, 0);
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  const base = { requestsPerSec: Math.round(requestsPerSec), opsPerSec: Math.round(requestsPerSec / requestsPerOp), errors };
  if (runs.length === 1) {
    const r = runs[0]!;
    return { ...base, p50Ms: round(r.p50Ms), p99Ms: round(r.p99Ms), p999Ms: round(r.p999Ms) };
  }
  // Point i < 999 stands for the 0.1% of requests just below its quantile; the 99.99% point for
  // the last 0.1% (the top of the distribution is not known finer than that).
  const points: { ms: number; w: number }[] = [];
  for (const r of runs) for (const ms of r.quantilesMs) points.push({ ms, w: r.requests * 0.001 });
  points.sort((a, b) => a.ms - b.ms);
  const total = points.reduce((s, p) => s + p.w, 0);
  const at = (q: number): number => {
    let acc = 0;
    for (const p of points) {
      acc += p.w;
      if (acc >= q * total - 1e-9) return p.ms;
    }
    return points[points.length - 1]!.ms;
  };
  return { ...base, p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), p999Ms: round(at(0.999)) };
}

/** redis-benchmark 7's report of one test: throughput, p50/p99 from its summary, p99.9 from its distribution. */
export interface RedisBenchFigures { test: string; requestsPerSec: number; p50Ms: number; p99Ms: number; p999Ms: number }

/** Parses redis-benchmark's full (not `-q`, not `--csv`) output; one entry per test it ran. */
export function parseRedisBenchmark(stdout: string): RedisBenchFigures[] {
  const out: RedisBenchFigures[] = [];
  const text = stdout.replace(/\r/g, '\n');
  const blocks = text.split(/====== (.+?) ======/);
  for (let i = 1; i + 1 < blocks.length; i += 2) {
    const test = blocks[i]!.trim();
    const body = blocks[i + 1]!;
    const tput = /throughput summary:\s*([\d.]+) requests per second/.exec(body);
    const summary = /avg\s+min\s+p50\s+p95\s+p99\s+max\s*\n\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/.exec(body);
    if (!tput || !summary) continue;
    let p999 = Number(summary[6]);
    for (const m of body.matchAll(/([\d.]+)% <= ([\d.]+) milliseconds/g)) {
      if (Number(m[1]) >= 99.9) { p999 = Number(m[2]); break; }
    }
    out.push({ test, requestsPerSec: Math.round(Number(tput[1])), p50Ms: Number(summary[3]), p99Ms: Number(summary[5]), p999Ms: p999 });
  }
  return out;
}

/** Several redis-benchmark processes run side by side (an op mix): rates add, latencies take the worst. */
export function mergeRedis(parts: readonly RedisBenchFigures[], requestsPerOp = 1): PhaseFigures {
  if (parts.length === 0) throw new Error('no redis-benchmark results');
  const rps = parts.reduce((s, p) => s + p.requestsPerSec, 0);
  const worst = (f: (p: RedisBenchFigures) => number): number => Math.max(...parts.map(f));
  return { requestsPerSec: rps, opsPerSec: Math.round(rps / requestsPerOp), errors: 0, p50Ms: worst((p) => p.p50Ms), p99Ms: worst((p) => p.p99Ms), p999Ms: worst((p) => p.p999Ms) };
}

export type Results = Partial<Record<SystemName, Partial<Record<PhaseName, PhaseFigures>>>>;

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => XML_ESCAPES[c]!);
const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948'];

/** A grouped bar chart as standalone SVG: one group per category, one bar per series (missing values leave a gap). */
export function barChartSvg(opts: { title: string; unit: string; categories: readonly string[]; series: readonly { name: string; values: readonly (number | undefined)[] }[] }): string {
  const W = 760; const H = 340; const left = 70; const right = 170; const top = 40; const bottom = 50;
  const plotW = W - left - right; const plotH = H - top - bottom;
  const max = Math.max(1e-9, ...opts.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined)));
  const niceMax = niceCeil(max);
  const groupW = plotW / Math.max(1, opts.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, opts.series.length);
  const y = (v: number): number => top + plotH - (v / niceMax) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (niceMax * t) / 4;
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(formatTick(v))}</text>`);
  }
  parts.push(`<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${esc(opts.unit)}</text>`);
  opts.categories.forEach((c, ci) => {
    const gx = left + ci * groupW + groupW * 0.1;
    opts.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === undefined) return;
      const x = gx + si * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${Math.max(1, barW - 1).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${COLOURS[si % COLOURS.length]}"><title>${esc(`${s.name}, ${c}: ${formatTick(v)} ${opts.unit}`)}</title></rect>`);
    });
    parts.push(`<text x="${(left + ci * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle">${esc(c)}</text>`);
  });
  opts.series.forEach((s, si) => {
    const ly = top + 10 + si * 18;
    parts.push(`<rect x="${left + plotW + 15}" y="${ly - 9}" width="12" height="12" fill="${COLOURS[si % COLOURS.length]}"/>`,
      `<text x="${left + plotW + 32}" y="${ly + 1}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}

function niceCeil(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function formatTick(v: number): string {
  if (v >= 1000) return `${Math.round(v / 100) / 10}k`;
  return String(Math.round(v * 100) / 100);
}

/** Replaces the text between `begin` and `end` markers, or inserts the marked section before `anchor` (else at the end). */
export function replaceMarked(doc: string, section: string, begin: string, end: string, anchor: string): string {
  const block = `${begin}\n${section.trimEnd()}\n${end}`;
  const b = doc.indexOf(begin);
  const e = doc.indexOf(end);
  if (b >= 0 && e > b) return doc.slice(0, b) + block + doc.slice(e + end.length);
  const a = doc.indexOf(anchor);
  if (a >= 0) return doc.slice(0, a) + block + '\n\n' + doc.slice(a);
  return doc.trimEnd() + '\n\n' + block + '\n';
}

/** figure a / figure b, to two decimals; undefined when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? Math.round((a / b) * 100) / 100 : undefined;
}
