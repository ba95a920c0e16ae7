/**
 * The shapes of the rate limiter: a rule as configured (API.md "Rate limits"), and what the
 * limiter answers for one request. Pure data; the config file's schema (src/cli/config.ts)
 * validates rules into this shape.
 */

export type RateAlgorithm =
  | 'token_bucket' | 'leaky_bucket' | 'fixed_window' | 'sliding_window_log' | 'sliding_window_counter';

export const RATE_ALGORITHMS: readonly RateAlgorithm[] = [
  'token_bucket', 'leaky_bucket', 'fixed_window', 'sliding_window_log', 'sliding_window_counter',
];

export interface RateLimitMatch {
  /** An IPv4 or IPv6 address or CIDR block; omitted = every client. */
  clientIp?: string;
  /** A request header whose value keys the limit (per API key) when present. */
  apiKeyHeader?: string;
  /** Prefixes of `"METHOD /path"` or `"RESP COMMAND"`; omitted = everything. */
  routes?: string[];
}

export interface RateLimitRule {
  name: string;
  match?: RateLimitMatch;
  algorithm: RateAlgorithm;
  /** Requests per `windowMs` (the refill or outflow rate of the buckets). */
  limit: number;
  windowMs: number;
  /** Bucket or queue size; defaults to `limit`. */
  burst?: number;
  scope?: 'node' | 'cluster';
  mode?: 'hard' | 'soft';
  /** How far over the limit a soft rule lets short bursts go, in percent (default 10). */
  softPercent?: number;
  /** Distinct keys (clients) tracked at once by this rule on one node (default 100,000). */
  keysMax?: number;
}

/** What one request sees: the route string and who sent it. */
export interface RequestFacts {
  /** `"GET /kv/a"` or `"RESP SET"`. */
  route: string;
  /** Another name the route also answers to: a HEAD request is matched as its GET too. */
  routeAlias?: string;
  /** The client address as the socket reports it (IPv4-mapped IPv6 is accepted). */
  clientIp: string;
  /** Looks up a request header by its lower-case name (HTTP); absent for RESP. */
  header?: (nameLc: string) => string | undefined;
}

/** The limiter's answer for one request. */
export interface RateDecision {
  admitted: boolean;
  /** Leaky bucket: how long the shell must hold an admitted request before serving it. */
  delayMs: number;
  /** Refused: when the request would pass (the longest wait among the refusing rules). */
  retryAfterMs: number;
  /** The matching rule with the least remaining (for the X-RateLimit-* headers); undefined: no rule matched. */
  rule: string | undefined;
  limit: number;
  remaining: number;
}
