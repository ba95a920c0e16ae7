/**
 * Multi-process: real `gossamer start` nodes with a cluster secret, API tokens and TLS. A node with
 * another secret never joins; clients without a token are refused (HTTP 401, RESP NOAUTH); a
 * read-only token cannot write; the three listeners serve over TLS (curl and redis-cli when
 * installed, skipped visibly otherwise). Runs the compiled CLI (`npm test` builds first).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, TestCluster, freePorts, requireBuild, sleep } from '../cluster/helpers.js';
import { request } from '../api/http-client.js';
import { generateDevCertificates } from '../../src/api/auth/dev-certs.js';

const ADMIN = 'admin-token-0123456789abcdef';
const READER = 'reader-token-0123456789abcdef';
const SECRET = 'the-real-cluster-secret-0123456789';
const OTHER_SECRET = 'another-cluster-secret-0123456789';

function writeTokens(dir: string): string {
  const file = path.join(dir, 'tokens.json');
  writeFileSync(file, JSON.stringify([
    { token: ADMIN, permissions: ['read', 'write', 'admin'] }, { token: READER, permissions: ['read'] },
  ]));
  return file;
}

/** Sends RESP commands on one connection and returns the raw replies once `expected` lines arrived. */
function resp(socket: net.Socket, commands: string[][], expected: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString();
      const lines = text.split('\r\n').filter((l) => l.length > 0 && !l.startsWith('$'));
      if (lines.length >= expected) {
        socket.off('data', onData);
        resolve(lines);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    for (const c of commands) socket.write(`*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('secure cluster (multi-process)', () => {
  let cluster: TestCluster;
  let dir: string;
  let mallory: ReturnType<typeof spawn> | undefined;
  const malloryLog: string[] = [];
  before(async () => {
    requireBuild();
    dir = mkdtempSync(path.join(tmpdir(), 'gossamer-security-'));
    const secretFile = path.join(dir, 'secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    cluster = await TestCluster.create({
      size: 2, extraArgs: ['--n', '2', '--partitions', '64', '--cluster-secret-file', secretFile, '--tokens-file', writeTokens(dir)],
    });
    cluster.startAll();
    await cluster.waitAllHealthy();
  });
  after(async () => {
    mallory?.kill('SIGKILL');
    await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
  const port = (i: number): number => cluster.nodes[i]!.httpPort;

  it('answers 401 without a token, 403 to a read-only writer, and serves the admin token', async () => {
    const none = await request(port(0), 'PUT', '/kv/k1', { body: 'x' });
    assert.equal(none.status, 401);
    assert.equal((none.json() as { error: string }).error, 'unauthorized');
    const bad = await request(port(0), 'GET', '/kv/k1', { headers: auth('not-a-token-0123456789') });
    assert.equal(bad.status, 401);
    const ro = await request(port(0), 'PUT', '/kv/k1', { body: 'x', headers: { ...auth(READER), 'X-Gossamer-Blind': '1' } });
    assert.equal(ro.status, 403);
    assert.equal((ro.json() as { error: string }).error, 'forbidden');
    const roAdmin = await request(port(0), 'GET', '/admin/local/stats', { headers: auth(READER) });
    assert.equal(roAdmin.status, 403);
    assert.equal((await request(port(0), 'GET', '/health')).status, 200);
    const put = await request(port(0), 'PUT', '/kv/k1?w=all', { body: 'v1', headers: auth(ADMIN) });
    assert.ok(put.status === 200 || put.status === 204, `${put.status} ${put.text}`);
    const read = await request(port(1), 'GET', '/kv/k1', { headers: auth(READER) });
    assert.equal(read.status, 200);
    assert.equal(read.text, 'v1');
  });

  it('RESP: NOAUTH before AUTH, NOPERM for a read-only token, OK for the admin', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: cluster.nodes[0]!.respPort });
    try {
      const r1 = await resp(socket, [['GET', 'k1']], 1);
      assert.equal(r1[0], '-NOAUTH Authentication required.');
      const r2 = await resp(socket, [['AUTH', 'wrong-token-0123456789']], 1);
      assert.match(r2[0]!, /^-WRONGPASS/);
      const r3 = await resp(socket, [['AUTH', READER], ['GET', 'k1'], ['SET', 'k1', 'evil']], 3);
      assert.deepEqual(r3.slice(0, 2), ['+OK', 'v1']);
      assert.match(r3[2]!, /^-NOPERM/);
      const r4 = await resp(socket, [['AUTH', 'default', ADMIN], ['SET', 'k2', 'v2']], 2);
      assert.deepEqual(r4, ['+OK', '+OK']);
    } finally {
      socket.destroy();
    }
    const read = await request(port(1), 'GET', '/kv/k1', { headers: auth(ADMIN) });
    assert.equal(read.text, 'v1', 'the refused SET changed nothing');
  });

  it('a node with another cluster\'s secret cannot join: refused on both sides, counted, data unchanged', async () => {
    const [listen, http, respPort] = await freePorts(3);
    const seeds = cluster.nodes.map((n) => `127.0.0.1:${n.listenPort}`).join(',');
    mallory = spawn(process.execPath, [CLI, 'start', '--node-id', 'mallory', '--listen', `127.0.0.1:${listen}`, '--http', `127.0.0.1:${http}`,
      '--resp', `127.0.0.1:${respPort}`, '--seeds', seeds, '--memory', '--parent-pid', String(process.pid)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GOSSAMER_CLUSTER_SECRET: OTHER_SECRET } });
    mallory.stdout!.on('data', (d: Buffer) => malloryLog.push(d.toString()));
    mallory.stderr!.on('data', (d: Buffer) => malloryLog.push(d.toString()));
    await waitFor(() => malloryLog.join('').includes('wrong cluster secret'), 'mallory\'s refusal line');
    await waitFor(() => cluster.nodes[0]!.log.join('').includes('wrong cluster secret'), 'node 0\'s refusal line');
    const metrics = await request(port(0), 'GET', '/metrics', { headers: auth(ADMIN) });
    const failures = Number(/^gossamer_transport_auth_failures_total (\d+)/m.exec(metrics.text)?.[1] ?? 0);
    assert.ok(failures >= 1, metrics.text.slice(0, 200));
    const members = (await request(port(0), 'GET', '/cluster', { headers: auth(ADMIN) })).json() as { members: { nodeId: string }[] };
    assert.deepEqual(members.members.map((m) => m.nodeId).sort(), ['n0', 'n1']);
    for (const i of [0, 1]) {
      assert.equal((await request(port(i), 'GET', '/kv/k1', { headers: auth(ADMIN) })).text, 'v1');
    }
  });
});

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function has(cmd: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${cmd}`])).code === 0;
}

describe('TLS on all three listeners (multi-process)', () => {
  let cluster: TestCluster;
  let dir: string;
  let caFile: string;
  let ca: string;
  before(async () => {
    requireBuild();
    dir = mkdtempSync(path.join(tmpdir(), 'gossamer-tls-'));
    const certs = generateDevCertificates();
    ca = certs.caCert;
    caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, certs.caCert);
    writeFileSync(path.join(dir, 'node.pem'), certs.cert);
    writeFileSync(path.join(dir, 'node-key.pem'), certs.key, { mode: 0o600 });
    const config = path.join(dir, 'secure.json');
    writeFileSync(config, JSON.stringify({ tls: { cert: path.join(dir, 'node.pem'), key: path.join(dir, 'node-key.pem'), ca: caFile, mutual: true } }));
    cluster = await TestCluster.create({ size: 2, extraArgs: ['--n', '2', '--partitions', '64', '--config', config, '--tokens-file', writeTokens(dir)] });
    cluster.startAll();
    await Promise.all(cluster.nodes.map((n) => waitFor(() => httpsStatus(n.httpPort, '/health', ca).then((s) => s === 200, () => false), `${n.nodeId} over https`)));
  });
  after(async () => {
    await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('HTTPS with curl --cacert, and a write replicated over the mutual-TLS transport', async (t) => {
    if (!(await has('curl'))) return t.skip('curl is not installed');
    const base = `https://127.0.0.1:${cluster.nodes[0]!.httpPort}`;
    const put = await run('curl', ['-sS', '--cacert', caFile, '-H', `Authorization: Bearer ${ADMIN}`, '-X', 'PUT', '--data-binary', 'tls-value',
      '-o', '/dev/null', '-w', '%{http_code}', `${base}/kv/tk?w=all`]);
    assert.match(put.stdout, /^20[04]$/, put.stderr);
    const get = await run('curl', ['-sS', '--cacert', caFile, '-H', `Authorization: Bearer ${READER}`, `https://127.0.0.1:${cluster.nodes[1]!.httpPort}/kv/tk`]);
    assert.equal(get.stdout, 'tls-value');
    const plain = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${cluster.nodes[0]!.httpPort}/health`]);
    assert.notEqual(plain.stdout, '200', 'plain HTTP is not served');
  });

  it('RESP over TLS with redis-cli --tls --cacert', async (t) => {
    if (!(await has('redis-cli'))) return t.skip('redis-cli is not installed');
    const help = await run('redis-cli', ['--help']);
    if (!help.stdout.includes('--tls') && !help.stderr.includes('--tls')) return t.skip('this redis-cli has no TLS support');
    const base = ['--tls', '--cacert', caFile, '-h', '127.0.0.1', '-p', String(cluster.nodes[0]!.respPort), '--no-auth-warning'];
    const noAuth = await run('redis-cli', [...base, 'GET', 'tk']);
    assert.match(noAuth.stdout + noAuth.stderr, /NOAUTH/);
    const set = await run('redis-cli', [...base, '--pass', ADMIN, 'SET', 'rk', 'rv']);
    assert.equal(set.stdout.trim(), 'OK', set.stderr);
    const get = await run('redis-cli', [...base, '--pass', READER, 'GET', 'rk']);
    assert.equal(get.stdout.trim(), 'rv');
  });

  it('a TLS client that does not trust the CA is refused', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: cluster.nodes[0]!.respPort });
    const err = await new Promise<Error>((resolve) => socket.once('error', resolve));
    assert.match(err.message, /self[- ]signed|unable to verify|certificate/i);
    socket.destroy();
  });
});

function httpsStatus(port: number, p: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: p, ca, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
