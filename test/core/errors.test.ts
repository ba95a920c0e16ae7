import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GossamerError, InvariantError, assert as invariant } from '../../src/core/errors.js';
import { ContextError, EMPTY_CONTEXT, decodeContextToken, encodeContextToken } from '../../src/core/clock/context.js';
import { CounterExhaustedError, EMPTY_STATE, applyWrite, decodeState } from '../../src/core/clock/state.js';
import { DecodeError } from '../../src/core/bytes.js';
import { RingError, createRing } from '../../src/core/ring/index.js';
import { storageWrite, dataKey, metaKey } from '../../src/core/keys.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof GossamerError, `not a GossamerError: ${String(e)}`);
    return `${e.name}:${e.code}`;
  }
  assert.fail('expected an error');
}

describe('core errors: one base class carrying the API error code', () => {
  it('bad input from clients and peers is a bad_request of its own class', () => {
    assert.equal(codeOf(() => decodeContextToken('!!')), 'ContextError:bad_request');
    assert.equal(codeOf(() => decodeState(new Uint8Array([9]))), 'DecodeError:bad_request');
    assert.equal(codeOf(() => createRing([], { partitionCount: 16, n: 1 })), 'RingError:bad_request');
    // A client context is clamped before it joins a state, so only a state already at the bound
    // (never reached by real writes) exhausts a counter.
    const full = { ...EMPTY_STATE, context: { clock: [{ node: 'a', counter: 2 ** 48, tsMs: 0 }], cloud: [] } };
    assert.equal(codeOf(() => applyWrite(full, { coordinator: 'a', context: EMPTY_CONTEXT, value: null, contentType: 'x', tsMs: 0 })),
      'CounterExhaustedError:bad_request');
    assert.equal(codeOf(() => decodeContextToken(encodeContextToken({ clock: [{ node: 'a', counter: 2 ** 47, tsMs: 0 }], cloud: [] }))),
      'ContextError:bad_request');
    for (const C of [ContextError, CounterExhaustedError, DecodeError, RingError]) assert.ok(C.prototype instanceof GossamerError);
  });

  it('assert throws an InvariantError (unavailable) and builds its message only on failure', () => {
    let built = 0;
    invariant(true, () => `${++built}`);
    assert.equal(built, 0);
    assert.throws(() => invariant(1 > 2, () => `one is not above ${++built}`), (e: unknown) =>
      e instanceof InvariantError && e.code === 'unavailable' && /invariant violated: one is not above 1/.test(e.message));
  });

  it('a write is typed by its keyspace, and a write whose key is in another keyspace is a bug', () => {
    assert.equal(storageWrite('data', dataKey('k'), null).space, 'data');
    assert.equal(storageWrite('meta', metaKey('ring'), null).space, 'meta');
    assert.throws(() => storageWrite('meta', dataKey('k'), null), InvariantError);
    assert.throws(() => storageWrite('hint', metaKey('ring'), null), InvariantError);
  });
});

describe('invariants at the node boundary', () => {
  it('a Ready advanced out of order is refused (the runtime must handle Readys in order)', async () => {
    const { Harness } = await import('./harness.js');
    const h = new Harness(['a']);
    const node = h.node('a');
    node.request(1, { op: 'put', key: 'k', value: new Uint8Array([1]), w: 1 });
    const first = node.ready();
    node.request(2, { op: 'put', key: 'k', value: new Uint8Array([2]), w: 1 });
    const second = node.ready();
    node.advance(second);
    assert.throws(() => node.advance(first), InvariantError);
  });
});
