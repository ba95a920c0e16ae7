/**
 * A key's UTF-8 bytes, ring hash and storage key, computed once per key in a row: one request
 * asks for them five times or more (preference list, stand-ins, local read, local write), and a
 * burst of requests batched into one Ready often repeats a key. The arrays returned are shared:
 * callers read them and never write into them.
 */
import { utf8 } from '../bytes.js';
import { dataKeyFromBytes } from '../keys.js';
import { keyHash } from '../ring/index.js';

export interface KeyFacts {
  readonly bytes: Uint8Array;
  /** keyHash(bytes): the ring's position of the key. */
  readonly hash: number;
  /** The key's storage key in the data space. */
  readonly dataKey: Uint8Array;
}

let lastKey: string | undefined;
let lastFacts: KeyFacts | undefined;

export function keyFacts(key: string): KeyFacts {
  if (key === lastKey && lastFacts) return lastFacts;
  const bytes = utf8(key);
  const hash = keyHash(bytes);
  lastFacts = { bytes, hash, dataKey: dataKeyFromBytes(bytes, hash) };
  lastKey = key;
  return lastFacts;
}
