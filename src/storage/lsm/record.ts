import type { WriteOp } from '../../ports/storage.js';

/**
 * A batch as one commit-log record payload:
 *   [u32 count] then per op [u32 keyLength][u32 valueLength, 0xFFFFFFFF = delete][key][value]
 */
const DELETE = 0xffffffff;

export function encodeBatch(batch: readonly WriteOp[]): Buffer {
  let size = 4;
  for (const op of batch) size += 8 + op.key.length + (op.value === null ? 0 : op.value.length);
  const buf = Buffer.allocUnsafe(size + 8);
  // 8 bytes of room for the log frame header, filled by the commit log.
  let p = 8;
  buf.writeUInt32LE(batch.length, p);
  p += 4;
  for (const op of batch) {
    buf.writeUInt32LE(op.key.length, p);
    buf.writeUInt32LE(op.value === null ? DELETE : op.value.length, p + 4);
    p += 8;
    buf.set(op.key, p);
    p += op.key.length;
    if (op.value !== null) {
      buf.set(op.value, p);
      p += op.value.length;
    }
  }
  return buf;
}

/** Calls `fn` for each op of a record payload; views point into `payload`. Throws if malformed. */
export function decodeBatch(payload: Buffer, fn: (key: Buffer, value: Buffer | null) => void): void {
  if (payload.length < 4) throw new Error('record too short');
  const count = payload.readUInt32LE(0);
  let p = 4;
  for (let i = 0; i < count; i++) {
    if (p + 8 > payload.length) throw new Error('record entry header overruns');
    const kl = payload.readUInt32LE(p);
    const vl = payload.readUInt32LE(p + 4);
    p += 8;
    const vlen = vl === DELETE ? 0 : vl;
    if (p + kl + vlen > payload.length) throw new Error('record entry overruns');
    const key = payload.subarray(p, p + kl);
    p += kl;
    const value = vl === DELETE ? null : payload.subarray(p, p + vlen);
    p += vlen;
    fn(key, value);
  }
  if (p !== payload.length) throw new Error('trailing bytes in record');
}
