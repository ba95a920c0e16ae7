/**
 * Inter-node wire framing: a frame is a 4-byte big-endian payload length followed by the payload,
 * a MessagePack value encoded with msgpackr in plain mode (no records, no shared structures, so
 * every frame decodes alone and no state leaks from one connection to another). Byte fields
 * (Uint8Array) travel as MessagePack `bin` and come back as Uint8Array (Node Buffers), copied out
 * of the frame so a small field never pins a large socket chunk.
 *
 * The payload is a small tagged array, cheaper than an object with repeated keys:
 *   [0, version, peerInfo, nonce?]          hello, the first frame each side sends; a node with
 *                                           a cluster secret adds a fresh 16..64-byte nonce
 *   [4, proof]                              auth: HMAC proof of the secret, right after the hello
 *   [1, from, to, msg]                      envelope (fire and forget)
 *   [2, id, from, to, msg]                  request (the optional RPC on top)
 *   [3, id, from, to, ok, body]             reply to a request
 *
 * Pure: no node:* imports, limits are parameters (the adapters pass their named constants).
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Envelope, PeerInfo } from '../ports/index.js';
import { CORE_LIMITS } from '../core/constants.js';

export const FRAME_TAG_HELLO = 0;
export const FRAME_TAG_ENVELOPE = 1;
export const FRAME_TAG_REQUEST = 2;
export const FRAME_TAG_REPLY = 3;
export const FRAME_TAG_AUTH = 4;
/** Bounds of the hello's nonce and the auth frame's proof (bytes). */
export const AUTH_NONCE_BYTES_MIN = 16;
export const AUTH_BYTES_MAX = 64;

export type WireMessage =
  | { kind: 'hello'; version: number; peer: PeerInfo; nonce?: Uint8Array }
  | { kind: 'auth'; proof: Uint8Array }
  | { kind: 'envelope'; envelope: Envelope }
  | { kind: 'request'; id: number; envelope: Envelope }
  | { kind: 'reply'; id: number; from: string; to: string; ok: boolean; body: unknown };

export type FrameErrorCode = 'frame_too_large' | 'frame_undecodable' | 'frame_malformed';

export class FrameError extends Error {
  readonly code: FrameErrorCode;
  constructor(code: FrameErrorCode, message: string) {
    super(message);
    this.name = 'FrameError';
    this.code = code;
  }
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, useFloat32: 0 });
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  copyBuffers: true,
  int64AsType: 'number',
});

/** Encodes any msgpack-able value (the codec of the payload, exposed for the benchmark). */
export function encodePayload(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes one whole payload; trailing bytes or truncation are errors. */
export function decodePayload(payload: Uint8Array): unknown {
  try {
    return unpackr.unpack(payload);
  } catch (err) {
    // msgpackr may quote the decoded data in its message: keep log lines short.
    throw new FrameError('frame_undecodable', `undecodable payload: ${String((err as Error).message).slice(0, 120)}`);
  }
}

function wireArray(message: WireMessage): unknown[] {
  switch (message.kind) {
    case 'hello':
      return message.nonce !== undefined
        ? [FRAME_TAG_HELLO, message.version, message.peer, message.nonce]
        : [FRAME_TAG_HELLO, message.version, message.peer];
    case 'auth':
      return [FRAME_TAG_AUTH, message.proof];
    case 'envelope':
      return [FRAME_TAG_ENVELOPE, message.envelope.from, message.envelope.to, message.envelope.msg];
    case 'request':
      return [FRAME_TAG_REQUEST, message.id, message.envelope.from, message.envelope.to, message.envelope.msg];
    case 'reply':
      return [FRAME_TAG_REPLY, message.id, message.from, message.to, message.ok, message.body];
  }
}

/**
 * Encodes a message as one frame (header + payload). Throws `frame_too_large` when the payload
 * exceeds `payloadBytesMax`, so a sender never emits a frame its peers would refuse.
 */
export function encodeFrame(message: WireMessage, payloadBytesMax: number): Uint8Array {
  const payload = packr.pack(wireArray(message));
  if (payload.length > payloadBytesMax) {
    throw new FrameError('frame_too_large', `frame payload of ${payload.length} bytes exceeds ${payloadBytesMax}`);
  }
  // msgpackr returns a view into its shared, growing buffer: copy it out behind the header.
  const frame = new Uint8Array(4 + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length, false);
  frame.set(payload, 4);
  return frame;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function isPeerInfo(v: unknown): v is PeerInfo {
  return isObject(v)
    && typeof v['nodeId'] === 'string' && v['nodeId'].length > 0
    && typeof v['address'] === 'string'
    && typeof v['dc'] === 'string'
    && typeof v['rack'] === 'string'
    && typeof v['weight'] === 'number' && v['weight'] >= 0 && v['weight'] <= CORE_LIMITS.memberWeightMax
    && (v['http'] === undefined || typeof v['http'] === 'string');
}

function isAuthBytes(v: unknown, bytesMin: number): v is Uint8Array {
  return v instanceof Uint8Array && v.length >= bytesMin && v.length <= AUTH_BYTES_MAX;
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function malformed(what: string): never {
  throw new FrameError('frame_malformed', `malformed frame: ${what}`);
}

/** Decodes and checks the shape of one payload. Throws FrameError on anything unexpected. */
export function decodeWireMessage(payload: Uint8Array): WireMessage {
  const value = decodePayload(payload);
  if (!Array.isArray(value) || value.length === 0) malformed('not a tagged array');
  const [tag] = value as unknown[];
  switch (tag) {
    case FRAME_TAG_HELLO: {
      const [, version, peer, nonce] = value as unknown[];
      if ((value.length !== 3 && value.length !== 4) || typeof version !== 'number' || !isPeerInfo(peer)) malformed('bad hello');
      if (value.length === 4 && !isAuthBytes(nonce, AUTH_NONCE_BYTES_MIN)) malformed('bad hello nonce');
      const { nodeId, address, dc, rack, weight, http } = peer;
      const info = { nodeId, address, dc, rack, weight, ...(http !== undefined ? { http } : {}) };
      return { kind: 'hello', version, peer: info, ...(value.length === 4 ? { nonce: nonce as Uint8Array } : {}) };
    }
    case FRAME_TAG_AUTH: {
      const [, proof] = value as unknown[];
      if (value.length !== 2 || !isAuthBytes(proof, 1)) malformed('bad auth');
      return { kind: 'auth', proof };
    }
    case FRAME_TAG_ENVELOPE: {
      const [, from, to, msg] = value as unknown[];
      if (value.length !== 4 || typeof from !== 'string' || typeof to !== 'string' || !isObject(msg)) {
        malformed('bad envelope');
      }
      return { kind: 'envelope', envelope: { from, to, msg } };
    }
    case FRAME_TAG_REQUEST: {
      const [, id, from, to, msg] = value as unknown[];
      if (value.length !== 5 || !isId(id) || typeof from !== 'string' || typeof to !== 'string' || !isObject(msg)) {
        malformed('bad request');
      }
      return { kind: 'request', id, envelope: { from, to, msg } };
    }
    case FRAME_TAG_REPLY: {
      const [, id, from, to, ok, body] = value as unknown[];
      if (value.length !== 6 || !isId(id) || typeof from !== 'string' || typeof to !== 'string' || typeof ok !== 'boolean') {
        malformed('bad reply');
      }
      return { kind: 'reply', id, from, to, ok, body };
    }
    default:
      return malformed(`unknown tag ${String(tag)}`);
  }
}

/**
 * Streaming frame splitter: feed it socket chunks in order, it calls `onPayload` for each whole
 * payload. Handles frames split across chunks and many frames per chunk; copies only when a frame
 * spans chunks (once per frame, not once per chunk). Memory is bounded by one maximal frame plus
 * one chunk. After it throws, the stream is unusable: close the connection.
 */
export class FrameDecoder {
  private parts: Uint8Array[] = [];
  private partsBytes = 0;
  /** Bytes (header included) of the frame being assembled from `parts`; 0 while unknown. */
  private frameBytes = 0;

  constructor(private readonly payloadBytesMax: number) {}

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.partsBytes;
  }

  push(chunk: Uint8Array, onPayload: (payload: Uint8Array) => void): void {
    if (chunk.length === 0) return;
    let data: Uint8Array;
    if (this.partsBytes === 0) {
      data = chunk;
    } else {
      this.parts.push(chunk);
      this.partsBytes += chunk.length;
      if (this.frameBytes === 0) {
        if (this.partsBytes < 4) return;
        const head = concat(this.parts, this.partsBytes);
        this.parts = [head];
        this.frameBytes = 4 + this.readLength(head, 0);
      }
      if (this.partsBytes < this.frameBytes) return;
      data = concat(this.parts, this.partsBytes);
      this.parts = [];
      this.partsBytes = 0;
      this.frameBytes = 0;
    }
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = this.readLength(data, offset);
      if (data.length - offset - 4 < length) break;
      const start = offset + 4;
      offset = start + length;
      onPayload(data.subarray(start, offset));
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.parts = [rest];
      this.partsBytes = rest.length;
      this.frameBytes = rest.length >= 4 ? 4 + this.readLength(rest, 0) : 0;
    }
  }

  private readLength(data: Uint8Array, offset: number): number {
    const length = ((data[offset]! << 24) >>> 0) + (data[offset + 1]! << 16) + (data[offset + 2]! << 8) + data[offset + 3]!;
    if (length > this.payloadBytesMax) {
      throw new FrameError('frame_too_large', `frame length ${length} exceeds ${this.payloadBytesMax}`);
    }
    return length;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
