/**
 * What a limiter decision looks like to clients (API.md "Rate limits"): the X-RateLimit-*
 * headers on every response to a limited route, the 429 body and headers of a refusal, and the
 * RESP error line.
 */
import type { RateDecision } from '../../core/ratelimit/types.js';

export const RATE_LIMIT_HEADERS = {
  limit: 'X-RateLimit-Limit',
  remaining: 'X-RateLimit-Remaining',
  /** Milliseconds (Retry-After has only whole seconds). */
  retryAfterMs: 'X-RateLimit-Retry-After',
  retryAfter: 'Retry-After',
} as const;

/** Whole seconds to wait, rounded up, at least 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/** The headers of a decision; empty when no rule matched the request. */
export function decisionHeaders(d: RateDecision): Record<string, string> {
  if (d.rule === undefined) return {};
  const h: Record<string, string> = {
    [RATE_LIMIT_HEADERS.limit]: String(d.limit),
    [RATE_LIMIT_HEADERS.remaining]: String(Math.max(0, Math.floor(d.remaining))),
  };
  if (!d.admitted) {
    h[RATE_LIMIT_HEADERS.retryAfter] = String(retryAfterSeconds(d.retryAfterMs));
    h[RATE_LIMIT_HEADERS.retryAfterMs] = String(Math.max(1, Math.ceil(d.retryAfterMs)));
  }
  return h;
}

export interface RefusalBody {
  error: 'rate_limited';
  message: string;
  rule: string;
  retryAfterMs: number;
}

export function refusalBody(d: RateDecision): RefusalBody {
  const rule = d.rule ?? 'unknown';
  return {
    error: 'rate_limited',
    message: `rate limit "${rule}" exceeded; retry after ${retryAfterSeconds(d.retryAfterMs)} s`,
    rule,
    retryAfterMs: Math.max(1, Math.ceil(d.retryAfterMs)),
  };
}

/** The RESP simple-error text (without the leading "-" and the CRLF). */
export function respRateLimitedError(retryAfterMs: number): string {
  return `ERR rate limited, retry after ${retryAfterSeconds(retryAfterMs)} s`;
}
