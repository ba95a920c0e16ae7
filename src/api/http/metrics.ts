/**
 * A minimal `/metrics` in the Prometheus text format: request counters by route, method and
 * status. The full metrics set (with a registry) is a later issue; the labels here are bounded
 * (routes are a fixed set, methods outside the known ones are folded into "other").
 */
import type { RouteName } from './router.js';

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS']);

export class HttpMetrics {
  private readonly counts = new Map<string, number>();
  /** More metric families rendered after these (e.g. the rate limiter's). */
  private readonly sources: Array<() => string> = [];

  addSource(render: () => string): void {
    this.sources.push(render);
  }

  count(route: RouteName, method: string, status: number): void {
    const m = METHODS.has(method) ? method : 'other';
    const k = `route="${route}",method="${m}",status="${status}"`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }

  render(): string {
    const lines = [
      '# HELP gossamer_http_requests_total HTTP requests answered, by route, method and status.',
      '# TYPE gossamer_http_requests_total counter',
    ];
    for (const k of [...this.counts.keys()].sort()) lines.push(`gossamer_http_requests_total{${k}} ${this.counts.get(k)}`);
    return lines.join('\n') + '\n' + this.sources.map((render) => render()).join('');
  }
}
