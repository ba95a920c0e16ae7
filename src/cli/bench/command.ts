/**
 * `gossamer bench`: YCSB core workloads A, B, C, D and F against a node, over HTTP or RESP.
 * Prints a summary table (or `--json`) of throughput and p50/p95/p99/p99.9 per operation.
 */
import type { Command } from 'commander';
import { Option as CommanderOption } from 'commander';
import http from 'node:http';
import { Prng } from '../../sim/prng.js';
import { failure, usage } from '../errors.js';
import { createProgress } from '../progress.js';
import { colorEnabled, createStyle, table } from '../style.js';
import type { PhaseOptions, PhaseResult } from './driver.js';
import { BenchDriver } from './driver.js';
import type { BenchTransport, HostPort } from './transports.js';
import { HttpTransport, RespTransport } from './transports.js';
import type { Distribution, WorkloadName } from './workload.js';
import { CoreWorkload, WORKLOADS, isWorkloadName } from './workload.js';

export interface BenchCliOptions {
  workload?: string;
  records?: string;
  operations?: string;
  clients?: string;
  target?: string;
  distribution?: string;
  transport?: string;
  host?: string;
  load?: boolean;
  seed?: string;
  fieldLength?: string;
  json?: boolean;
}

export interface BenchSettings {
  workload: WorkloadName;
  recordCount: number;
  operationCount: number;
  clients: number;
  targetPerSec: number;
  distribution: Distribution | undefined;
  transport: 'http' | 'resp';
  /** Nodes to spread the clients' requests over (round-robin). */
  targets: HostPort[];
  load: boolean;
  seed: number;
  fieldLengthBytes: number;
  json: boolean;
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw usage(`--${name} must be a whole number ${min}..${max} (got "${raw}")`);
  return Number(raw);
}

const HOST_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

export function parseBenchOptions(o: BenchCliOptions): BenchSettings {
  const w = (o.workload ?? 'a').toLowerCase();
  if (w === 'e') throw usage('workload E needs range scans, which a hash-partitioned store does not offer; choose a, b, c, d or f');
  if (!isWorkloadName(w)) throw usage(`--workload must be a, b, c, d or f (got "${o.workload}")`);
  const transport = o.transport ?? 'http';
  if (transport !== 'http' && transport !== 'resp') throw usage(`--transport must be http or resp (got "${transport}")`);
  const hostRaw = o.host ?? (transport === 'resp' ? '127.0.0.1:6380' : '127.0.0.1:8000');
  const targets = hostRaw.split(',').map((h) => {
    const m = HOST_RE.exec(h.trim());
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw usage(`--host must be host:port[,host:port...] without a scheme (got "${hostRaw}")`);
    return { host: m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!, port: Number(m[2]) };
  });
  const d = o.distribution;
  if (d !== undefined && d !== 'zipfian' && d !== 'latest' && d !== 'uniform') throw usage(`--distribution must be zipfian, latest or uniform (got "${d}")`);
  return {
    workload: w,
    recordCount: int('records', o.records, 1000, 1, 100_000_000),
    operationCount: int('operations', o.operations, 10_000, 1, 1_000_000_000),
    clients: int('clients', o.clients, 16, 1, 4096),
    targetPerSec: int('target', o.target, 0, 0, 10_000_000),
    distribution: d,
    transport,
    targets,
    load: o.load !== false,
    seed: int('seed', o.seed, 1, 0, 2 ** 32 - 1),
    fieldLengthBytes: int('field-length', o.fieldLength, 100, 1, 100_000),
    json: o.json === true,
  };
}

function checkHttp(target: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: target.host, port: target.port, path: '/health', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve()
        : reject(failure(`the node at ${target.host}:${target.port} does not serve (HTTP ${res.statusCode ?? 0} on /health)`))));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e: NodeJS.ErrnoException) => reject(failure(`cannot reach ${target.host}:${target.port}: ${e.code ?? e.message}`)));
  });
}

function hostList(targets: readonly HostPort[]): string {
  return targets.map((t) => `${t.host}:${t.port}`).join(',');
}

async function openTransport(s: BenchSettings): Promise<BenchTransport> {
  if (s.transport === 'http') {
    await Promise.all(s.targets.map(checkHttp));
    return new HttpTransport(s.targets, s.clients);
  }
  const t = new RespTransport(s.targets, s.clients);
  try {
    await t.connect();
  } catch (e) {
    await t.close();
    throw failure(`cannot reach ${hostList(s.targets)} over RESP: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return t;
}

export interface BenchReport {
  workload: string;
  description: string;
  transport: string;
  host: string;
  recordCount: number;
  operationCount: number;
  recordBytes: number;
  clients: number;
  targetPerSec: number | null;
  distribution: Distribution;
  seed: number;
  load: PhaseResult | null;
  run: PhaseResult;
}

export interface BenchIo {
  progressStream: { isTTY?: boolean; write(s: string): unknown };
  colour: boolean;
}

export async function runBench(s: BenchSettings, io: BenchIo): Promise<BenchReport> {
  const spec = WORKLOADS[s.workload];
  const workload = new CoreWorkload(spec, {
    recordCount: s.recordCount, operationCount: s.operationCount, fieldLengthBytes: s.fieldLengthBytes,
    ...(s.distribution ? { distribution: s.distribution } : {}),
  }, new Prng(s.seed));
  const transport = await openTransport(s);
  const driver = new BenchDriver(workload, transport);
  const phase = (label: string, total: number): { opts: PhaseOptions; stop: () => void } => {
    const bar = createProgress({ total, label, stream: io.progressStream, colour: io.colour });
    return { opts: { clients: s.clients, targetPerSec: s.targetPerSec, onDone: () => bar.tick() }, stop: () => bar.stop() };
  };
  try {
    let load: PhaseResult | null = null;
    if (s.load) {
      const p = phase('load', s.recordCount);
      load = await driver.load(p.opts);
      p.stop();
    }
    const p = phase(`run ${spec.name}`, s.operationCount);
    const run = await driver.run(p.opts);
    p.stop();
    return {
      workload: spec.name, description: spec.description, transport: s.transport, host: hostList(s.targets),
      recordCount: s.recordCount, operationCount: s.operationCount, recordBytes: workload.recordBytes, clients: s.clients,
      targetPerSec: s.targetPerSec > 0 ? s.targetPerSec : null, distribution: s.distribution ?? spec.distribution, seed: s.seed, load, run,
    };
  } finally {
    await transport.close();
  }
}

export function formatPhase(r: PhaseResult, colour: boolean): string {
  const style = createStyle(colour);
  const rows = [['OP', 'COUNT', 'ERRORS', 'OPS/S', 'MEAN', 'P50', 'P95', 'P99', 'P99.9', 'MAX (ms)']];
  const f = (v: number): string => v.toFixed(v < 10 ? 2 : 1);
  for (const o of r.ops) {
    const errs = o.errors > 0 ? style.paint('red', `${o.errors}`) + ` (${Object.entries(o.errorDetails).map(([k, v]) => `${k}:${v}`).join(' ')})` : '0';
    rows.push([o.op, String(o.count), errs + (o.notFound > 0 ? ` ${o.notFound} not found` : ''), f(o.throughputPerSec),
      f(o.meanMs), f(o.p50Ms), f(o.p95Ms), f(o.p99Ms), f(o.p999Ms), f(o.maxMs)]);
  }
  return `${style.paint('bold', r.phase)}: ${r.operations} operations in ${(r.durationMs / 1000).toFixed(2)} s = ${r.throughputPerSec} ops/s\n` + table(rows);
}

export function formatReport(rep: BenchReport, colour: boolean): string {
  const head = `YCSB workload ${rep.workload} (${rep.description}) over ${rep.transport} at ${rep.host}: `
    + `${rep.recordCount} records of ${rep.recordBytes} B, ${rep.operationCount} operations, ${rep.clients} clients`
    + `${rep.targetPerSec ? `, target ${rep.targetPerSec} ops/s` : ''}, ${rep.distribution}, seed ${rep.seed}\n`;
  return head + (rep.load ? '\n' + formatPhase(rep.load, colour) : '') + '\n' + formatPhase(rep.run, colour);
}

export function addBenchCommand(program: Command, action: <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>): Command {
  return program.command('bench')
    .description('YCSB core workloads A, B, C, D, F against a node (E needs range scans, which a hash-partitioned store does not offer)')
    .addOption(new CommanderOption('--workload <w>', 'a (50/50 read/update), b (95/5), c (read only), d (read latest, 5% inserts), f (read-modify-write)').default('a'))
    .option('--records <n>', 'records loaded first (YCSB recordcount)', '1000')
    .option('--operations <n>', 'operations in the run phase (YCSB operationcount)', '10000')
    .option('--clients <n>', 'concurrent clients (YCSB threads)', '16')
    .option('--target <ops>', 'target operations per second over all clients (0: as fast as possible)', '0')
    .option('--distribution <d>', 'override the request distribution: zipfian, latest or uniform')
    .option('--transport <t>', 'http or resp (GET/SET against a RESP server)', 'http')
    .option('--host <host:port,...>', 'the node(s), requests spread round-robin (HTTP addresses; RESP with --transport resp) (default 127.0.0.1:8000, or :6380 for resp)')
    .option('--no-load', 'skip the load phase (records already loaded)')
    .option('--seed <n>', 'seed of the request sequence', '1')
    .option('--field-length <bytes>', 'YCSB fieldlength: a record is 10 fields of this size', '100')
    .option('--json', 'print the report as JSON on stdout')
    .action(action(async (opts: BenchCliOptions) => {
      const s = parseBenchOptions(opts);
      const colour = colorEnabled(process.stdout);
      const rep = await runBench(s, { progressStream: process.stderr, colour: colorEnabled(process.stderr) });
      process.stdout.write(s.json ? JSON.stringify(rep, null, 2) + '\n' : formatReport(rep, colour));
      const total = rep.run.ops.reduce((a, o) => a + o.count, 0);
      const errors = rep.run.ops.reduce((a, o) => a + o.errors, 0);
      if (total > 0 && errors === total) throw failure('every operation failed');
    }));
}
