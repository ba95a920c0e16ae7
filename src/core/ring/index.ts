/** The ring: partitions, claims, preference lists (DC/rack aware). See docs/ring.md. */
export { keyHash, murmur3x86_32, partitionOf, partitionRange, isValidPartitionCount, PARTITION_COUNT_MAX } from './hash.js';
export type { PartitionRange } from './hash.js';
export { RingError } from './types.js';
export type { RingMember, RingOptions } from './types.js';
export {
  Ring, createRing, rebalance, restoreRing, preferenceList, preferenceListForKey, partitionForKey, targetsOf, partitionCounts,
} from './ring.js';
export type { RingSnapshot } from './ring.js';
export { claimTargets } from './claim.js';
export { ownership, replicaCounts, loadStats, movedPartitions, movedReplicas, ownerChanges } from './stats.js';
export type { LoadStats, OwnerChange } from './stats.js';
