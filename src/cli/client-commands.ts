/**
 * The client and operator commands (`get`, `put`, `del`, `status`, `ring`): each is one or two
 * HTTP requests to the node `--host` names. Output goes to `out`/`err` so tests can capture it.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { CliError, failure, usage } from './errors.js';
import { createStyle, formatBytes, table } from './style.js';

export interface Io {
  out(s: string | Uint8Array): void;
  err(s: string): void;
  stdin(): Promise<Buffer>;
  stdoutIsTty: boolean;
  /** Colour the operator tables (a TTY without NO_COLOR). */
  colour?: boolean;
}

export interface CommonOptions {
  host?: string;
  timeout?: string;
  verbose?: boolean;
}

const HOST_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

export function parseHost(host: string | undefined): string {
  const h = host ?? '127.0.0.1:8000';
  const m = HOST_RE.exec(h);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw usage(`--host must be host:port without a scheme (got "${h}")`);
  return h;
}

const LEVEL_RE = /^([1-9][0-9]{0,8}|one|quorum|all|local_one|local_quorum|each_quorum)$/;

function checkLevel(name: string, v: string | undefined): void {
  if (v !== undefined && !LEVEL_RE.test(v)) throw usage(`--${name} must be a whole number ≥ 1 or one, quorum, all (got "${v}")`);
}

function timeoutMs(opts: CommonOptions): number {
  if (opts.timeout === undefined) return 10_000;
  if (!/^[1-9][0-9]{0,8}$/.test(opts.timeout)) throw usage(`--timeout must be a whole number of milliseconds (got "${opts.timeout}")`);
  return Number(opts.timeout);
}

interface Answer {
  status: number;
  headers: { get(name: string): string | null };
  body: Buffer;
}

/** One request over node:http (not fetch: fetch refuses "unsafe" ports such as 6000). */
export function call(host: string, method: string, path: string, opts: CommonOptions, init: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<Answer> {
  const { hostname, port } = splitHost(host);
  const limitMs = timeoutMs(opts) + 1000;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers['Content-Length'] = init.body.length;
    const req = http.request({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(failure(`cannot reach ${host}: ${e.message}`)));
      res.on('end', () => {
        const h = res.headers;
        resolve({
          status: res.statusCode ?? 0,
          headers: { get: (name) => { const v = h[name.toLowerCase()]; return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v; } },
          body: Buffer.concat(chunks),
        });
      });
    });
    req.setTimeout(limitMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => reject(failure(`cannot reach ${host}: ${e.code === 'ETIMEDOUT' ? `timed out after ${limitMs} ms` : (e.code ?? e.message)}`)));
    req.end(init.body);
  });
}

function splitHost(host: string): { hostname: string; port: number } {
  const m = HOST_RE.exec(host)!;
  const h = m[1]!;
  return { hostname: h.startsWith('[') ? h.slice(1, -1) : h, port: Number(m[2]) };
}

/** Turns an error answer into a CliError: 4xx is bad usage (2), the rest operational (1). */
export function answerError(a: Answer, what: string): CliError {
  let message = `${what}: HTTP ${a.status}`;
  try {
    const j = JSON.parse(a.body.toString('utf8')) as { error?: string; message?: string; required?: number; received?: number };
    if (j.error) {
      message = `${what}: ${j.error}: ${j.message ?? ''}`.trimEnd();
      if (j.required !== undefined) message += ` (required ${j.required}, received ${j.received ?? 0})`;
    }
  } catch { /* not JSON */ }
  const badUsage = a.status === 400 || a.status === 405 || a.status === 413 || a.status === 414;
  return new CliError(message, badUsage ? 2 : 1);
}

function kvPath(key: string, params: Record<string, string | undefined>): string {
  if (key.length === 0) throw usage('the key must not be empty');
  if (Buffer.byteLength(key) > 1024) throw usage('the key is over 1024 bytes');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const qs = q.toString();
  return `/kv/${encodeURIComponent(key)}${qs ? `?${qs}` : ''}`;
}

export interface GetOptions extends CommonOptions {
  r?: string;
  quorum?: string;
  json?: boolean;
}

interface SiblingJson { value: string | null; contentType: string; lastModified: string }

export async function cmdGet(key: string, opts: GetOptions, io: Io): Promise<void> {
  checkLevel('r', opts.r);
  const host = parseHost(opts.host);
  const a = await call(host, 'GET', kvPath(key, { r: opts.r, quorum: opts.quorum, timeout: opts.timeout }), opts);
  const context = a.headers.get('x-gossamer-context') ?? '';
  if (a.status === 200) {
    if (opts.json) {
      io.out(JSON.stringify({ key, value: a.body.toString('base64'), contentType: a.headers.get('content-type'), context }) + '\n');
      return;
    }
    io.out(a.body);
    if (io.stdoutIsTty && a.body.length > 0 && a.body[a.body.length - 1] !== 0x0a) io.out('\n');
    if (opts.verbose) io.err(`content-type: ${a.headers.get('content-type') ?? ''}\ncontext: ${context}\n`);
    return;
  }
  if (a.status === 300) {
    const doc = JSON.parse(a.body.toString('utf8')) as { context: string; siblings: SiblingJson[] };
    if (opts.json) {
      io.out(JSON.stringify({ key, ...doc }) + '\n');
      return;
    }
    io.out(`${doc.siblings.length} siblings for "${key}" (concurrent writes; write back with --context to resolve):\n`);
    doc.siblings.forEach((s, i) => {
      const shown = s.value === null ? '(deleted)' : showValue(Buffer.from(s.value, 'base64'), s.contentType);
      io.out(`  [${i + 1}] ${s.lastModified}  ${s.contentType || '-'}  ${shown}\n`);
    });
    io.out(`context: ${doc.context}\n`);
    return;
  }
  if (a.status === 404 && a.body.length === 0) {
    if (opts.verbose && context) io.err(`context: ${context}\n`);
    throw failure(`not found: ${key}`);
  }
  throw answerError(a, `get ${key}`);
}

/** Text values are shown as text (quoted), anything else as a size and base64. */
function showValue(v: Buffer, contentType: string): string {
  const text = v.toString('utf8');
  const printable = /^[\P{Cc}\t]*$/u.test(text) && !text.includes('\uFFFD');
  if (printable && (contentType.startsWith('text/') || contentType.includes('json') || v.length <= 200)) {
    return JSON.stringify(text.length > 200 ? text.slice(0, 200) + '…' : text);
  }
  return `<${v.length} bytes> base64:${v.toString('base64').slice(0, 80)}${v.length > 60 ? '…' : ''}`;
}

export interface PutOptions extends CommonOptions {
  w?: string;
  quorum?: string;
  context?: string;
  /** Write without reading the key's context first (a put becomes a sibling; a delete a concurrent tombstone). */
  blind?: boolean;
  file?: string;
  contentType?: string;
}

/** The token of an empty history: a write with it supersedes nothing (what `--blind` sends). */
const EMPTY_CONTEXT_TOKEN = 'AQAA';

/**
 * The context a put or del sends: `--context` as given; with `--blind` none (an explicitly empty
 * one for a delete, which would otherwise supersede what the node reads); else the key's current
 * context, read first at the default R, so the write supersedes what is stored now.
 */
async function writeContext(host: string, key: string, opts: PutOptions): Promise<string | undefined> {
  if (opts.context !== undefined && opts.blind) throw usage('give either --context or --blind, not both');
  if (opts.context !== undefined) return opts.context;
  if (opts.blind) return EMPTY_CONTEXT_TOKEN;
  const a = await call(host, 'GET', kvPath(key, { quorum: opts.quorum, timeout: opts.timeout }), opts);
  if (a.status !== 200 && a.status !== 300 && a.status !== 404) throw answerError(a, `read ${key} before writing`);
  return a.headers.get('x-gossamer-context') ?? undefined;
}

export async function cmdPut(key: string, value: string | undefined, opts: PutOptions, io: Io): Promise<void> {
  checkLevel('w', opts.w);
  const host = parseHost(opts.host);
  if (value !== undefined && opts.file !== undefined) throw usage('give the value either as an argument or with --file, not both');
  let body: Buffer;
  if (value !== undefined) body = Buffer.from(value, 'utf8');
  else if (opts.file !== undefined) {
    try {
      body = opts.file === '-' ? await io.stdin() : readFileSync(opts.file);
    } catch (e) {
      throw failure(`cannot read ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else body = await io.stdin();
  const headers: Record<string, string> = { 'Content-Type': opts.contentType ?? (value !== undefined ? 'text/plain; charset=utf-8' : 'application/octet-stream') };
  const context = await writeContext(host, key, opts);
  if (context) headers['X-Gossamer-Context'] = context;
  const a = await call(host, 'PUT', kvPath(key, { w: opts.w, quorum: opts.quorum, timeout: opts.timeout }), opts, { body, headers });
  if (a.status !== 204) throw answerError(a, `put ${key}`);
  if (opts.verbose) io.err(`context: ${a.headers.get('x-gossamer-context') ?? ''}\n`);
}

export async function cmdDel(key: string, opts: PutOptions, io: Io): Promise<void> {
  checkLevel('w', opts.w);
  const host = parseHost(opts.host);
  const headers: Record<string, string> = {};
  const context = await writeContext(host, key, opts);
  if (context) headers['X-Gossamer-Context'] = context;
  const a = await call(host, 'DELETE', kvPath(key, { w: opts.w, quorum: opts.quorum, timeout: opts.timeout }), opts, { headers });
  if (a.status !== 204) throw answerError(a, `del ${key}`);
  if (opts.verbose) io.err(`context: ${a.headers.get('x-gossamer-context') ?? ''}\n`);
}

interface MemberJson {
  nodeId: string; address: string; http?: string; dc: string; rack: string; weight: number; state: string; heartbeat: number; ownership: number;
  nextOwnership?: number; joining?: boolean;
}

/** What `/cluster` says of the cluster document (absent on nodes before ring administration). */
interface ClusterDocJson {
  version?: number; staged?: { kind: string; nodeId: string }[];
  transition?: { members: string[]; movingPartitions: number; donePartitions: number } | null;
  loadBytes?: number | null;
}

/** Each member's stored bytes, asked of the member itself (`/cluster`'s `loadBytes`); null when it does not say. */
async function memberLoads(members: readonly MemberJson[], asked: string, own: number | null): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>([[asked, own]]);
  await Promise.all(members.filter((m) => m.nodeId !== asked && m.http !== undefined && m.state !== 'left').map(async (m) => {
    try {
      const a = await call(parseHost(m.http), 'GET', '/cluster', { timeout: '2000' });
      const load = a.status === 200 ? (JSON.parse(a.body.toString('utf8')) as ClusterDocJson).loadBytes : undefined;
      out.set(m.nodeId, typeof load === 'number' ? load : null);
    } catch { /* unreachable or not a node: load unknown */ }
  }));
  return out;
}

/** One line on the document: its version, what is staged, and the transition under way. */
function docLine(doc: ClusterDocJson): string {
  if (doc.version === undefined) return '';
  const staged = doc.staged && doc.staged.length > 0 ? `; staged: ${doc.staged.map((c) => `${c.kind} ${c.nodeId}`).join(', ')} (gossamer plan)` : '';
  const t = doc.transition;
  const moving = t ? `; transition: ${t.donePartitions} of ${t.movingPartitions} moving partitions done` : '';
  return `ring version ${doc.version}${staged}${moving}\n`;
}

/** What `/ui/data` says about the node asked (absent on nodes without the dashboard). */
interface SelfJson { nodeId: string; loadBytes: number | null }

async function selfInfo(host: string, opts: CommonOptions): Promise<SelfJson | undefined> {
  try {
    const a = await call(host, 'GET', '/ui/data?ring=0', opts);
    if (a.status !== 200) return undefined;
    return (JSON.parse(a.body.toString('utf8')) as { self?: SelfJson }).self;
  } catch {
    return undefined;
  }
}

interface DcJson { dc: string; replicas?: number | null }

/** The members by DC (name order), each DC's members by nodeId; replicas from `/cluster` when it says. */
function groupByDc(members: readonly MemberJson[], dcs: readonly DcJson[] | undefined): { dc: string; replicas: number | null | undefined; alive: number; members: MemberJson[] }[] {
  const groups = new Map<string, MemberJson[]>();
  for (const m of members) groups.set(m.dc, [...(groups.get(m.dc) ?? []), m]);
  return [...groups.keys()].sort().map((dc) => {
    const ms = groups.get(dc)!.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
    return { dc, replicas: dcs?.find((d) => d.dc === dc)?.replicas, alive: ms.filter((m) => m.state === 'alive').length, members: ms };
  });
}

/**
 * `gossamer status`: the members as the node `--host` names sees them, like `nodetool status`.
 * Exits 1 (after printing what it knows) when that node does not serve: a script that waits for
 * a node can loop on it.
 */
export async function cmdStatus(opts: CommonOptions & { json?: boolean }, io: Io): Promise<void> {
  const host = parseHost(opts.host);
  const [cluster, health, self] = await Promise.all([
    call(host, 'GET', '/cluster', opts),
    call(host, 'GET', '/health', opts),
    selfInfo(host, opts),
  ]);
  if (cluster.status !== 200) throw answerError(cluster, 'status');
  const doc = JSON.parse(cluster.body.toString('utf8')) as ClusterDocJson & { nodeId: string; members: MemberJson[]; datacenters?: DcJson[] };
  const serving = health.status === 200;
  const own = typeof doc.loadBytes === 'number' ? doc.loadBytes : self && self.nodeId === doc.nodeId ? self.loadBytes : null;
  const loads = await memberLoads(doc.members, doc.nodeId, own);
  const loadOf = (id: string): number | null => loads.get(id) ?? null;
  if (opts.json) {
    const members = doc.members.map((m) => ({ ...m, loadBytes: loadOf(m.nodeId) }));
    io.out(JSON.stringify({ ...doc, members, serving }) + '\n');
  } else {
    const style = createStyle(io.colour === true);
    const says = serving ? style.paint('green', 'serving') : style.paint('red', `not serving (HTTP ${health.status}: starting or shutting down)`);
    io.out(`node ${doc.nodeId} at ${host}: ${says}\n` + docLine(doc));
    if (doc.members.length === 0) io.out('no ring yet (waiting for the seeds)\n');
    else {
      // Grouped by data centre, as `nodetool status` does: a heading per DC, then its members.
      for (const g of groupByDc(doc.members, doc.datacenters)) {
        const reps = g.replicas === null || g.replicas === undefined ? '' : `, ${g.replicas} replicas per key`;
        io.out(style.paint('bold', `Datacenter: ${g.dc}`) + style.paint('dim', ` (${g.alive} of ${g.members.length} alive${reps})`) + '\n');
        const rows = [['NODE', 'ADDRESS', 'RACK', 'WEIGHT', 'STATE', 'LOAD', 'OWNERSHIP']];
        for (const m of g.members) {
          const load = loadOf(m.nodeId);
          const next = m.nextOwnership !== undefined && m.nextOwnership !== m.ownership ? ` → ${(m.nextOwnership * 100).toFixed(1)}%` : '';
          rows.push([m.nodeId + (m.nodeId === doc.nodeId ? '*' : ''), m.address, m.rack, String(m.weight), style.state(m.state) + (m.joining ? ' (joining)' : ''),
            load === null ? '-' : formatBytes(load), `${(m.ownership * 100).toFixed(1)}%${next}`]);
        }
        io.out(table(rows));
      }
      io.out(style.paint('dim', '* the node asked; LOAD: storage bytes each member reports (- when it cannot be asked)') + '\n');
    }
  }
  if (!serving) throw failure(`node ${doc.nodeId} at ${host} does not serve (HTTP ${health.status} on /health)`);
}

interface PartitionJson { id: number; owner: string | null; preferenceList: string[]; next?: { owner: string | null; preferenceList: string[] } }

interface RingJson extends ClusterDocJson { partitionCount: number; n: number; partitions: PartitionJson[] }

export async function cmdRing(opts: CommonOptions & { key?: string; all?: boolean; json?: boolean }, io: Io): Promise<void> {
  const host = parseHost(opts.host);
  if (opts.key !== undefined) {
    const a = await call(host, 'GET', `/ring?key=${encodeURIComponent(opts.key)}`, opts);
    if (a.status !== 200) throw answerError(a, 'ring');
    const doc = JSON.parse(a.body.toString('utf8')) as { key: string; partition: number; preferenceList: string[]; next?: { preferenceList: string[] } };
    if (opts.json) io.out(JSON.stringify(doc) + '\n');
    else {
      const next = doc.next ? `; after the transition: ${doc.next.preferenceList.join(', ')}` : '';
      io.out(`key "${doc.key}": partition ${doc.partition}, replicas ${doc.preferenceList.join(', ')}${next}\n`);
    }
    return;
  }
  const a = await call(host, 'GET', '/ring', opts);
  if (a.status !== 200) throw answerError(a, 'ring');
  const doc = JSON.parse(a.body.toString('utf8')) as RingJson;
  if (opts.json) {
    io.out(JSON.stringify(doc) + '\n');
    return;
  }
  io.out(ringSummary(doc) + docLine(doc));
  const transition = doc.partitions.some((p) => p.next !== undefined);
  const head = ['PARTITION', 'OWNER', 'PREFERENCE LIST', ...(transition ? ['AFTER THE TRANSITION'] : [])];
  const row = (id: string, p: PartitionJson): string[] => [id, p.owner ?? '-', p.preferenceList.join(', '), ...(transition ? [p.next ? p.next.preferenceList.join(', ') : '='] : [])];
  if (opts.all) {
    io.out('\n' + table([head, ...doc.partitions.map((p) => row(String(p.id), p))]));
    return;
  }
  head[0] = 'PARTITIONS';
  io.out('\n' + table([head, ...partitionRanges(doc.partitions).map((r) => row(r.first === r.last ? String(r.first) : `${r.first}-${r.last}`, r.p))]));
}

/** Runs of consecutive partitions with the same preference list (and the same next one). */
export function partitionRanges(partitions: readonly PartitionJson[]): { first: number; last: number; p: PartitionJson }[] {
  const key = (p: PartitionJson): string => `${p.preferenceList.join(',')}|${p.next?.preferenceList.join(',') ?? ''}`;
  const out: { first: number; last: number; p: PartitionJson }[] = [];
  for (const p of partitions) {
    const last = out.at(-1);
    if (last && last.last === p.id - 1 && key(last.p) === key(p)) last.last = p.id;
    else out.push({ first: p.id, last: p.id, p });
  }
  return out;
}

/** Partitions owned and replicated per node. */
export function ringSummary(doc: RingJson): string {
  const owned = new Map<string, number>();
  const replicas = new Map<string, number>();
  for (const p of doc.partitions) {
    if (p.owner !== null) owned.set(p.owner, (owned.get(p.owner) ?? 0) + 1);
    for (const id of p.preferenceList) replicas.set(id, (replicas.get(id) ?? 0) + 1);
  }
  const rows = [['NODE', 'OWNS', 'SHARE', 'REPLICA OF']];
  for (const id of [...new Set([...owned.keys(), ...replicas.keys()])].sort()) {
    const o = owned.get(id) ?? 0;
    rows.push([id, String(o), `${((o / doc.partitionCount) * 100).toFixed(1)}%`, `${replicas.get(id) ?? 0} partitions`]);
  }
  return `${doc.partitionCount} partitions, N=${doc.n}\n` + table(rows);
}
