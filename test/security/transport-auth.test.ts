import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createTcpTransport } from '../../src/adapters/tcp-transport.js';
import type { TcpTransport, TcpTransportOptions } from '../../src/adapters/tcp-transport.js';
import { ClusterAuth, parseClusterSecrets } from '../../src/adapters/transport-auth.js';
import { encodeFrame } from '../../src/codec/frame.js';
import { FRAME_PAYLOAD_BYTES_MAX, TRANSPORT_PROTOCOL_VERSION } from '../../src/adapters/transport-constants.js';
import type { Envelope, Logger } from '../../src/ports/index.js';
import { generateDevCertificates } from '../../src/api/auth/dev-certs.js';

type Msg = Record<string, unknown>;
const HOST = '127.0.0.1';
const SECRET_A = 'secret-of-cluster-one-0123456789';
const SECRET_B = 'secret-of-cluster-two-0123456789';

interface Captured { logger: Logger; lines: string[] }
function capture(): Captured {
  const lines: string[] = [];
  const line = (msg: string): void => { lines.push(msg); };
  return { lines, logger: { debug: () => {}, info: line, warn: line, error: line } };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function auth(...secrets: string[]): ClusterAuth {
  return new ClusterAuth(secrets.map((s) => Buffer.from(s)));
}

async function start(nodeId: string, extra: Partial<TcpTransportOptions> = {}): Promise<TcpTransport<Msg>> {
  return createTcpTransport<Msg>({
    self: { nodeId, dc: 'dc1', rack: 'r1', weight: 1 }, listenHost: HOST, listenPort: 0,
    timings: { reconnectDelayBaseMs: 20, reconnectDelayMaxMs: 200 }, ...extra,
  });
}

function collect(t: TcpTransport<Msg>): Envelope<Msg>[] {
  const got: Envelope<Msg>[] = [];
  t.onMessage((e) => { got.push(e); });
  return got;
}

describe('cluster secret in the transport hello', () => {
  it('links nodes that share the secret, and a rotation accepts either of two', async () => {
    // Mid-rotation: a still proves with the old secret, b already with the new one.
    const a = await start('a', { auth: auth(SECRET_A, SECRET_B) });
    const b = await start('b', { auth: auth(SECRET_B, SECRET_A), seeds: [a.self.address] });
    try {
      const atA = collect(a);
      const atB = collect(b);
      await waitFor(() => a.isConnected('b') && b.isConnected('a'), 'a link both ways');
      b.send({ from: 'b', to: 'a', msg: { hi: 1 } });
      a.send({ from: 'a', to: 'b', msg: { hi: 2 } });
      await waitFor(() => atA.length === 1 && atB.length === 1, 'both messages');
      assert.equal(a.stats().authFailures + b.stats().authFailures, 0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  for (const [name, otherAuth, reasonHere, reasonThere] of [
    ['another cluster\'s secret', auth(SECRET_B), 'wrong cluster secret', 'wrong cluster secret'],
    ['no secret', undefined, 'the peer has no cluster secret', 'the peer requires a cluster secret and this node has none'],
  ] as const) {
    it(`refuses a node with ${name}: a log line and a count on both sides, no frame delivered`, async () => {
      const logA = capture();
      const logM = capture();
      const a = await start('a', { auth: auth(SECRET_A), logger: logA.logger });
      const m = await start('mallory', { ...(otherAuth ? { auth: otherAuth } : {}), logger: logM.logger, seeds: [a.self.address] });
      try {
        const atA = collect(a);
        m.send({ from: 'mallory', to: 'a', msg: { put: 'evil' } });
        await waitFor(() => a.stats().authFailures >= 2 && m.stats().authFailures >= 1, 'refusals');
        assert.ok(logA.lines.some((l) => l.includes(reasonHere)), logA.lines.join('\n'));
        assert.ok(logM.lines.some((l) => l.includes(reasonThere)), logM.lines.join('\n'));
        assert.equal(atA.length, 0);
        assert.equal(a.isConnected('mallory'), false);
        assert.equal(m.isConnected('a'), false);
      } finally {
        await Promise.all([a.close(), m.close()]);
      }
    });
  }

  it('refuses a raw client that skips or forges the proof, and keeps serving its real peer', async () => {
    const a = await start('a', { auth: auth(SECRET_A) });
    const b = await start('b', { auth: auth(SECRET_A), seeds: [a.self.address] });
    try {
      const atA = collect(a);
      await waitFor(() => a.isConnected('b'), 'the real link');
      const peer = { nodeId: 'mallory', address: '127.0.0.1:1', dc: 'dc1', rack: 'r', weight: 1 };
      const hello = encodeFrame({ kind: 'hello', version: TRANSPORT_PROTOCOL_VERSION, peer, nonce: new Uint8Array(32).fill(7) }, FRAME_PAYLOAD_BYTES_MAX);
      const sessions = [
        [hello, encodeFrame({ kind: 'envelope', envelope: { from: 'mallory', to: 'a', msg: {} } }, FRAME_PAYLOAD_BYTES_MAX)],
        [hello, encodeFrame({ kind: 'auth', proof: new Uint8Array(32).fill(1) }, FRAME_PAYLOAD_BYTES_MAX)],
        [encodeFrame({ kind: 'hello', version: TRANSPORT_PROTOCOL_VERSION, peer }, FRAME_PAYLOAD_BYTES_MAX)],
      ];
      for (const chunks of sessions) {
        const socket = net.connect({ host: HOST, port: a.port });
        socket.on('error', () => {});
        socket.resume();
        const closed = new Promise((r) => socket.once('close', r));
        for (const c of chunks) socket.write(c);
        await closed;
      }
      assert.equal(a.stats().authFailures, 3);
      b.send({ from: 'b', to: 'a', msg: { still: true } });
      await waitFor(() => atA.length === 1, 'delivery from the real peer');
      assert.ok(atA.every((e) => e.from === 'b'));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('runs over mutual TLS; plain TCP gets no hello through', async () => {
    const certs = generateDevCertificates();
    const tlsOpts = { cert: certs.cert, key: certs.key, ca: certs.caCert, mutual: true };
    const a = await start('a', { auth: auth(SECRET_A), tls: tlsOpts });
    const b = await start('b', { auth: auth(SECRET_A), tls: tlsOpts, seeds: [a.self.address] });
    try {
      const atA = collect(a);
      await waitFor(() => a.isConnected('b') && b.isConnected('a'), 'a TLS link both ways');
      b.send({ from: 'b', to: 'a', msg: { over: 'tls' } });
      await waitFor(() => atA.length === 1, 'delivery over TLS');
      // Plain TCP gets no hello through: the TLS listener closes it.
      const peer = { nodeId: 'plain', address: '127.0.0.1:1', dc: 'dc1', rack: 'r', weight: 1 };
      const socket = net.connect({ host: HOST, port: a.port });
      socket.on('error', () => {});
      socket.resume();
      const closed = new Promise((r) => socket.once('close', r));
      socket.write(encodeFrame({ kind: 'hello', version: TRANSPORT_PROTOCOL_VERSION, peer }, FRAME_PAYLOAD_BYTES_MAX));
      await closed;
      assert.equal(a.isConnected('plain'), false);
      assert.equal(atA.length, 1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('parseClusterSecrets', () => {
  it('reads one secret per line, skips blanks and comments, refuses short or empty ones', () => {
    assert.deepEqual(parseClusterSecrets(`# current\n${SECRET_A}\n\n${SECRET_B}\n`).map((b) => Buffer.from(b).toString()), [SECRET_A, SECRET_B]);
    assert.throws(() => parseClusterSecrets('\n# nothing\n'), /empty/);
    assert.throws(() => parseClusterSecrets('short'), /at least 16 bytes/);
  });
});
