/** The rate limiter in the shell: the per-node service, the HTTP gate, reloads, responses. */
export { RateLimitService } from './service.js';
export type { PeerLink, RateLimitServiceOptions, RateLimitStats, RespRateCheck } from './service.js';
export { createHttpRateGate, normaliseClientIp } from './http-gate.js';
export type { GateResult, HttpRateGate } from './http-gate.js';
export { RATE_LIMIT_HEADERS, decisionHeaders, refusalBody, respRateLimitedError, retryAfterSeconds } from './responses.js';
