/**
 * The transport compliance suite: the TCP transport and its in-memory twin both run it, so tests
 * of the runtime on the twin say something about the real thing.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope, PeerInfo } from '../../src/ports/index.js';
import type { ClusterTransport, TransportFaults, TransportLimits } from '../../src/adapters/transport-common.js';
import { TransportError } from '../../src/adapters/transport-common.js';
import { SEND_QUEUE_FRAMES_MAX } from '../../src/adapters/transport-constants.js';

export type Msg = Record<string, unknown>;

export interface StartOptions {
  seeds?: string[];
  dc?: string;
  rack?: string;
  weight?: number;
  limits?: Partial<TransportLimits>;
  faults?: TransportFaults;
}

export interface TransportHarness {
  start(nodeId: string, opts?: StartOptions): Promise<ClusterTransport<Msg>>;
  /** Closes `node`, then starts a transport with the same id and address (no seeds). */
  restart(node: ClusterTransport<Msg>): Promise<ClusterTransport<Msg>>;
  /** An address where nothing answers. */
  deadAddress(): Promise<string>;
  /** Closes everything the harness started. */
  cleanup(): Promise<void>;
}

/** Polls `cond` until it holds; fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 4_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Records what a transport receives. */
export function collect(t: ClusterTransport<Msg>): Envelope<Msg>[] {
  const got: Envelope<Msg>[] = [];
  t.onMessage((env) => got.push(env));
  return got;
}

export function peerSeen(t: ClusterTransport<Msg>, nodeId: string): Promise<PeerInfo> {
  const already = t.peers().find((p) => p.nodeId === nodeId);
  if (already && t.isConnected(nodeId)) return Promise.resolve(already);
  return new Promise((resolve) => t.onPeer((p) => { if (p.nodeId === nodeId) resolve(p); }));
}

/** Two nodes that know each other, with links up both ways. */
export async function pair(h: TransportHarness, a = 'a', b = 'b'): Promise<[ClusterTransport<Msg>, ClusterTransport<Msg>]> {
  const ta = await h.start(a);
  const tb = await h.start(b, { seeds: [ta.self.address] });
  await waitFor(() => ta.isConnected(b) && tb.isConnected(a), 'links both ways');
  return [ta, tb];
}

const bytesOf = (v: unknown): number[] => {
  assert.ok(v instanceof Uint8Array, `expected a Uint8Array, got ${typeof v}`);
  return Array.from(v);
};

export function runTransportCompliance(name: string, makeHarness: () => TransportHarness): void {
  describe(`transport compliance: ${name}`, () => {
    let h: TransportHarness;
    beforeEach(() => { h = makeHarness(); });
    afterEach(async () => { await h.cleanup(); });

    it('exchanges PeerInfo on connect and fires onPeer on both sides', async () => {
      const a = await h.start('a', { dc: 'dc1', rack: 'r1', weight: 2 });
      const aSawB = peerSeen(a, 'b');
      const b = await h.start('b', { seeds: [a.self.address], dc: 'dc2', rack: 'r7', weight: 3 });
      const bSawA = peerSeen(b, 'a');
      const [pb, pa] = await Promise.all([aSawB, bSawA]);
      assert.deepEqual(pb, { nodeId: 'b', address: b.self.address, dc: 'dc2', rack: 'r7', weight: 3 });
      assert.deepEqual(pa, { nodeId: 'a', address: a.self.address, dc: 'dc1', rack: 'r1', weight: 2 });
      assert.deepEqual(a.peers().map((p) => p.nodeId), ['b']);
      assert.deepEqual(b.peers().map((p) => p.nodeId), ['a']);
      assert.equal(a.localId, 'a');
    });

    it('delivers many messages in order per pair, both ways at once', async () => {
      const [a, b] = await pair(h);
      const c = await h.start('c', { seeds: [b.self.address] });
      await waitFor(() => c.isConnected('b') && b.isConnected('c'), 'c linked');
      const atA = collect(a);
      const atB = collect(b);
      const count = 5_000;
      for (let i = 0; i < count; i++) {
        a.send({ from: 'a', to: 'b', msg: { seq: i, s: 'x'.repeat(i % 50) } });
        b.send({ from: 'b', to: 'a', msg: { seq: i } });
        c.send({ from: 'c', to: 'b', msg: { seq: i } });
      }
      await waitFor(() => atB.length === 2 * count && atA.length === count, 'all messages');
      for (const from of ['a', 'c']) {
        const seqs = atB.filter((e) => e.from === from).map((e) => e.msg['seq']);
        assert.deepEqual(seqs, Array.from({ length: count }, (_, i) => i), `order from ${from}`);
      }
      assert.deepEqual(atA.map((e) => e.msg['seq']), Array.from({ length: count }, (_, i) => i));
      assert.ok(atB.every((e) => e.to === 'b'));
    });

    it('round-trips plain values and Uint8Array fields', async () => {
      const [a, b] = await pair(h);
      const atB = collect(b);
      const big = new Uint8Array(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
      const msg = {
        type: 'put', key: 'k\u00e9y', n: 42, neg: -7, f: 1.25, large: 2 ** 50, t: true, nil: null,
        list: [1, 'two', [3], { four: 4 }],
        value: new Uint8Array([0, 1, 2, 255]),
        empty: new Uint8Array(0),
        view: backing.subarray(2, 5),
        nested: { values: [new Uint8Array([7]), null] },
        big,
      };
      a.send({ from: 'a', to: 'b', msg });
      await waitFor(() => atB.length === 1, 'the message');
      const got = atB[0]!.msg;
      assert.deepEqual(
        { ...got, value: null, empty: null, view: null, nested: null, big: null },
        { ...msg, value: null, empty: null, view: null, nested: null, big: null },
      );
      assert.deepEqual(bytesOf(got['value']), [0, 1, 2, 255]);
      assert.deepEqual(bytesOf(got['empty']), []);
      assert.deepEqual(bytesOf(got['view']), [1, 2, 3]);
      const nested = got['nested'] as { values: unknown[] };
      assert.deepEqual(bytesOf(nested.values[0]), [7]);
      assert.equal(nested.values[1], null);
      assert.ok(Buffer.from(got['big'] as Uint8Array).equals(big));
      assert.notEqual(got, msg, 'the receiver gets its own copy');
    });

    it('never delivers synchronously inside send', async () => {
      const [a, b] = await pair(h);
      const atB = collect(b);
      const atA = collect(a);
      a.send({ from: 'a', to: 'b', msg: { x: 1 } });
      a.send({ from: 'a', to: 'a', msg: { self: true } });
      assert.equal(atB.length, 0);
      assert.equal(atA.length, 0);
      await waitFor(() => atB.length === 1 && atA.length === 1, 'delivery, to a peer and to self');
      assert.deepEqual(atA[0], { from: 'a', to: 'a', msg: { self: true } });
    });

    it('drops a send to an unknown peer without throwing, and counts it', async () => {
      const a = await h.start('a');
      assert.doesNotThrow(() => a.send({ from: 'a', to: 'nobody', msg: { x: 1 } }));
      assert.equal(a.stats().droppedUnknownPeer, 1);
      await assert.rejects(a.request('nobody', { x: 1 }, 1_000), (e: unknown) => e instanceof TransportError && e.code === 'unreachable');
    });

    it('stops delivery when closed, and sends after close neither throw nor arrive', async () => {
      const [a, b] = await pair(h);
      const atB = collect(b);
      await b.close();
      await waitFor(() => !a.isConnected('b'), 'a notices b is gone');
      assert.doesNotThrow(() => a.send({ from: 'a', to: 'b', msg: { late: true } }));
      assert.doesNotThrow(() => b.send({ from: 'b', to: 'a', msg: { late: true } }));
      assert.ok(b.stats().droppedClosed >= 1);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(atB.length, 0);
    });

    it('reconnects to a restarted peer and delivers what was queued meanwhile', async () => {
      const [a, b] = await pair(h);
      const before = collect(b);
      a.send({ from: 'a', to: 'b', msg: { phase: 'before' } });
      await waitFor(() => before.length === 1, 'first delivery');
      await b.close();
      await waitFor(() => !a.isConnected('b'), 'a notices b is gone');
      for (let i = 0; i < 10; i++) a.send({ from: 'a', to: 'b', msg: { phase: 'during', i } });
      assert.equal(a.peerStats('b')?.queuedFrames, 10);
      const b2 = await h.restart(b);
      const atB2 = collect(b2);
      const b2SawA = peerSeen(b2, 'a');
      await waitFor(() => atB2.length === 10, 'queued messages after the restart');
      assert.deepEqual(atB2.map((e) => e.msg['i']), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await b2SawA;
      a.send({ from: 'a', to: 'b', msg: { phase: 'after' } });
      const atA = collect(a);
      await waitFor(() => b2.isConnected('a'), 'b2 links back to a');
      b2.send({ from: 'b', to: 'a', msg: { phase: 'reply' } });
      await waitFor(() => atB2.length === 11 && atA.length === 1, 'traffic both ways after restart');
      assert.equal(atA[0]!.msg['phase'], 'reply');
    });

    it('keeps the send queue to a dead peer at its bound and counts drops', async () => {
      const a = await h.start('a');
      a.addPeer({ nodeId: 'dead', address: await h.deadAddress(), dc: 'dc1', rack: 'r1', weight: 1 });
      const total = 100_000;
      for (let i = 0; i < total; i++) a.send({ from: 'a', to: 'dead', msg: { i } });
      const ps = a.peerStats('dead');
      assert.ok(ps);
      assert.equal(ps.connected, false);
      assert.equal(ps.queuedFrames, SEND_QUEUE_FRAMES_MAX);
      assert.equal(a.stats().droppedQueueFull, total - SEND_QUEUE_FRAMES_MAX);
    });

    it('bounds the queue by bytes too', async () => {
      const a = await h.start('a', { limits: { sendQueueBytesMax: 64 * 1024 } });
      a.addPeer({ nodeId: 'dead', address: await h.deadAddress(), dc: 'dc1', rack: 'r1', weight: 1 });
      for (let i = 0; i < 100; i++) a.send({ from: 'a', to: 'dead', msg: { blob: new Uint8Array(4096) } });
      const ps = a.peerStats('dead')!;
      assert.ok(ps.queuedBytes <= 64 * 1024, `${ps.queuedBytes} bytes queued`);
      assert.ok(ps.queuedFrames >= 14 && ps.queuedFrames <= 16, `${ps.queuedFrames} frames queued`);
      assert.equal(a.stats().droppedQueueFull, 100 - ps.queuedFrames);
    });

    it('answers requests (the optional RPC), with typed errors', async () => {
      const [a, b] = await pair(h);
      b.onRequest(async (env) => {
        const m = env.msg as Msg;
        if (m['fail']) throw new Error('nope');
        if (m['hang']) return new Promise(() => {});
        return { echo: m['x'], from: env.from, bytes: new Uint8Array([1, 2]) };
      });
      const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => a.request('b', { x: i })));
      replies.forEach((r, i) => {
        const reply = r as Msg;
        assert.equal(reply['echo'], i);
        assert.equal(reply['from'], 'a');
        assert.deepEqual(bytesOf(reply['bytes']), [1, 2]);
      });
      await assert.rejects(a.request('b', { fail: true }), (e: unknown) => e instanceof TransportError && e.code === 'remote_error' && e.message === 'nope');
      await assert.rejects(a.request('b', { hang: true }, 50), (e: unknown) => e instanceof TransportError && e.code === 'timeout');
      await assert.rejects(b.request('a', { x: 1 }), (e: unknown) => e instanceof TransportError && e.code === 'no_handler');
    });

    it('applies fault hooks: drop rate and added latency', async () => {
      const [a, b] = await pair(h);
      const atB = collect(b);
      a.setFaults({ dropRate: 1 });
      for (let i = 0; i < 20; i++) a.send({ from: 'a', to: 'b', msg: { i } });
      assert.equal(a.stats().droppedFault, 20);
      a.setFaults({ delayMs: 60 });
      const sentAt = Date.now();
      for (let i = 0; i < 20; i++) a.send({ from: 'a', to: 'b', msg: { i } });
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(atB.length, 0, 'nothing before the delay');
      await waitFor(() => atB.length === 20, 'delayed delivery');
      assert.ok(Date.now() - sentAt >= 55);
      assert.deepEqual(atB.map((e) => e.msg['i']), Array.from({ length: 20 }, (_, i) => i));
      a.setFaults(undefined);
    });
  });
}
