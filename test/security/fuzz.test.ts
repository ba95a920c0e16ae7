/**
 * Fuzz of each listener of a secured node (cluster secret + tokens, N=1): seeded hostile input
 * on HTTP, RESP and the inter-node port, bounded in time (FUZZ_MS per listener, default 2 s; set
 * FUZZ_SEED to replay). Afterwards the node must still serve: no HTTP 5xx seen, no RESP internal
 * error, a real peer with the secret still links, and an authenticated write and read still work.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startNode } from '../../src/cli/node-main.js';
import type { RunningNode } from '../../src/cli/node-main.js';
import { loadConfig } from '../../src/cli/config.js';
import { createTcpTransport } from '../../src/adapters/tcp-transport.js';
import { ClusterAuth } from '../../src/adapters/transport-auth.js';
import { encodeFrame, encodePayload } from '../../src/codec/frame.js';
import { TRANSPORT_PROTOCOL_VERSION } from '../../src/adapters/transport-constants.js';
import { Prng } from '../../src/sim/prng.js';
import type { Logger } from '../../src/ports/index.js';
import { freePorts } from '../cluster/helpers.js';
import { request } from '../api/http-client.js';

const FUZZ_MS = Number(process.env['FUZZ_MS'] ?? 2000);
const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 1_000_000);
const ADMIN = 'fuzz-admin-token-0123456789';
const SECRET = 'fuzz-cluster-secret-0123456789';
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function bytes(rng: Prng, max: number): Buffer {
  const n = rng.int(max + 1);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

function pick<T>(rng: Prng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

/** Writes `chunks` on a fresh connection; resolves with what came back when the peer closed or after `waitMs`. */
function session(port: number, chunks: Buffer[], waitMs = 150): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (): void => { clearTimeout(timer); socket.destroy(); resolve(got); };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (d: Buffer) => { got += d.toString('latin1'); });
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => { for (const c of chunks) socket.write(c); });
  });
}

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'G\x00T', ''];
const PATHS = ['/kv/a', '/kv/', '/kv/%ff%fe', '/kv/a?w=99&r=-1', '/admin/local/stats', '/cluster', '/ring', '/metrics',
  '/health', '/ui', '/../../etc/passwd', '/kv/' + 'x'.repeat(5000), '*', '/kv/a?timeoutMs=1e309'];
const AUTHS = ['', `Bearer ${ADMIN}`, 'Bearer ', 'Bearer \u00ff\u00fe', 'Basic YWRtaW46YWRtaW4=', `Bearer ${ADMIN}x`, 'x'.repeat(40_000)];

describe('fuzz of every listener (secured node)', { timeout: 120_000 }, () => {
  let node: RunningNode;
  let dir: string;
  const statuses = new Map<number, number>();
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gossamer-fuzz-'));
    writeFileSync(path.join(dir, 'secret'), SECRET);
    writeFileSync(path.join(dir, 'tokens.json'), JSON.stringify([{ token: ADMIN, permissions: ['read', 'write', 'admin'] }]));
    const [listen, http, resp] = await freePorts(3);
    const { config } = loadConfig({
      flags: { listen: `127.0.0.1:${listen}`, http: `127.0.0.1:${http}`, resp: `127.0.0.1:${resp}`, nodeId: 'f0', n: '1', partitions: '16',
        clusterSecretFile: path.join(dir, 'secret'), tokensFile: path.join(dir, 'tokens.json') },
      env: {},
    });
    node = await startNode(config, { memory: true, logger: silent, sighup: false });
    console.log(`# fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it), ${FUZZ_MS} ms per listener`);
  });
  after(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('HTTP: malformed requests, hostile headers and bodies never get a 5xx', async () => {
    const rng = new Prng(SEED);
    const deadline = Date.now() + FUZZ_MS;
    while (Date.now() < deadline) {
      if (rng.int(4) === 0) {
        // Raw bytes: a broken request line, a lying Content-Length, half a request.
        const raw = pick(rng, [
          bytes(rng, 512),
          Buffer.from(`PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\nAuthorization: Bearer ${ADMIN}\r\n\r\nshort`),
          Buffer.from(`GET /kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`),
          Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\n'),
        ]);
        const got = await session(node.httpPort, [raw]);
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? 0);
        if (status > 0) statuses.set(status, (statuses.get(status) ?? 0) + 1);
        assert.ok(status < 500, `raw request answered ${status}`);
        continue;
      }
      const method = pick(rng, METHODS.slice(0, 7));
      const headers: Record<string, string> = {};
      const a = pick(rng, AUTHS);
      if (a !== '') headers['Authorization'] = a;
      if (rng.int(3) === 0) headers['X-Gossamer-Context'] = bytes(rng, 64).toString('base64');
      const hasBody = method === 'PUT' || method === 'POST';
      try {
        const r = await request(node.httpPort, method, pick(rng, PATHS), { headers, ...(hasBody ? { body: bytes(rng, 2048) } : {}), timeoutMs: 5000 });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        assert.ok(r.status < 500, `${method} answered ${r.status}: ${r.text.slice(0, 200)}`);
      } catch (e) {
        // Node's client refuses some header values itself, or the server closed a bad request.
        assert.match(String(e), /Invalid|ECONNRESET|socket hang up|Parse Error|HPE_|ERR_/);
      }
    }
    assert.ok((statuses.get(401) ?? 0) > 0, `statuses seen: ${JSON.stringify([...statuses])}`);
  });

  it('RESP: malformed frames and unauthenticated commands never crash or reach the store', async () => {
    const rng = new Prng(SEED + 1);
    const deadline = Date.now() + FUZZ_MS;
    const frames = (): Buffer => pick(rng, [
      bytes(rng, 256),
      Buffer.from('*3\r\n$3\r\nSET\r\n$4\r\nfkey\r\n$4\r\nevil\r\n'),
      Buffer.from(`*-5\r\n`), Buffer.from('*1\r\n$999999999999\r\n'), Buffer.from('*2\r\n$4\r\nAUTH\r\n$1\r\nx\r\n'),
      Buffer.from(`*1\r\n$${rng.int(100)}\r\n`), Buffer.from('PING\r\n'), Buffer.from(`AUTH ${ADMIN}\r\nPING\r\n`),
    ]);
    while (Date.now() < deadline) {
      let chunks = Array.from({ length: 1 + rng.int(4) }, frames);
      // A session that authenticates may write: it must not touch the key the others try.
      if (chunks.some((c) => c.includes(ADMIN))) chunks = chunks.filter((c) => !c.includes('fkey'));
      const got = await session(node.respPort, chunks, 80);
      assert.ok(!got.includes('internal error'), got.slice(0, 200));
    }
    const r = await request(node.httpPort, 'GET', '/kv/fkey', { headers: { Authorization: `Bearer ${ADMIN}` } });
    assert.equal(r.status, 404, 'no unauthenticated SET reached the store');
  });

  it('inter-node: garbage, forged hellos and proofs are refused; a real peer still links', async () => {
    const rng = new Prng(SEED + 2);
    const port = Number(node.config.listen.split(':')[1]);
    const deadline = Date.now() + FUZZ_MS;
    const peer = { nodeId: 'mallory', address: '127.0.0.1:1', dc: 'dc1', rack: 'r', weight: 1 };
    const max = 1 << 20;
    while (Date.now() < deadline) {
      const nonce = bytes(rng, 80);
      const chunk = pick(rng, [
        bytes(rng, 300),
        Buffer.from(encodeFrame({ kind: 'hello', version: TRANSPORT_PROTOCOL_VERSION, peer }, max)),
        Buffer.concat([Buffer.from(encodeFrame({ kind: 'hello', version: TRANSPORT_PROTOCOL_VERSION, peer, nonce: Buffer.alloc(32, 1) }, max)),
          Buffer.from(encodeFrame({ kind: 'auth', proof: Buffer.alloc(32, rng.int(256)) }, max))]),
        (() => { const p = Buffer.from(encodePayload([0, TRANSPORT_PROTOCOL_VERSION, peer, nonce])); const h = Buffer.alloc(4); h.writeUInt32BE(p.length); return Buffer.concat([h, p]); })(),
        Buffer.from([0xff, 0xff, 0xff, 0xff]),
      ]);
      await session(port, [chunk], 60);
    }
    const stats = node.transport.stats();
    assert.equal(stats.connectionsOpened, 0, 'no fuzzing connection got past the handshake');
    assert.ok(stats.authFailures + stats.malformedFrames > 0);
    const friend = await createTcpTransport({
      self: { nodeId: 'friend', dc: 'dc1', rack: 'r', weight: 1 }, listenHost: '127.0.0.1', listenPort: 0,
      seeds: [node.config.listen], auth: new ClusterAuth([Buffer.from(SECRET)]), logger: silent,
    });
    try {
      const until = Date.now() + 10_000;
      while (!(friend.isConnected('f0') && node.transport.isConnected('friend'))) {
        assert.ok(Date.now() < until, 'the real peer never linked');
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await friend.close();
    }
  });

  it('after the fuzz the node still serves an authenticated write and read', async () => {
    const auth = { Authorization: `Bearer ${ADMIN}` };
    const put = await request(node.httpPort, 'PUT', '/kv/after', { body: 'ok', headers: auth });
    assert.ok(put.status < 300, `${put.status} ${put.text}`);
    assert.equal((await request(node.httpPort, 'GET', '/kv/after', { headers: auth })).text, 'ok');
    assert.equal((await request(node.httpPort, 'GET', '/health')).status, 200);
  });
});
