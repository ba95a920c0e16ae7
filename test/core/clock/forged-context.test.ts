/**
 * Defect 1 of issue 8: a client context is untrusted input. Whatever token a client sends, it is
 * refused (a 400 `bad_request`) or it leaves the key writable: an ordinary read-modify-write
 * through every replica still succeeds afterwards, deletes included.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteWriter, toBase64Url } from '../../../src/core/bytes.js';
import type { CausalContext, KeyState } from '../../../src/core/clock/index.js';
import {
  ContextError, EMPTY_STATE, MAX_COUNTER, applyWrite, decodeContextToken, decodeState, encodeContextToken, encodeState,
  syncStates,
} from '../../../src/core/clock/index.js';

const NODES = ['n0', 'n1', 'n2'];
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

interface RawEntry { node: string; counter: number; tsMs: number }

/** A token written byte by byte, so it can say anything a hostile client could (unsorted, huge, long). */
function rawToken(clock: RawEntry[], cloud: { node: string; counter: number }[]): string {
  const w = new ByteWriter();
  w.u8(1);
  w.varint(clock.length);
  for (const e of clock) w.string(e.node).varint(e.counter).varint(e.tsMs);
  w.varint(cloud.length);
  for (const d of cloud) w.string(d.node).varint(d.counter);
  return toBase64Url(w.finish());
}

function write(local: KeyState, coordinator: string, value: string | null, context: CausalContext, tsMs: number) {
  return applyWrite(local, { coordinator, context, value: value === null ? null : enc(value), contentType: 'text/plain', tsMs });
}

/**
 * Sends `token` as a write through `via`, replicates the result to every replica, then does a
 * read-modify-write and a delete through each replica with the context a read returns.
 */
function forgeThenUse(token: string, via: string): { refused: boolean } {
  let states = new Map(NODES.map((n) => [n, write(EMPTY_STATE, n, `seed-${n}`, { clock: [], cloud: [] }, 1000).state]));
  const all = (): KeyState => [...states.values()].reduce((a, b) => syncStates(a, b));
  states = new Map(NODES.map((n) => [n, all()]));
  let ctx: CausalContext;
  try {
    ctx = decodeContextToken(token);
  } catch (e) {
    assert.ok(e instanceof ContextError, `a bad token must be a ContextError, got ${String(e)}`);
    return { refused: true };
  }
  const forged = write(states.get(via)!, via, 'forged', ctx, 2000);
  states.set(via, forged.state);
  states = new Map(NODES.map((n) => [n, all()]));
  for (const n of NODES) {
    for (let round = 0; round < 3; round++) {
      const read = states.get(n)!;
      // What the client got back from a read is a token it sends unchanged: it must be accepted.
      const back = decodeContextToken(encodeContextToken(read.context));
      const w = write(read, n, round === 2 ? null : `rmw-${n}-${round}`, back, 3000 + round);
      assert.equal(w.state.siblings.length, 1, 'the write superseded every version the read returned');
      assert.deepEqual(decodeState(encodeState(w.state)), w.state);
      states.set(n, w.state);
      states = new Map(NODES.map((m) => [m, all()]));
    }
  }
  return { refused: false };
}

const counter = fc.oneof(
  fc.integer({ min: 1, max: 1000 }),
  fc.constantFrom(2 ** 32, 2 ** 40, 2 ** 40 + 1, 2 ** 47 - 1, 2 ** 47, MAX_COUNTER - 1, MAX_COUNTER, MAX_COUNTER + 1, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
);
const node = fc.oneof(fc.constantFrom(...NODES, 'n0~abc', ''), fc.string({ maxLength: 8 }), fc.string({ minLength: 100, maxLength: 400 }));
const tsMs = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constantFrom(2 ** 48, Number.MAX_SAFE_INTEGER), fc.nat());
const entry = fc.record({ node, counter, tsMs });
const dot = fc.record({ node, counter });

describe('forged client contexts', () => {
  it('a context at the counter bound is refused, and the key stays writable', () => {
    for (const c of [MAX_COUNTER, MAX_COUNTER - 1, 2 ** 47]) {
      const token = rawToken([{ node: 'n0', counter: c, tsMs: 0 }], []);
      assert.throws(() => decodeContextToken(token), (e: unknown) => e instanceof ContextError && /counter/.test(e.message));
      forgeThenUse(token, 'n0');
    }
  });

  it('a counter below the refusal bound cannot push the node toward exhaustion', () => {
    const token = rawToken([{ node: 'n0', counter: 2 ** 47 - 1, tsMs: 0 }, { node: 'n1', counter: 2 ** 47 - 1, tsMs: 0 }], [{ node: 'n2', counter: 2 ** 47 - 1 }]);
    assert.equal(forgeThenUse(token, 'n0').refused, false);
    const state = write(EMPTY_STATE, 'n0', 'x', decodeContextToken(token), 1);
    for (const e of state.state.context.clock) assert.ok(e.counter <= 2 ** 40 + 1, `${e.node} at ${e.counter}`);
  });

  it('long node names, too many entries and far-future timestamps are refused', () => {
    assert.throws(() => decodeContextToken(rawToken([{ node: 'x'.repeat(200), counter: 1, tsMs: 0 }], [])), /node name/);
    const many = Array.from({ length: 100 }, (_, i) => ({ node: `m${String(i).padStart(3, '0')}`, counter: 1, tsMs: 0 }));
    assert.throws(() => decodeContextToken(rawToken(many, [])), /entries/);
    assert.throws(() => decodeContextToken(rawToken([{ node: 'n0', counter: 1, tsMs: 2 ** 50 }], [])), /timestamp/);
  });

  it('a forged entry with a far timestamp does not outlive real entries at pruning', () => {
    // Eleven nodes' entries: pruning keeps ten. The forged one claims the latest time allowed.
    let s = EMPTY_STATE;
    for (let i = 0; i < 10; i++) s = write(s, `w${i}`, `v${i}`, s.context, 1000 + i).state;
    const forged = decodeContextToken(rawToken([{ node: 'zz-forged', counter: 1, tsMs: 2 ** 48 - 1 }], []));
    s = write(s, 'w0', 'after-forgery', { clock: [...s.context.clock, ...forged.clock].sort((a, b) => (a.node < b.node ? -1 : 1)), cloud: [] }, 2000).state;
    for (let i = 1; i < 12; i++) s = write(s, `w${i % 10}`, `later-${i}`, s.context, 3000 + i).state;
    const forgedEntry = s.context.clock.find((e) => e.node === 'zz-forged');
    assert.ok(forgedEntry === undefined || forgedEntry.tsMs <= 3011, `the forged entry kept its far timestamp: ${JSON.stringify(forgedEntry)}`);
  });

  it('property: any context a client can send is refused or leaves read-modify-write working on every replica', () => {
    fc.assert(fc.property(fc.array(entry, { maxLength: 12 }), fc.array(dot, { maxLength: 12 }), fc.constantFrom(...NODES), (clock, cloud, via) => {
      forgeThenUse(rawToken(clock, cloud), via);
    }), { numRuns: 400 });
  });
});
