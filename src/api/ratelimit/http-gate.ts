/**
 * The limiter at the HTTP door: the server asks `admit` before routing a request, sets the
 * headers it gets on whatever response follows, and answers the refusal (429) or holds the
 * request `delayMs` (leaky bucket) before serving it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RateLimitService } from './service.js';
import { decisionHeaders, refusalBody } from './responses.js';

export interface GateResult {
  /** X-RateLimit-* headers for the response (empty when no rule matched). */
  headers: Record<string, string>;
  /** Set when refused: the 429 to send. */
  refusal?: { status: 429; headers: Record<string, string>; body: string };
  delayMs: number;
}

export interface HttpRateGate {
  admit(method: string, url: string, remoteAddress: string | undefined, headers: IncomingHttpHeaders): GateResult;
  /** Prometheus lines for /metrics. */
  renderMetrics(): string;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`: one client, one key, whichever way the socket reports it. */
export function normaliseClientIp(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

/** The answer when no rule is configured: shared, never mutated (the request path allocates nothing). */
const NO_RULES: GateResult = Object.freeze({ headers: Object.freeze({}) as Record<string, string>, delayMs: 0 });

export function createHttpRateGate(service: RateLimitService): HttpRateGate {
  return {
    admit(method, url, remoteAddress, headers): GateResult {
      // Most nodes run without rules: skip building the request's facts (route string, header reader).
      if (service.currentRules().length === 0) return NO_RULES;
      try {
        return judge(method, url, remoteAddress, headers);
      } catch {
        // Fail-open: the limiter is never why a request fails.
        service.limiter.noteFailOpen();
        return { headers: {}, delayMs: 0 };
      }
    },
    renderMetrics: () => service.renderMetrics(),
  };

  function judge(method: string, url: string, remoteAddress: string | undefined, headers: IncomingHttpHeaders): GateResult {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const d = service.check({
      route: `${method} ${path}`,
      // HEAD is GET without the body: a rule on "GET /kv" must not be dodged by HEAD.
      ...(method === 'HEAD' ? { routeAlias: `GET ${path}` } : {}),
      clientIp: normaliseClientIp(remoteAddress),
      header: (name) => {
        const v = headers[name];
        return Array.isArray(v) ? v[0] : v;
      },
    });
    const h = decisionHeaders(d);
    if (d.admitted) return { headers: h, delayMs: d.delayMs };
    return {
      headers: h,
      delayMs: 0,
      refusal: { status: 429, headers: { 'Content-Type': 'application/json', ...h }, body: JSON.stringify(refusalBody(d)) },
    };
  }
}
