/** Hinted handoff: hint records, the hint store, replay to returning targets. See docs/handoff.md. */
export { HandoffProtocol } from './protocol.js';
export type { HandoffEnv, HandoffStats } from './protocol.js';
export { HintStore } from './hint-store.js';
export type { HintLimits, HintMeta, HintCounters } from './hint-store.js';
export { ALWAYS_ALIVE } from './detector.js';
export type { FailureDetector } from './detector.js';
export { HANDOFF_LIMITS } from './constants.js';
export { HINT_RANGE, crc32, decodeHintRecord, encodeHintRecord, hintKey, hintSeqOf, parseHintKey } from './records.js';
export type { HintRecord } from './records.js';
export type { HandoffMessage } from './messages.js';
export { HANDOFF_VALIDATORS } from './messages.js';
