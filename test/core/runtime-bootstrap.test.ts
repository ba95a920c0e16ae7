/**
 * The runtime installs what the core decided about the ring, and persists the ring's metadata
 * before anything that depends on it leaves. (Runtime tests live here: the runtime is the core's
 * shell, and these check the core–runtime contract.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeRuntime } from '../../src/runtime/node-runtime.js';
import type { RuntimeSettings } from '../../src/runtime/node-runtime.js';
import type { Clock, Envelope, PageOptions, PeerInfo, ScanPage, StorageEngine, TimerHandle, Transport } from '../../src/ports/index.js';
import { pageFromScan } from '../../src/storage/scan-page.js';
import type { Message } from '../../src/core/types.js';
import { CLUSTER_META_KEY } from '../../src/core/membership/index.js';
import { MetadataError } from '../../src/core/membership/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** An engine whose writes become durable only when the test says so. */
class GatedEngine implements StorageEngine {
  readonly data = new Map<string, Uint8Array>();
  readonly pending: { keys: string[]; resolve: () => void }[] = [];
  get(key: Uint8Array): Uint8Array | undefined {
    return this.data.get(hex(key));
  }
  write(batch: readonly { key: Uint8Array; value: Uint8Array | null }[]): Promise<void> {
    for (const w of batch) {
      if (w.value === null) this.data.delete(hex(w.key));
      else this.data.set(hex(w.key), w.value);
    }
    return new Promise((resolve) => this.pending.push({ keys: batch.map((w) => hex(w.key)), resolve }));
  }
  *scan(): IterableIterator<[Uint8Array, Uint8Array]> {}
  scanPage(o: PageOptions): ScanPage {
    return pageFromScan(() => this.scan(), o);
  }
  async close(): Promise<void> {}
}

/** Time stands still; timers never fire (the tests need none). */
const stillClock: Clock = {
  nowMs: () => 1_700_000_000_000,
  setTimer: (): TimerHandle => ({ id: 0 }),
  clearTimer: () => {},
};

class NullTransport implements Transport<Message> {
  readonly localId = 'n0';
  readonly sent: Envelope<Message>[] = [];
  send(e: Envelope<Message>): void {
    this.sent.push(e);
  }
  handler: ((e: Envelope<Message>) => void) | undefined;
  onMessage(h: (e: Envelope<Message>) => void): void {
    this.handler = h;
  }
  onPeer(): void {}
  async close(): Promise<void> {}
}

const self: PeerInfo = { nodeId: 'n0', address: 'h0:7000', dc: 'dc1', rack: 'r0', weight: 1 };
const settings = (seeds: string[]): RuntimeSettings => ({
  n: 3, partitions: 16, tickMs: 10, requestTimeoutMs: 1000, r: 'quorum', w: 'quorum', maxValueBytes: 1024, seeds,
});

describe('runtime: installing the ring the core decided', () => {
  it('a put is not acknowledged before the ring metadata it was coordinated under is durable', async () => {
    const engine = new GatedEngine();
    const rt = NodeRuntime.create({ self, settings: settings([]), engine, transport: new NullTransport(), clock: stillClock });
    rt.start();
    assert.equal(rt.isServing(), true, 'a node without seeds forms its ring at once');
    assert.equal(engine.pending.length, 1);
    assert.deepEqual(engine.pending[0]!.keys, [hex(CLUSTER_META_KEY)]);
    let answered = false;
    const reply = rt.submit({ op: 'put', key: 'k', value: new Uint8Array([7]), w: 1 }).then((r) => { answered = true; return r; });
    assert.equal(engine.pending.length, 2);
    engine.pending[1]!.resolve(); // the key's write is durable, the ring's is not yet
    await new Promise((r) => setImmediate(r));
    assert.equal(answered, false, 'no acknowledgement before the ring metadata is durable');
    engine.pending[0]!.resolve();
    assert.equal((await reply).ok, true);
  });

  it('waits for every seed to answer before serving; the members it reports are the ring\'s', () => {
    const engine = new GatedEngine();
    const transport = new NullTransport();
    const rt = NodeRuntime.create({ self, settings: settings(['h0:7000', 'h1:7000']), engine, transport, clock: stillClock });
    rt.start();
    assert.equal(rt.isServing(), false);
    const answer = (nodeId: string, address: string): void => transport.handler!({ from: nodeId, to: 'n0', msg: {
      type: 'gossip-ack', id: 1, doc: null, meta: null, wantDoc: false, wants: [],
      entries: [{ id: nodeId, gen: 5, hb: 1, sus: [], address, http: null, dc: 'dc1', rack: 'r1', weight: 1, doc: null }],
    } });
    rt.notePeer({ nodeId: 'n9', address: 'h9:7000', dc: 'dc1', rack: 'r9', weight: 1 });
    answer('n9', 'h9:7000');
    assert.equal(rt.isServing(), false, 'a peer that is not a seed does not complete the ring');
    rt.notePeer({ nodeId: 'n1', address: 'h1:7000', dc: 'dc1', rack: 'r1', weight: 1 });
    assert.equal(rt.isServing(), false, 'a handshake is no answer');
    answer('n1', 'h1:7000');
    assert.equal(rt.isServing(), true);
    // /cluster: the ring's members, then members known only by gossip (owning nothing).
    assert.deepEqual(rt.members().map((m) => [m.nodeId, m.address, m.ownership > 0]), [['n0', 'h0:7000', true], ['n1', 'h1:7000', true], ['n9', 'h9:7000', false]]);
  });

  it('stored metadata it cannot use stops the node with a clear error instead of crashing', async () => {
    const engine = new GatedEngine();
    engine.data.set(hex(CLUSTER_META_KEY), new TextEncoder().encode('not json'));
    const fatal: Error[] = [];
    const rt = NodeRuntime.create({
      self, settings: settings([]), engine, transport: new NullTransport(), clock: stillClock, onFatal: (e) => fatal.push(e),
    });
    assert.doesNotThrow(() => rt.start());
    assert.equal(fatal.length, 1);
    assert.ok(fatal[0] instanceof MetadataError);
    assert.match(fatal[0]!.message, /stored cluster metadata is invalid: not JSON/);
    assert.equal(rt.isServing(), false);
    const r = await rt.submit({ op: 'get', key: 'k' });
    assert.equal(r.ok, false);
    assert.equal(engine.data.get(hex(CLUSTER_META_KEY))?.length, 8, 'the stored metadata is left as it was');
  });
});
