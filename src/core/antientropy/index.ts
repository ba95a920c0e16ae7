/** Anti-entropy: Merkle trees per partition and the exchange state machine. See docs/antientropy.md. */
export { AntiEntropyProtocol } from './protocol.js';
export type { AntiEntropyEnv, AntiEntropySettings, AntiEntropyStats, RepairProgress } from './protocol.js';
export { ANTIENTROPY_LIMITS } from './constants.js';
export { Forest, PartitionTree, addHash, leafBitsFor, stateHash, subHash } from './tree.js';
export type { AntiEntropyMessage, SyncEntry } from './messages.js';
export { ANTIENTROPY_VALIDATORS, approxBytes } from './messages.js';
