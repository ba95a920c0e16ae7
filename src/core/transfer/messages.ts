/**
 * Partition transfer's messages and their strict validator (a malformed one is dropped by the
 * runtime before the core sees it).
 *
 * - `xfer-pull`: a new replica asks a source for the next chunk of `partition`, strictly after
 *   the storage key `after` (null: from the start), at most `bytesMax` / `keysMax`.
 * - `xfer-chunk`: the source's answer: `entries` of [storage key, encoded key state], and `next`,
 *   the cursor to resume from (null: the partition is done).
 * - `xfer-refuse`: the source cannot serve the pull (not a replica of the partition, no ring).
 * - `xfer-doc`: a cluster document (encoded as stored), installed by the receiver if it wins.
 */
import { CORE_LIMITS } from '../constants.js';
import { TRANSFER_LIMITS } from './constants.js';

export type TransferMessage =
  | {
    readonly type: 'xfer-pull'; readonly id: number; readonly partition: number; readonly after: Uint8Array | null;
    readonly bytesMax: number; readonly keysMax: number;
  }
  | {
    readonly type: 'xfer-chunk'; readonly id: number; readonly partition: number;
    readonly entries: readonly (readonly [Uint8Array, Uint8Array])[]; readonly next: Uint8Array | null;
  }
  | { readonly type: 'xfer-refuse'; readonly id: number; readonly partition: number; readonly reason: string }
  /** `id` is 0 (a push, nothing answers it); every message carries one. */
  | { readonly type: 'xfer-doc'; readonly id: number; readonly meta: Uint8Array };

export type TransferMessageType = TransferMessage['type'];

type Obj = Record<string, unknown>;

const isId = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isPartition = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < CORE_LIMITS.partitionCountMax;
const isPosInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const isCursor = (v: unknown): boolean => v === null || (v instanceof Uint8Array && v.length >= 1 && v.length <= TRANSFER_LIMITS.cursorBytesMax);

function isEntries(v: unknown): boolean {
  if (!Array.isArray(v) || v.length > TRANSFER_LIMITS.chunkKeysMax) return false;
  return v.every((e) => Array.isArray(e) && e.length === 2 && e[0] instanceof Uint8Array && e[0].length <= TRANSFER_LIMITS.cursorBytesMax && e[1] instanceof Uint8Array);
}

export const TRANSFER_VALIDATORS: { readonly [K in TransferMessageType]: (m: Obj) => boolean } = {
  'xfer-pull': (m) => isId(m['id']) && isPartition(m['partition']) && isCursor(m['after']) && isPosInt(m['bytesMax']) && isPosInt(m['keysMax']),
  'xfer-chunk': (m) => isId(m['id']) && isPartition(m['partition']) && isEntries(m['entries']) && isCursor(m['next']),
  'xfer-refuse': (m) => isId(m['id']) && isPartition(m['partition']) && typeof m['reason'] === 'string' && m['reason'].length <= TRANSFER_LIMITS.reasonCharsMax,
  'xfer-doc': (m) => isId(m['id']) && m['meta'] instanceof Uint8Array && m['meta'].length <= CORE_LIMITS.ringMetaBytesMax,
};
