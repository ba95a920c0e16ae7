/**
 * The handoff protocol's messages. A stand-in hands a hint back to the node it belongs to
 * (`hint-deliver`); the target merges it like any replica write and answers `hint-ack` in the
 * same Ready as the merge, so the hint is deleted only once the target holds it durably.
 */
export type HandoffMessage =
  | { readonly type: 'hint-deliver'; readonly id: number; readonly key: string; readonly state: Uint8Array }
  | { readonly type: 'hint-ack'; readonly id: number; readonly key: string };

export type HandoffMessageType = HandoffMessage['type'];

type Obj = Record<string, unknown>;

const isId = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): boolean => typeof v === 'string';

export const HANDOFF_VALIDATORS: { readonly [K in HandoffMessageType]: (m: Obj) => boolean } = {
  'hint-deliver': (m) => isId(m['id']) && isStr(m['key']) && m['state'] instanceof Uint8Array,
  'hint-ack': (m) => isId(m['id']) && isStr(m['key']),
};
