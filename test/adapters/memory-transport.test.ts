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
