import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isValidMessage } from '../../../src/core/messages.js';
import type { Message } from '../../../src/core/messages.js';
import { isKvMessage } from '../../../src/core/kv/messages.js';
import { assertNever } from '../../../src/core/errors.js';
import { decodePayload, encodePayload } from '../../../src/codec/frame.js';

const state = new Uint8Array([1, 0, 0, 0]);
const WELL_FORMED: Message[] = [
  { type: 'replica-put', id: 1, key: 'k', state },
  { type: 'replica-put-ack', id: 1, key: 'k' },
  { type: 'replica-get', id: 0, key: 'k' },
  { type: 'replica-get-reply', id: 2, key: 'k', state: null },
  { type: 'replica-get-reply', id: 2, key: 'k', state },
  { type: 'forward', id: 3, op: { op: 'put', key: 'k', value: null, context: 'AQAA', w: 2, timeoutMs: 10 } },
  { type: 'forward', id: 3, op: { op: 'get', key: 'k', r: 'quorum' } },
  { type: 'forward-accepted', id: 3 },
  { type: 'forward-reply', id: 3, reply: { ok: true, op: 'put', context: 'AQAA' } },
  { type: 'forward-reply', id: 3, reply: { ok: false, error: 'unavailable', message: 'x' } },
];

describe('message validators (one per protocol, joined in src/core/messages.ts)', () => {
  it('accept every well-formed message, also after a trip through the wire codec', () => {
    for (const m of WELL_FORMED) {
      assert.ok(isValidMessage(m), JSON.stringify(m));
      assert.ok(isKvMessage(m));
      assert.ok(isValidMessage(decodePayload(encodePayload(m))), `${m.type} after the codec`);
    }
  });

  it('refuse ill-typed fields, unknown types and inherited property names', () => {
    const bad: unknown[] = [
      null, 7, 'replica-get', [], {},
      { type: 'replica-get', id: -1, key: 'k' },
      { type: 'replica-get', id: 1.5, key: 'k' },
      { type: 'replica-get', id: 1 },
      { type: 'replica-put', id: 1, key: 'k', state: 'bytes' },
      { type: 'replica-get-reply', id: 1, key: 'k' },
      { type: 'forward', id: 1, op: { op: 'delete', key: 'k' } },
      { type: 'forward', id: 1, op: { op: 'put', key: 'k', value: 'v' } },
      { type: 'forward', id: 1, op: { op: 'get', key: 'k', r: 'most' } },
      { type: 'forward-reply', id: 1, reply: { ok: true, op: 'get' } },
      { type: 'forward-reply', id: 1, reply: { ok: false, error: 'x' } },
      { type: 'gossip', id: 1 },
      { type: 'constructor', id: 1 },
      { type: 'toString', id: 1 },
      { type: '__proto__', id: 1 },
    ];
    for (const m of bad) assert.equal(isValidMessage(m), false, JSON.stringify(m));
  });

  it('never throw, whatever arrives', () => {
    fc.assert(fc.property(fc.anything({ withTypedArray: true, withNullPrototype: true }), (v) => {
      assert.equal(typeof isValidMessage(v), 'boolean');
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.constantFrom(...WELL_FORMED.map((m) => m.type)), fc.dictionary(fc.string(), fc.anything()), (type, rest) => {
      assert.equal(typeof isValidMessage({ ...rest, type }), 'boolean');
    }), { numRuns: 2000 });
  });

  it('a switch over message types that misses one fails the type check (assertNever)', () => {
    function handled(m: Message): string {
      switch (m.type) {
        case 'replica-get':
        case 'replica-put':
          return m.key;
        default:
          // @ts-expect-error -- the other types are not handled, so `m` is not `never` here
          return assertNever(m, 'message type');
      }
    }
    assert.equal(handled({ type: 'replica-get', id: 1, key: 'k' }), 'k');
    assert.throws(() => handled({ type: 'forward-accepted', id: 1 }), /unhandled message type/);
  });
});
