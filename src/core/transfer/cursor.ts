/**
 * A receiver's progress on one partition, kept in the `meta` keyspace under
 * `xfer/<transition id>/<partition>` and written in the same Ready as the chunk it follows, so
 * after a crash the node resumes from the last chunk it made durable (a chunk merged twice is
 * harmless: merging key states is a join).
 */
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../bytes.js';
import { metaKey } from '../keys.js';

export interface Cursor {
  /** The last storage key received (undefined: none yet). */
  readonly after: Uint8Array | undefined;
  readonly done: boolean;
  readonly keys: number;
  readonly bytes: number;
  /** 1: the first pass over the partition; 2: the catch-up pass. */
  readonly pass: 1 | 2;
}

export const EMPTY_CURSOR: Cursor = { after: undefined, done: false, keys: 0, bytes: 0, pass: 1 };

export function cursorKey(transitionId: string, partition: number): Uint8Array {
  return metaKey(`xfer/${transitionId}/${partition}`);
}

export function encodeCursor(c: Cursor): Uint8Array {
  return utf8(JSON.stringify({ after: c.after ? toBase64Url(c.after) : null, done: c.done, keys: c.keys, bytes: c.bytes, pass: c.pass }));
}

/** A damaged record reads as no progress (the partition is streamed again, which is safe). */
export function decodeCursor(raw: Uint8Array | undefined): Cursor {
  if (raw === undefined) return EMPTY_CURSOR;
  try {
    const o = JSON.parse(fromUtf8(raw)) as Record<string, unknown>;
    const count = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);
    return {
      after: typeof o['after'] === 'string' ? fromBase64Url(o['after']) : undefined,
      done: o['done'] === true, keys: count(o['keys']), bytes: count(o['bytes']), pass: o['pass'] === 2 ? 2 : 1,
    };
  } catch {
    return EMPTY_CURSOR;
  }
}
