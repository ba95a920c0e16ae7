/** Partition transfer: moving data while the ring changes (docs/membership.md, "Partition transfer"). */
export { TRANSFER_LIMITS, transferSettings } from './constants.js';
export type { TransferBug, TransferOptions, TransferSettings } from './constants.js';
export { TRANSFER_VALIDATORS } from './messages.js';
export type { TransferMessage, TransferMessageType } from './messages.js';
export { TransferProtocol } from './protocol.js';
export type { PartitionState, TransferEnv, TransferProgress, TransferStats } from './protocol.js';
export { allDone, flipped, markedTransition, movingPartitions, newReplicas, sourcesFor, transitionId, viewOf } from './plan.js';
export type { TransitionView } from './plan.js';
export { cursorKey, decodeCursor, encodeCursor } from './cursor.js';
export type { Cursor } from './cursor.js';
