/**
 * The bounds of the layers, checked against each other: what one layer allows, the next must be
 * able to carry. Each relation is checked by building the largest thing the bounds allow and
 * encoding it with the real encoders, not only by comparing numbers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CORE_LIMITS } from '../../src/core/constants.js';
import { RUNTIME_LIMITS } from '../../src/runtime/constants.js';
import * as ALL from '../../src/constants.js';
import { FRAME_PAYLOAD_BYTES_MAX, SEND_QUEUE_BYTES_MAX, FRAME_HEADER_BYTES } from '../../src/adapters/transport-constants.js';
import { MAX_KEY_BYTES } from '../../src/api/http/params.js';
import { encodeFrame } from '../../src/codec/frame.js';
import type { CausalContext } from '../../src/core/clock/context.js';
import { decodeContextToken, encodeContextToken } from '../../src/core/clock/context.js';
import type { KeyState } from '../../src/core/clock/state.js';
import { encodeState } from '../../src/core/clock/state.js';
import type { Message } from '../../src/core/types.js';

const L = CORE_LIMITS;
const longId = (c: string): string => c.repeat(L.nodeIdCharsMax);
/** An actor id as the runtime makes one: node id, `~`, incarnation in base 36. */
const longActor = (c: string, i = 0): string => `${i.toString(36).padStart(2, '0')}${longId(c).slice(2)}~${(2 ** 31 - 1).toString(36)}`;
/** The longest key: 1024 bytes of 4-byte UTF-8 characters. */
const longKey = '😀'.repeat(L.keyBytesMax / 4);

/** The largest context a key can hold: every clock entry and cloud dot, with the longest ids and counters. */
function largestContext(counter: number = L.counterMax): CausalContext {
  const clock = Array.from({ length: L.clockEntriesMax }, (_, i) => ({ node: longActor('a', i), counter, tsMs: 2 ** 45 }));
  const cloud = Array.from({ length: L.cloudDotsMax }, (_, i) => ({ node: longActor('A', i), counter }));
  return { clock, cloud };
}

/** One sibling whose value is sized so the encoded state is exactly `bytes` long. */
function stateOfSize(bytes: number): KeyState {
  const ctx = largestContext();
  const make = (len: number): KeyState => ({
    context: ctx,
    siblings: [{ dot: { node: longActor('z'), counter: L.counterMax }, value: new Uint8Array(len), contentType: 'x'.repeat(256), tsMs: 2 ** 45 }],
  });
  let len = bytes;
  for (let i = 0; i < 4; i++) len += bytes - encodeState(make(len)).length;
  const s = make(len);
  assert.equal(encodeState(s).length, bytes);
  return s;
}

function frameBytes(msg: Message): number {
  return encodeFrame({ kind: 'envelope', envelope: { from: longActor('f'), to: longActor('t'), msg } }, FRAME_PAYLOAD_BYTES_MAX).length;
}

describe('limits: how the bounds of the layers relate', () => {
  it('a key state of the largest size fits in one frame with its message and envelope around it', () => {
    assert.ok(L.stateBytesMax + L.stateEnvelopeBytesMax <= FRAME_PAYLOAD_BYTES_MAX);
    const state = encodeState(stateOfSize(L.stateBytesMax));
    const id = Number.MAX_SAFE_INTEGER;
    for (const msg of [
      { type: 'replica-put', id, key: longKey, state },
      { type: 'replica-get-reply', id, key: longKey, state },
    ] satisfies Message[]) {
      const bytes = frameBytes(msg); // throws frame_too_large if it does not fit
      assert.ok(bytes - FRAME_HEADER_BYTES - state.length <= L.stateEnvelopeBytesMax, `${msg.type}: ${bytes - state.length} bytes around the state`);
    }
  });

  it('a forwarded write of the largest value, with the largest context token, fits in one frame', () => {
    const context = encodeContextToken(largestContext());
    const msg: Message = {
      type: 'forward', id: Number.MAX_SAFE_INTEGER,
      op: { op: 'put', key: longKey, value: new Uint8Array(L.valueBytesMax), contentType: 'x'.repeat(256), context, w: 'quorum', timeoutMs: 600_000 },
    };
    assert.ok(frameBytes(msg) <= FRAME_PAYLOAD_BYTES_MAX + FRAME_HEADER_BYTES);
  });

  it('the largest value, with the largest context, makes a state well below the state bound', () => {
    const s: KeyState = {
      context: largestContext(),
      siblings: [{ dot: { node: longActor('z'), counter: L.counterMax }, value: new Uint8Array(L.valueBytesMax), contentType: 'x'.repeat(256), tsMs: 2 ** 45 }],
    };
    assert.ok(encodeState(s).length < L.stateBytesMax);
  });

  it('the largest context a client may send encodes to a token the decoder accepts', () => {
    assert.ok(L.clientCounterMax < L.counterMax);
    const token = encodeContextToken(largestContext(L.clientCounterMax));
    assert.ok(token.length <= L.contextTokenCharsMax, `${token.length} chars`);
    assert.equal(decodeContextToken(token).clock.length, L.clockEntriesMax);
    assert.ok(L.clockEntriesMax + L.cloudDotsMax <= L.decodedEntriesMax);
  });

  it('counters stay safe integers after one more increment; Q fits the 32-bit hash space', () => {
    assert.ok(Number.isSafeInteger(L.counterMax + 1));
    assert.ok(L.partitionCountMax <= 2 ** 32 && (L.partitionCountMax & (L.partitionCountMax - 1)) === 0);
  });

  it('the API and the core agree on the key bound; a send queue holds at least one largest frame', () => {
    assert.equal(MAX_KEY_BYTES, L.keyBytesMax);
    assert.ok(SEND_QUEUE_BYTES_MAX >= FRAME_PAYLOAD_BYTES_MAX + FRAME_HEADER_BYTES);
    assert.ok(RUNTIME_LIMITS.requestsInFlightMax > 0 && RUNTIME_LIMITS.shutdownGraceMs > 0);
  });

  it('src/constants.ts gathers every layer\'s bounds', () => {
    assert.equal(ALL.CORE_LIMITS, CORE_LIMITS);
    assert.equal(ALL.RUNTIME_LIMITS, RUNTIME_LIMITS);
    assert.equal(ALL.TRANSPORT_LIMITS.FRAME_PAYLOAD_BYTES_MAX, FRAME_PAYLOAD_BYTES_MAX);
  });
});
