/**
 * What the secure settings cost: HTTP puts and gets against one in-process node (N=1, memory
 * engine) in plain HTTP, then with HTTPS + a bearer token + a cluster secret. Keep-alive
 * connections (the TLS handshake is paid once per connection, as real clients do), CONCURRENCY
 * requests in flight, SECONDS per phase.
 *
 *   npm run bench -- security      (BENCH_SEC_SECONDS=5 BENCH_SEC_CONCURRENCY=32)
 *
 * Prints a table and writes bench/results/security.json.
 */
import http from 'node:http';
import https from 'node:https';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNode } from '../src/cli/node-main.js';
import { loadConfig } from '../src/cli/config.js';
import { generateDevCertificates } from '../src/api/auth/dev-certs.js';

const SECONDS = Number(process.env['BENCH_SEC_SECONDS'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_SEC_CONCURRENCY'] ?? 32);
const TOKEN = 'bench-admin-token-0123456789';
const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Phase { mode: string; op: string; requests: number; perSecond: number }

async function drive(port: number, secure: { ca: string } | undefined, op: 'put' | 'get'): Promise<Phase> {
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: secure.ca }) : new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const lib = secure ? https : http;
  const headers: Record<string, string> = secure ? { Authorization: `Bearer ${TOKEN}` } : {};
  const body = Buffer.alloc(100, 7);
  let done = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const one = (i: number): Promise<void> => new Promise((resolve, reject) => {
    const req = lib.request({ host: '127.0.0.1', port, method: op === 'put' ? 'PUT' : 'GET', path: `/kv/k${i % 1000}?w=1&r=1`, agent,
      headers: op === 'put' ? { ...headers, 'Content-Length': body.length, 'X-Gossamer-Blind': 'true' } : headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode !== undefined && res.statusCode < 500 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(op === 'put' ? body : undefined);
  });
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
    for (let i = w; Date.now() < deadline; i += CONCURRENCY) {
      await one(i);
      done++;
    }
  }));
  agent.destroy();
  return { mode: secure ? 'https+token+secret' : 'plain', op, requests: done, perSecond: Math.round(done / SECONDS) };
}

async function phase(secure: boolean, dir: string): Promise<Phase[]> {
  const [listen, httpPort, resp] = [await freePort(), await freePort(), await freePort()];
  const flags: Record<string, string> = { listen: `127.0.0.1:${listen}`, http: `127.0.0.1:${httpPort}`, resp: `127.0.0.1:${resp}`, nodeId: 'b0', n: '1', partitions: '16' };
  let ca: string | undefined;
  if (secure) {
    const certs = generateDevCertificates();
    ca = certs.caCert;
    writeFileSync(join(dir, 'cert.pem'), certs.cert);
    writeFileSync(join(dir, 'key.pem'), certs.key);
    writeFileSync(join(dir, 'ca.pem'), certs.caCert);
    writeFileSync(join(dir, 'secret'), 'bench-cluster-secret-0123456789');
    writeFileSync(join(dir, 'tokens.json'), JSON.stringify([{ token: TOKEN, permissions: ['read', 'write', 'admin'] }]));
    Object.assign(flags, { tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem'), tlsCa: join(dir, 'ca.pem'),
      clusterSecretFile: join(dir, 'secret'), tokensFile: join(dir, 'tokens.json') });
  }
  const { config } = loadConfig({ flags, env: {} });
  config.dataDir = join(dir, secure ? 'secure' : 'plain');
  const node = await startNode(config, { memory: true, logger: silent, sighup: false });
  try {
    const tlsOpt = ca !== undefined ? { ca } : undefined;
    return [await drive(node.httpPort, tlsOpt, 'put'), await drive(node.httpPort, tlsOpt, 'get')];
  } finally {
    await node.stop();
  }
}

export async function runSecurityBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gossamer-bench-sec-'));
  try {
    const rows = [...(await phase(false, dir)), ...(await phase(true, dir))];
    console.log(`security: HTTP, 1 node (N=1, memory), ${CONCURRENCY} in flight, ${SECONDS} s per phase`);
    for (const r of rows) console.log(`  ${r.mode.padEnd(20)} ${r.op}  ${String(r.perSecond).padStart(8)} req/s`);
    for (const op of ['put', 'get']) {
      const plain = rows.find((r) => r.mode === 'plain' && r.op === op)!.perSecond;
      const sec = rows.find((r) => r.mode !== 'plain' && r.op === op)!.perSecond;
      console.log(`  ${op}: secure costs ${(100 * (1 - sec / plain)).toFixed(1)}% of plain throughput`);
    }
    const out = join(dirname(fileURLToPath(import.meta.url)), 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'security.json'), JSON.stringify({ seconds: SECONDS, concurrency: CONCURRENCY, node: process.version, rows }, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
