import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryNetwork } from '../../src/adapters/memory-transport.js';
import type { ClusterTransport } from '../../src/adapters/transport-common.js';
import { collect, runTransportCompliance, waitFor } from './transport-compliance.js';
import type { Msg, StartOptions, TransportHarness } from './transport-compliance.js';

function memoryHarness(): TransportHarness {
  const network = new MemoryNetwork();
  const started: ClusterTransport<Msg>[] = [];
  const start = (nodeId: string, opts: StartOptions = {}, address?: string): ClusterTransport<Msg> => {
    const t = network.createTransport<Msg>({
      self: { nodeId, dc: opts.dc ?? 'dc1', rack: opts.rack ?? 'rack1', weight: opts.weight ?? 1, ...(address ? { address } : {}) },
      seeds: opts.seeds ?? [],
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...(opts.faults ? { faults: opts.faults } : {}),
    });
    started.push(t);
    return t;
  };
  return {
    start: async (nodeId, opts) => start(nodeId, opts),
    restart: async (node) => {
      await node.close();
      return start(node.localId, { dc: node.self.dc, rack: node.self.rack, weight: node.self.weight }, node.self.address);
    },
    deadAddress: async () => 'mem:nobody-home',
    cleanup: async () => { await Promise.all(started.map((t) => t.close())); },
  };
}

runTransportCompliance('memory', memoryHarness);

describe('memory transport specifics', () => {
  it('refuses two live transports at one address', () => {
    const net = new MemoryNetwork();
    net.createTransport({ self: { nodeId: 'a', address: 'mem:x', dc: 'd', rack: 'r', weight: 1 } });
    assert.throws(() => net.createTransport({ self: { nodeId: 'b', address: 'mem:x', dc: 'd', rack: 'r', weight: 1 } }));
  });

  it('bounds the messages in flight network-wide', async () => {
    const net = new MemoryNetwork({ inFlightMax: 100 });
    const a = net.createTransport<Msg>({ self: { nodeId: 'a', dc: 'd', rack: 'r', weight: 1 } });
    const b = net.createTransport<Msg>({ self: { nodeId: 'b', dc: 'd', rack: 'r', weight: 1 }, seeds: [a.self.address] });
    await waitFor(() => a.isConnected('b') && b.isConnected('a'), 'links');
    const atB = collect(b);
    for (let i = 0; i < 500; i++) a.send({ from: 'a', to: 'b', msg: { i } });
    await waitFor(() => atB.length === 100, 'the first hundred');
    assert.equal(net.droppedInFlight, 400);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('memory network: injected timers and link conditioner (what the simulator runs on)', () => {
  /** Timers that fire only when the test says so, in (time, order) — a tiny virtual clock. */
  class ManualTimers {
    nowMs = 0;
    private nextId = 1;
    private readonly due: Array<{ id: number; at: number; fn: () => void }> = [];
    setTimer(delayMs: number, fn: () => void): { id: number } {
      const id = this.nextId++;
      this.due.push({ id, at: this.nowMs + delayMs, fn });
      return { id };
    }
    clearTimer(h: { id: number }): void {
      const i = this.due.findIndex((d) => d.id === h.id);
      if (i >= 0) this.due.splice(i, 1);
    }
    /** Runs everything due up to `ms` from now, in time order. */
    advance(ms: number): void {
      const until = this.nowMs + ms;
      for (;;) {
        const next = [...this.due].sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (!next || next.at > until) break;
        this.due.splice(this.due.indexOf(next), 1);
        this.nowMs = next.at;
        next.fn();
      }
      this.nowMs = until;
    }
  }

  function pairOn(net: MemoryNetwork, timers: ManualTimers): [ClusterTransport<Msg>, ClusterTransport<Msg>] {
    const a = net.createTransport<Msg>({ self: { nodeId: 'a', dc: 'd', rack: 'r', weight: 1 } });
    const b = net.createTransport<Msg>({ self: { nodeId: 'b', dc: 'd', rack: 'r', weight: 1 }, seeds: [a.self.address] });
    timers.advance(0);
    assert.ok(a.isConnected('b') && b.isConnected('a'), 'hellos move on the injected timers');
    return [a, b];
  }

  it('frames move only when the injected timers fire, after the delay the conditioner chose', () => {
    const timers = new ManualTimers();
    const delays: Record<number, number[]> = { 1: [30], 2: [10], 3: [] };
    let sent = 0;
    const net = new MemoryNetwork({ timers, conditioner: { route: () => delays[++sent] ?? [0], deliverable: () => true } });
    const [a, b] = pairOn(net, timers);
    const atB = collect(b);
    for (const i of [1, 2, 3]) a.send({ from: 'a', to: 'b', msg: { i } });
    assert.equal(atB.length, 0, 'never synchronous');
    timers.advance(9);
    assert.equal(atB.length, 0);
    timers.advance(1);
    assert.deepEqual(atB.map((e) => e.msg['i']), [2], 'the shorter delay overtakes');
    timers.advance(20);
    assert.deepEqual(atB.map((e) => e.msg['i']), [2, 1]);
    timers.advance(1000);
    assert.equal(atB.length, 2, 'the third was dropped on the wire');
    assert.equal(net.droppedByConditioner, 1);
  });

  it('a frame the conditioner duplicates arrives twice; one cut in flight is lost', () => {
    const timers = new ManualTimers();
    let cut = false;
    const net = new MemoryNetwork({ timers, conditioner: { route: () => [5, 6], deliverable: () => !cut } });
    const [a, b] = pairOn(net, timers);
    const atB = collect(b);
    a.send({ from: 'a', to: 'b', msg: { i: 1 } });
    timers.advance(10);
    assert.deepEqual(atB.map((e) => e.msg['i']), [1, 1]);
    a.send({ from: 'a', to: 'b', msg: { i: 2 } });
    cut = true;
    timers.advance(10);
    assert.equal(atB.length, 2);
    assert.equal(net.droppedByConditioner, 2);
  });

  it('a frame held by intercept is delivered when the holder says so, decoded from its bytes', () => {
    const timers = new ManualTimers();
    const held: Array<{ frame: Uint8Array; deliver: () => void }> = [];
    const net = new MemoryNetwork({
      timers,
      conditioner: { route: () => [0], deliverable: () => true, intercept: (_f, _t, frame, deliver) => { held.push({ frame, deliver }); return true; } },
    });
    const [a, b] = pairOn(net, timers);
    const atB = collect(b);
    const payload = { bytes: new Uint8Array([1, 2, 3]) };
    a.send({ from: 'a', to: 'b', msg: payload });
    timers.advance(100);
    assert.equal(atB.length, 0);
    assert.equal(held.length, 1);
    held[0]!.deliver();
    assert.equal(atB.length, 1);
    assert.notEqual(atB[0]!.msg['bytes'], payload.bytes, 'the receiver never aliases the sender');
    assert.deepEqual(Array.from(atB[0]!.msg['bytes'] as Uint8Array), [1, 2, 3]);
  });
});
