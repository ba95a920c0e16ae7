/** Byte helpers shared by the engines. */

/** A Buffer view of the same memory (no copy). */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * A string whose code units are the bytes: JavaScript string order then equals unsigned byte
 * order, so it can key an ordinary sorted map.
 */
export function toLatin1(u: Uint8Array): string {
  // Short keys (every point read and write): one call, no Buffer view allocated (2× faster).
  if (u.length <= LATIN1_DIRECT_MAX) return String.fromCharCode.apply(null, u as unknown as number[]);
  return asBuffer(u).toString('latin1');
}

/** Up to this many bytes, toLatin1 passes the bytes to String.fromCharCode at once (well under any argument limit). */
const LATIN1_DIRECT_MAX = 256;

export function fromLatin1(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** A private copy (callers may not mutate engine memory, nor the engine theirs). */
export function copyBytes(u: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(u);
}

/**
 * Unsigned byte order of `a` against `b[bStart, bEnd)`. A plain loop: for keys of tens of
 * bytes it beats Buffer#compare, whose native call and argument checks dominate (measured on
 * the get path).
 */
export function compareRange(a: Uint8Array, b: Uint8Array, bStart: number, bEnd: number): number {
  const bl = bEnd - bStart;
  const n = a.length < bl ? a.length : bl;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[bStart + i]!;
    if (d !== 0) return d;
  }
  return a.length - bl;
}

export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return compareRange(a, b, 0, b.length);
}
