/**
 * Handoff's bounds against the transport's: every message it sends fits one frame. A delivery
 * batch is closed before the hint that would take it past `deliveryBatchBytesMax`, so a batch is
 * either one hint (a state of up to `stateBytesMax`) or at most that many bytes of states plus
 * `deliveryBatchHintsMax` keys.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CORE_LIMITS } from '../../../src/core/constants.js';
import { HANDOFF_LIMITS } from '../../../src/core/handoff/index.js';
import { FRAME_PAYLOAD_BYTES_MAX } from '../../../src/adapters/transport-constants.js';
import { encodeFrame } from '../../../src/codec/frame.js';
import type { Message } from '../../../src/core/types.js';

const longKey = '😀'.repeat(CORE_LIMITS.keyBytesMax / 4);
const longId = 'n'.repeat(CORE_LIMITS.nodeIdCharsMax);
const frame = (msg: Message): number =>
  encodeFrame({ kind: 'envelope', envelope: { from: longId, to: longId, msg } }, FRAME_PAYLOAD_BYTES_MAX).length;

describe('handoff limits', () => {
  it('a batch of the most hints at the byte bound fits one frame', () => {
    const per = Math.ceil(HANDOFF_LIMITS.deliveryBatchBytesMax / HANDOFF_LIMITS.deliveryBatchHintsMax);
    const hints = Array.from({ length: HANDOFF_LIMITS.deliveryBatchHintsMax }, () => ({ key: longKey, state: new Uint8Array(per) }));
    assert.ok(frame({ type: 'hint-deliver', id: 2 ** 52, hints }) > 0); // throws frame_too_large otherwise
  });

  it('a batch of one largest state fits one frame, and so does a hinted replica-put', () => {
    const state = new Uint8Array(CORE_LIMITS.stateBytesMax);
    assert.ok(frame({ type: 'hint-deliver', id: 2 ** 52, hints: [{ key: longKey, state }] }) > 0);
    assert.ok(frame({ type: 'replica-put', id: 2 ** 52, key: longKey, state, hintFor: longId }) > 0);
  });

  it('a batch past the hint-count bound is refused by the validator', async () => {
    const { isValidMessage } = await import('../../../src/core/messages.js');
    const hint = { key: 'k', state: new Uint8Array(1) };
    assert.equal(isValidMessage({ type: 'hint-deliver', id: 1, hints: Array(HANDOFF_LIMITS.deliveryBatchHintsMax).fill(hint) }), true);
    assert.equal(isValidMessage({ type: 'hint-deliver', id: 1, hints: Array(HANDOFF_LIMITS.deliveryBatchHintsMax + 1).fill(hint) }), false);
    assert.equal(isValidMessage({ type: 'hint-deliver', id: 1, hints: [{ key: 1, state: new Uint8Array(1) }] }), false);
    assert.equal(isValidMessage({ type: 'replica-put', id: 1, key: 'k', state: new Uint8Array(1), hintFor: 7 }), false);
    assert.equal(isValidMessage({ type: 'hint-ack', id: -1 }), false);
  });
});
