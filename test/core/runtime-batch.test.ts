/**
 * One Ready per event-loop turn (RuntimeDeps.batchTurn): requests submitted in the same turn are
 * persisted as one engine write, and none is answered before that write is durable.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeRuntime } from '../../src/runtime/node-runtime.js';
import type { RuntimeSettings } from '../../src/runtime/node-runtime.js';
import type { Clock, Envelope, PageOptions, PeerInfo, ScanPage, StorageEngine, TimerHandle, Transport } from '../../src/ports/index.js';
import { pageFromScan } from '../../src/storage/scan-page.js';
import type { ClientReply, Message } from '../../src/core/types.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** An engine whose writes become durable only when the test says so. */
class GatedEngine implements StorageEngine {
  readonly data = new Map<string, Uint8Array>();
  readonly pending: { size: number; resolve: () => void }[] = [];
  get(key: Uint8Array): Uint8Array | undefined {
    return this.data.get(hex(key));
  }
  write(batch: readonly { key: Uint8Array; value: Uint8Array | null }[]): Promise<void> {
    for (const w of batch) {
      if (w.value === null) this.data.delete(hex(w.key));
      else this.data.set(hex(w.key), w.value);
    }
    return new Promise((resolve) => this.pending.push({ size: batch.length, resolve }));
  }
  *scan(): IterableIterator<[Uint8Array, Uint8Array]> {}
  scanPage(o: PageOptions): ScanPage {
    return pageFromScan(() => this.scan(), o);
  }
  async close(): Promise<void> {}
}

const stillClock: Clock = { nowMs: () => 1_700_000_000_000, setTimer: (): TimerHandle => ({ id: 0 }), clearTimer: () => {} };

class NullTransport implements Transport<Message> {
  readonly localId = 'n0';
  send(_e: Envelope<Message>): void {}
  onMessage(): void {}
  onPeer(): void {}
  async close(): Promise<void> {}
}

const self: PeerInfo = { nodeId: 'n0', address: 'h0:7000', dc: 'dc1', rack: 'r0', weight: 1 };
const settings: RuntimeSettings = { n: 1, partitions: 16, tickMs: 10, requestTimeoutMs: 1000, r: 1, w: 1, maxValueBytes: 1024, seeds: [] };

/** A runtime whose turn ends when the test calls `endTurn`. */
function batchedRuntime(engine: GatedEngine): { rt: NodeRuntime; endTurn: () => void; scheduled: () => number } {
  const flushes: (() => void)[] = [];
  const rt = NodeRuntime.create({ self, settings, engine, transport: new NullTransport(), clock: stillClock, batchTurn: (f) => { flushes.push(f); } });
  rt.start();
  engine.pending.splice(0).forEach((p) => p.resolve()); // the ring's metadata
  return { rt, endTurn: () => { for (const f of flushes.splice(0)) f(); }, scheduled: () => flushes.length };
}

describe('runtime: one Ready per event-loop turn', () => {
  it('puts of one turn go to the engine as one write, answered only once it is durable', async () => {
    const engine = new GatedEngine();
    const { rt, endTurn, scheduled } = batchedRuntime(engine);
    await new Promise((r) => setImmediate(r));
    const answered: ClientReply[] = [];
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const replies = keys.map((key, i) => rt.submit({ op: 'put', key, value: new Uint8Array([i]) }).then((r) => { answered.push(r); return r; }));
    assert.equal(scheduled(), 1, 'one flush scheduled for the whole turn');
    assert.equal(engine.pending.length, 0, 'nothing is written before the turn ends');
    endTurn();
    assert.equal(engine.pending.length, 1, 'one engine write for the turn');
    assert.equal(engine.pending[0]!.size, keys.length, 'holding every put of the turn');
    await new Promise((r) => setImmediate(r));
    assert.equal(answered.length, 0, 'no put is acknowledged before its write is durable');
    engine.pending[0]!.resolve();
    for (const r of await Promise.all(replies)) assert.equal(r.ok, true);
    const got = await (async () => { const p = rt.submit({ op: 'get', key: 'c' }); endTurn(); return p; })();
    assert.ok(got.ok && got.op === 'get');
    assert.deepEqual([...got.siblings[0]!.value!], [2]);
  });

  it('without batchTurn every request is persisted at once (the simulator\'s behaviour)', async () => {
    const engine = new GatedEngine();
    const rt = NodeRuntime.create({ self, settings, engine, transport: new NullTransport(), clock: stillClock });
    rt.start();
    engine.pending.splice(0).forEach((p) => p.resolve());
    const replies = ['a', 'b', 'c'].map((key) => rt.submit({ op: 'put', key, value: new Uint8Array([1]) }));
    assert.equal(engine.pending.length, 3, 'one write per request');
    engine.pending.forEach((p) => p.resolve());
    for (const r of await Promise.all(replies)) assert.equal(r.ok, true);
  });
});
