/**
 * Rotating TLS certificates without a restart, on real `gossamer start` processes with mutual TLS
 * between nodes. Two nodes share one set of files holding certificate A (from CA A). A broken set
 * (a key of another certificate) and SIGHUP: A stays on every listener and the refusal is logged.
 * Then the files are replaced with certificate B from a second throw-away CA (the CA file too) and
 * SIGHUP: new TLS connections to the HTTP, RESP and inter-node listeners see B, a RESP connection
 * opened under A keeps working, the peers keep replicating over their open links, and a node
 * restarted with B (its links all new, verified against CA B in both directions) takes writes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { TestCluster, requireBuild, sleep } from '../cluster/helpers.js';
import { generateDevCertificates } from '../../src/api/auth/dev-certs.js';
import type { DevCertificates } from '../../src/api/auth/dev-certs.js';

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, logs: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(cond).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs().slice(-4000)}`);
    await sleep(50);
  }
}

/** The fingerprint of the certificate a new TLS connection to `port` is shown (trusting `certs`' CA). */
function servedFingerprint(port: number, certs: DevCertificates): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: certs.caCert, cert: certs.cert, key: certs.key }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.once('error', reject);
  });
}

function httpsRequest(port: number, method: string, p: string, ca: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: p, ca, agent: false, timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends one RESP command on `socket` and resolves with the next reply line. */
function respLine(socket: tls.TLSSocket, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString();
      const end = text.indexOf('\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve(text.slice(0, end));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

const fingerprint = (certs: DevCertificates): string => new X509Certificate(certs.cert).fingerprint256;

describe('TLS certificates reload on SIGHUP (multi-process, mutual TLS)', { timeout: 180_000 }, () => {
  let c: TestCluster;
  let dir: string;
  const a = generateDevCertificates();
  const b = generateDevCertificates();
  const files = (): { cert: string; key: string; ca: string } =>
    ({ cert: path.join(dir, 'node.pem'), key: path.join(dir, 'node-key.pem'), ca: path.join(dir, 'ca.pem') });
  const install = (certs: DevCertificates, key = certs.key): void => {
    writeFileSync(files().cert, certs.cert);
    writeFileSync(files().key, key, { mode: 0o600 });
    writeFileSync(files().ca, certs.caCert);
  };
  const hupAll = (): void => {
    for (const n of c.nodes) n.proc!.kill('SIGHUP');
  };
  const count = (i: number, re: RegExp): number => c.nodes[i]!.log.join('').match(new RegExp(re.source, 'g'))?.length ?? 0;

  before(async () => {
    requireBuild();
    dir = mkdtempSync(path.join(tmpdir(), 'gossamer-tls-reload-'));
    install(a);
    const config = path.join(dir, 'secure.json');
    writeFileSync(config, JSON.stringify({ tls: { ...files(), mutual: true } }));
    c = await TestCluster.create({ size: 2, extraArgs: ['--n', '2', '--partitions', '32', '--config', config] });
    c.startAll();
    await Promise.all(c.nodes.map((n) => waitFor(async () => (await httpsRequest(n.httpPort, 'GET', '/health', a.caCert)).status === 200, `${n.nodeId} healthy over https`, () => c.logs())));
  });
  after(async () => {
    await c?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a broken set keeps A; B is served to new connections, open ones and the peers keep working', async () => {
    const n0 = c.nodes[0]!;
    for (const port of [n0.httpPort, n0.respPort, n0.listenPort]) assert.equal(await servedFingerprint(port, a), fingerprint(a));
    const put = async (key: string, value: string, ca: string): Promise<number> => (await httpsRequest(n0.httpPort, 'PUT', `/kv/${key}?w=all`, ca, value)).status;
    assert.ok([200, 204].includes(await put('before', 'v0', a.caCert)), 'a write reaches both nodes under A');
    const held = tls.connect({ host: '127.0.0.1', port: n0.respPort, ca: a.caCert });
    await new Promise<void>((resolve, reject) => held.once('secureConnect', resolve).once('error', reject));
    assert.equal(await respLine(held, ['PING']), '+PONG');

    // A broken set: B's certificate with A's key (they do not match). Everything stays on A.
    install(b, a.key);
    hupAll();
    await waitFor(() => c.nodes.every((_, i) => count(i, /TLS certificates not reloaded, keeping the ones in force/) === 1), 'the refusal logged', () => c.logs());
    assert.match(n0.log.join(''), /key values mismatch/);
    for (const port of [n0.httpPort, n0.respPort, n0.listenPort]) assert.equal(await servedFingerprint(port, a), fingerprint(a), 'A stays after a broken set');
    await assert.rejects(httpsRequest(n0.httpPort, 'GET', '/health', b.caCert), 'nothing serves B yet');

    // The good set B: new connections see B on all three listeners.
    install(b);
    hupAll();
    await waitFor(() => c.nodes.every((_, i) => count(i, /TLS certificates reloaded/) === 1), 'the reload logged', () => c.logs());
    assert.match(n0.log.join(''), /"targets":"transport,http,resp"/);
    for (const port of [n0.httpPort, n0.respPort, n0.listenPort]) assert.equal(await servedFingerprint(port, b), fingerprint(b), 'new connections see B');
    await assert.rejects(httpsRequest(n0.httpPort, 'GET', '/health', a.caCert), 'a client trusting only CA A now refuses the node');
    const plain = await fetch(`http://127.0.0.1:${n0.httpPort}/health`).then((r) => r.status, () => 0);
    assert.notEqual(plain, 200, 'never clear text');

    assert.equal(await respLine(held, ['PING']), '+PONG', 'the connection opened under A keeps working');
    held.destroy();
    assert.ok([200, 204].includes(await put('after', 'v1', b.caCert)), 'the peers keep replicating over their open links');

    // Node 1 restarts on B: every link between the two is new, verified against CA B both ways.
    await c.kill(1, 'SIGTERM');
    c.start(1);
    await waitFor(async () => (await httpsRequest(c.nodes[1]!.httpPort, 'GET', '/health', b.caCert)).status === 200, 'n1 back on B', () => c.logs());
    await waitFor(async () => [200, 204].includes(await put('restarted', 'v2', b.caCert)), 'a w=all write over the new links', () => c.logs());
    const read = await httpsRequest(c.nodes[1]!.httpPort, 'GET', '/kv/restarted?r=1', b.caCert);
    assert.equal(read.text, 'v2');
  });
});
