/**
 * Every named bound in Gossamer, in one place to read. Each layer defines its own in one
 * constants module (the core may import nothing outside src/core), and this module gathers them;
 * change a bound where it is defined. test/core/constants.test.ts checks how they relate.
 */
export { CORE_LIMITS } from './core/constants.js';
export { HANDOFF_LIMITS } from './core/handoff/constants.js';
export { RUNTIME_LIMITS } from './runtime/constants.js';
export { STORAGE_LIMITS } from './storage/constants.js';
export * as TRANSPORT_LIMITS from './adapters/transport-constants.js';
export { MAX_CONTENT_TYPE_CHARS, MAX_KEY_BYTES, MAX_TIMEOUT_MS } from './api/http/params.js';
/** Older names of core bounds, kept for their importers (the same values as in CORE_LIMITS). */
export { MAX_CLOCK_ENTRIES, MAX_CLOUD_DOTS, MAX_CONTEXT_TOKEN_CHARS } from './core/clock/context.js';
export { PARTITION_COUNT_MAX } from './core/ring/hash.js';
