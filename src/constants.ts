/**
 * Every named bound in Gossamer, in one place to read. Each layer defines its own (the core may
 * import nothing outside src/core), and this module gathers them; change a bound where it is
 * defined.
 */
export { MAX_CLOCK_ENTRIES, MAX_CLOUD_DOTS, MAX_CONTEXT_TOKEN_CHARS } from './core/clock/context.js';
export { PARTITION_COUNT_MAX } from './core/ring/hash.js';
export { RUNTIME_LIMITS } from './runtime/constants.js';
export { STORAGE_LIMITS } from './storage/constants.js';
export * as TRANSPORT_LIMITS from './adapters/transport-constants.js';
export { MAX_CONTENT_TYPE_CHARS, MAX_KEY_BYTES, MAX_TIMEOUT_MS } from './api/http/params.js';
