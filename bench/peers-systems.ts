/**
 * The systems of the peer benchmark, each started on spare loopback ports with its data in a
 * temp dir and stopped by the bench: Gossamer (1 node; 3 nodes through `gossamer dev`), a 3-node
 * etcd cluster, a bare node:http server, redis-server. Each HTTP system also knows how to preload
 * the YCSB records (user0 .. user<records-1>) with a small keep-alive Node client.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePortRange, sleep } from '../test/cluster/helpers.js';
import type { Dialect } from './peers-lua.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface HttpSystem {
  dialect: Dialect;
  /** host:port of each member the load is spread over. */
  endpoints: string[];
  readQuery?: string;
  writeQuery?: string;
  /** How the system was configured, for the report. */
  config: string;
  stop(): Promise<void>;
}

export function cliEntry(): string[] {
  if (existsSync(CLI)) return [CLI];
  console.error(`(note: ${CLI} missing; running the CLI through tsx — run \`npm run build\` for representative figures)`);
  return ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts')];
}

function stopAll(procs: ChildProcess[]): Promise<void> {
  return Promise.all(procs.map((p) => new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) { resolve(); return; }
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  }))).then(() => undefined);
}

function httpOk(port: number, method: string, urlPath: string, body?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end(body);
  });
}

async function waitFor(what: string, procs: ChildProcess[], check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not become ready`);
    if (procs.some((p) => p.exitCode !== null)) throw new Error(`${what} exited while starting`);
    await sleep(100);
  }
}

export async function startGossamerOne(dir: string): Promise<HttpSystem> {
  const base = await freePortRange(3);
  const proc = spawn(process.execPath, [...cliEntry(), 'start', '--node-id', 'n1', '--data', path.join(dir, 'g1'),
    '--listen', `127.0.0.1:${base}`, '--http', `127.0.0.1:${base + 1}`, '--resp', `127.0.0.1:${base + 2}`,
    '--n', '1', '--commitlog-sync', 'group', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor('gossamer (1 node)', [proc], () => httpOk(base + 1, 'GET', '/health'));
  return {
    dialect: 'gossamer', endpoints: [`127.0.0.1:${base + 1}`], writeQuery: 'supersede=local',
    config: '`gossamer start --n 1 --commitlog-sync group` (N=1, R=W=1; every put fsynced by group commit before its answer); writes are `PUT /kv/{key}?supersede=local` (overwrite, as SET), reads `GET /kv/{key}`',
    stop: () => stopAll([proc]),
  };
}

export async function startGossamerThree(dir: string): Promise<HttpSystem> {
  const base = await freePortRange(9);
  const proc = spawn(process.execPath, [...cliEntry(), 'dev', '--nodes', '3', '--data', path.join(dir, 'g3'), '--n', '3',
    '--listen-port', String(base), '--http-port', String(base + 3), '--resp-port', String(base + 6),
    '--commitlog-sync', 'group', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const ports = [base + 3, base + 4, base + 5];
  await waitFor('gossamer (3 nodes)', [proc], async () => (await Promise.all(ports.map((p) => httpOk(p, 'GET', '/health')))).every(Boolean));
  return {
    dialect: 'gossamer', endpoints: ports.map((p) => `127.0.0.1:${p}`), readQuery: 'r=2', writeQuery: 'w=2&supersede=local',
    config: '`gossamer dev --nodes 3 --n 3 --commitlog-sync group` (N=3, R=W=2, group commit: a put is answered once two replicas fsynced it); writes `PUT /kv/{key}?w=2&supersede=local`, reads `GET /kv/{key}?r=2`; load spread evenly over the three nodes',
    stop: () => stopAll([proc]),
  };
}

export async function startEtcdThree(dir: string): Promise<HttpSystem> {
  const base = await freePortRange(6);
  const peerUrl = (i: number): string => `http://127.0.0.1:${base + 3 + i}`;
  const cluster = [0, 1, 2].map((i) => `e${i}=${peerUrl(i)}`).join(',');
  const procs = [0, 1, 2].map((i) => spawn('etcd', ['--name', `e${i}`, '--data-dir', path.join(dir, `etcd${i}`),
    '--listen-client-urls', `http://127.0.0.1:${base + i}`, '--advertise-client-urls', `http://127.0.0.1:${base + i}`,
    '--listen-peer-urls', peerUrl(i), '--initial-advertise-peer-urls', peerUrl(i),
    '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', `peers-${base}`,
    '--logger', 'zap', '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'ignore'] }));
  const ports = [base, base + 1, base + 2];
  await waitFor('etcd (3 members)', procs, async () => (await Promise.all(ports.map((p) => httpOk(p, 'POST', '/v3/kv/range', '{"key":"AA=="}')))).every(Boolean));
  return {
    dialect: 'etcd', endpoints: ports.map((p) => `127.0.0.1:${p}`),
    config: 'etcd 3.4 (Debian), 3 members, defaults (every commit fsynced by the leader and a majority; linearizable reads); driven through its v3 JSON gateway: `POST /v3/kv/put` and `POST /v3/kv/range` with base64 keys and values; load spread evenly over the three members (followers forward to the leader)',
    stop: () => stopAll(procs),
  };
}

/** A bare node:http server answering the same requests from a Map: the ceiling of anything on node:http here. */
const BARE_SERVER = `
const http = require('node:http');
const m = new Map();
http.createServer((req, res) => {
  const k = req.url.split('?')[0];
  if (req.method === 'PUT') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => { m.set(k, Buffer.concat(chunks)); res.writeHead(204); res.end(); });
    return;
  }
  const v = m.get(k);
  if (v) { res.writeHead(200, { 'Content-Type': 'application/octet-stream' }); res.end(v); }
  else { res.writeHead(404); res.end(); }
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

export async function startBareHttp(): Promise<HttpSystem> {
  const port = await freePortRange(1);
  const proc = spawn(process.execPath, ['-e', BARE_SERVER, String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor('bare node:http', [proc], () => new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }));
  return {
    dialect: 'node-http', endpoints: [`127.0.0.1:${port}`], writeQuery: 'supersede=local',
    config: 'a bare `node:http` server (one process) that keeps values in a Map: PUT answers 204, GET 200 with the value; the same requests as Gossamer 1 node',
    stop: () => stopAll([proc]),
  };
}

/** Writes user0 .. user<records-1> through the system's own API, `concurrency` requests in flight. */
export async function preload(sys: HttpSystem, records: number, valueBytes: number, concurrency = 32): Promise<void> {
  const values = Array.from({ length: 64 }, () => randomBytes(valueBytes));
  const agents = sys.endpoints.map(() => new http.Agent({ keepAlive: true, maxSockets: concurrency }));
  let next = 0;
  let failures = 0;
  const one = (i: number): Promise<boolean> => {
    const e = i % sys.endpoints.length;
    const [host, port] = sys.endpoints[e]!.split(':') as [string, string];
    const key = `user${i}`;
    const value = values[i % values.length]!;
    const isEtcd = sys.dialect === 'etcd';
    const body = isEtcd ? JSON.stringify({ key: Buffer.from(key).toString('base64'), value: value.toString('base64') }) : value;
    const urlPath = isEtcd ? '/v3/kv/put' : `/kv/${key}${sys.writeQuery ? `?${sys.writeQuery}` : ''}`;
    return new Promise((resolve) => {
      const req = http.request({ host, port: Number(port), method: isEtcd ? 'POST' : 'PUT', path: urlPath, agent: agents[e] }, (res) => {
        res.resume();
        res.on('end', () => resolve((res.statusCode ?? 0) < 300));
      });
      req.on('error', () => resolve(false));
      req.end(body);
    });
  };
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < records) {
      const i = next++;
      if (!(await one(i)) && !(await one(i))) failures++;
    }
  }));
  for (const a of agents) a.destroy();
  if (failures > 0) throw new Error(`preload: ${failures} of ${records} records failed twice`);
}

export interface RedisServer { port: number; stop(): Promise<void> }

export async function startRedis(dir: string): Promise<RedisServer> {
  const port = await freePortRange(1);
  mkdirSync(path.join(dir, 'redis'), { recursive: true });
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--protected-mode', 'no', '--dir', path.join(dir, 'redis')], { stdio: 'ignore' });
  await waitFor('redis-server', [proc], () => new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }));
  return { port, stop: () => stopAll([proc]) };
}

/** redis-benchmark's key for `__rand_int__` = i: `key:` and 12 digits. */
export function redisKey(i: number): string {
  return `key:${String(i).padStart(12, '0')}`;
}

/** SETs key:000000000000 .. over one pipelined connection (the records redis-benchmark's -r reads). */
export async function preloadRedis(port: number, records: number, valueBytes: number): Promise<void> {
  const value = randomBytes(valueBytes);
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  let replies = 0;
  const done = new Promise<void>((resolve, reject) => {
    sock.on('data', (d: Buffer) => {
      for (const b of d) if (b === 0x0a) replies++;
      if (replies >= records) resolve();
    });
    sock.once('error', reject);
  });
  for (let i = 0; i < records; i++) {
    const key = redisKey(i);
    sock.write(Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${valueBytes}\r\n`), value, Buffer.from('\r\n')]));
  }
  await done;
  sock.destroy();
}
