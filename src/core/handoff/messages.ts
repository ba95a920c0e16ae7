/**
 * The handoff protocol's messages. A stand-in hands hints back to the node they belong to, a
 * batch at a time (`hint-deliver`, in the order they were accepted); the target merges each like
 * any replica write and answers `hint-ack` in the same Ready as the merges, so the hints are
 * deleted only once the target holds them durably.
 */
export interface DeliveredHint {
  readonly key: string;
  readonly state: Uint8Array;
}

export type HandoffMessage =
  | { readonly type: 'hint-deliver'; readonly id: number; readonly hints: readonly DeliveredHint[] }
  | { readonly type: 'hint-ack'; readonly id: number };

export type HandoffMessageType = HandoffMessage['type'];

import { HANDOFF_LIMITS } from './constants.js';

type Obj = Record<string, unknown>;

const isId = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): boolean => typeof v === 'string';

export const HANDOFF_VALIDATORS: { readonly [K in HandoffMessageType]: (m: Obj) => boolean } = {
  'hint-deliver': (m) => isId(m['id']) && Array.isArray(m['hints']) && m['hints'].length <= HANDOFF_LIMITS.deliveryBatchHintsMax
    && m['hints'].every((h: unknown) => typeof h === 'object' && h !== null && isStr((h as Obj)['key']) && (h as Obj)['state'] instanceof Uint8Array),
  'hint-ack': (m) => isId(m['id']),
};
