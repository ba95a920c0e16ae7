import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import {
  FrameDecoder, FrameError, decodePayload, decodeWireMessage, encodeFrame, encodePayload,
} from '../../src/codec/frame.js';
import type { WireMessage } from '../../src/codec/frame.js';

const MAX = 1 << 20;
const peer = { nodeId: 'n1', address: '127.0.0.1:7000', dc: 'dc1', rack: 'r1', weight: 2 };

function frameOf(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

function split(frames: Uint8Array[], cuts: number[]): Uint8Array[] {
  const all = Buffer.concat(frames);
  const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((x, y) => x - y);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, all.length]) {
    chunks.push(all.subarray(at, p));
    at = p;
  }
  return chunks;
}

function decodeAll(chunks: Uint8Array[], max = MAX): WireMessage[] {
  const decoder = new FrameDecoder(max);
  const out: WireMessage[] = [];
  for (const c of chunks) decoder.push(c, (p) => out.push(decodeWireMessage(p)));
  assert.equal(decoder.bufferedBytes, 0);
  return out;
}

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof FrameError && e.code === code);
}

describe('frame codec', () => {
  const messages: WireMessage[] = [
    { kind: 'hello', version: 1, peer },
    { kind: 'envelope', envelope: { from: 'a', to: 'b', msg: { type: 'x', n: 1, list: [null, true, 'é'] } } },
    { kind: 'request', id: 42, envelope: { from: 'a', to: 'b', msg: { q: 1 } } },
    { kind: 'reply', id: 42, from: 'b', to: 'a', ok: false, body: { code: 'remote_error', message: 'm' } },
    { kind: 'reply', id: 7, from: 'b', to: 'a', ok: true, body: null },
  ];

  it('round-trips every wire message kind', () => {
    for (const m of messages) {
      const frame = encodeFrame(m, MAX);
      assert.equal(new DataView(frame.buffer, frame.byteOffset).getUint32(0), frame.length - 4);
      assert.deepEqual(decodeWireMessage(frame.subarray(4)), m);
    }
  });

  it('returns byte fields as Uint8Array copies that do not alias the frame', () => {
    const frame = encodeFrame({ kind: 'envelope', envelope: { from: 'a', to: 'b', msg: { v: new Uint8Array([1, 2, 3]) } } }, MAX);
    const got = decodeWireMessage(frame.subarray(4));
    assert.equal(got.kind, 'envelope');
    const v = (got.kind === 'envelope' ? got.envelope.msg : {}) as { v: Uint8Array };
    assert.ok(v.v instanceof Uint8Array);
    frame.fill(0);
    assert.deepEqual(Array.from(v.v), [1, 2, 3]);
    assert.notEqual(v.v.buffer, frame.buffer);
  });

  it('decodes many frames in one chunk and any split of them', () => {
    const frames = messages.map((m) => encodeFrame(m, MAX));
    assert.deepEqual(decodeAll([Buffer.concat(frames)]), messages);
    const total = Buffer.concat(frames).length;
    // Every single cut point, then random multi-cuts.
    for (let cut = 0; cut <= total; cut++) assert.deepEqual(decodeAll(split(frames, [cut])), messages);
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
      assert.deepEqual(decodeAll(split(frames, cuts)), messages);
    }), { numRuns: 300 });
  });

  it('decodes a large frame fed one byte at a time', () => {
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    const frame = encodeFrame({ kind: 'envelope', envelope: { from: 'a', to: 'b', msg: { big } } }, MAX);
    const decoder = new FrameDecoder(MAX);
    const got: WireMessage[] = [];
    for (let i = 0; i < frame.length; i++) decoder.push(frame.subarray(i, i + 1), (p) => got.push(decodeWireMessage(p)));
    assert.equal(got.length, 1);
    const m = got[0]!;
    assert.ok(m.kind === 'envelope' && Buffer.from((m.envelope.msg as { big: Uint8Array }).big).equals(big));
  });

  it('rejects a length over the limit as soon as the header arrives', () => {
    const decoder = new FrameDecoder(1000);
    const header = new Uint8Array([0, 0, 0x03, 0xe9]); // 1001
    decoder.push(header.subarray(0, 2), () => assert.fail('no frame'));
    throwsCode(() => decoder.push(header.subarray(2), () => assert.fail('no frame')), 'frame_too_large');
    throwsCode(() => new FrameDecoder(MAX).push(new Uint8Array([0xff, 0xff, 0xff, 0xff]), () => {}), 'frame_too_large');
    // Exactly at the limit is fine.
    const ok = frameOf(new Uint8Array(1000));
    let n = 0;
    new FrameDecoder(1000).push(ok, () => n++);
    assert.equal(n, 1);
  });

  it('refuses to encode a payload over the limit', () => {
    throwsCode(() => encodeFrame({ kind: 'envelope', envelope: { from: 'a', to: 'b', msg: { v: new Uint8Array(2000) } } }, 1000), 'frame_too_large');
  });

  it('rejects undecodable payloads', () => {
    throwsCode(() => decodeWireMessage(new Uint8Array([])), 'frame_undecodable');
    throwsCode(() => decodeWireMessage(new Uint8Array([0xd4])), 'frame_undecodable'); // truncated fixext
    assert.throws(() => decodeWireMessage(new Uint8Array([0xc1])), FrameError); // the never-used byte
    throwsCode(() => decodeWireMessage(new Uint8Array([0x93, 0x01])), 'frame_undecodable'); // truncated array
    const good = encodePayload([1, 'a', 'b', {}]);
    throwsCode(() => decodeWireMessage(Buffer.concat([good, Buffer.from([0])])), 'frame_undecodable'); // trailing bytes
    throwsCode(() => decodeWireMessage(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff])), 'frame_undecodable'); // huge array header
  });

  it('rejects payloads of the wrong shape', () => {
    const bad: unknown[] = [
      7, 'str', null, {}, [], { from: 'a', to: 'b', msg: {} },
      [9, 'a', 'b', {}],                       // unknown tag
      [1, 'a', 'b'],                           // envelope without msg
      [1, 'a', 'b', 5],                        // msg not an object
      [1, 'a', 'b', [1]],                      // msg an array
      [1, 'a', 2, {}],                         // to not a string
      [1, 'a', 'b', {}, 'extra'],
      [0, 1, { ...peer, weight: 'heavy' }],    // hello with a bad field
      [0, 1, { nodeId: '', address: 'x', dc: 'd', rack: 'r', weight: 1 }],
      [0, '1', peer],
      [2, -1, 'a', 'b', {}],                   // negative request id
      [2, 1.5, 'a', 'b', {}],
      [3, 1, 'a', 'b', 'yes', null],           // ok not a boolean
    ];
    for (const v of bad) throwsCode(() => decodeWireMessage(encodePayload(v)), 'frame_malformed');
  });

  it('keeps no msgpackr record state between payloads', () => {
    const withRecords = new Packr({ useRecords: true });
    const recordPayload = withRecords.pack([1, 'a', 'b', { x: 1, y: 2 }]);
    assert.deepEqual(decodeWireMessage(recordPayload), { kind: 'envelope', envelope: { from: 'a', to: 'b', msg: { x: 1, y: 2 } } });
    // 0x40..0x7f are plain positive fixints again in the next payload.
    assert.deepEqual(decodePayload(new Uint8Array([0x92, 0x40, 0x7f])), [64, 127]);
  });

  it('never throws anything but FrameError on random input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const decoder = new FrameDecoder(1 << 16);
      try {
        decoder.push(bytes, (p) => decodeWireMessage(p));
      } catch (e) {
        assert.ok(e instanceof FrameError, String(e));
      }
    }), { numRuns: 2000 });
  });
});
