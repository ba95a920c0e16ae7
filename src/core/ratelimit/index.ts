/** The rate limiter's pure core: algorithms, key tables, rules, and the cluster sync state machine. */
export * from './types.js';
export * from './algorithms.js';
export { KeyTable, EVICTION_SCAN_MAX } from './key-table.js';
export { parseIp, parseCidr, cidrContains } from './cidr.js';
export type { Cidr } from './cidr.js';
export { RateLimiter, RATE_LIMIT_DEFAULTS } from './limiter.js';
export type { LimiterStats, RuleStats, ShareSource } from './limiter.js';
export {
  RateLimitSync, SYNC_DEFAULTS, RL_DEMAND, RL_PROTOCOL_VERSION, isRateLimitMessage, isValidRlMessage,
} from './sync.js';
export type { DemandEntry, Outgoing, RlMessage, SyncOptions, SyncStats } from './sync.js';
