/**
 * The dashboard: `GET /ui` is one static HTML page (inline CSS and JS, no build step, nothing
 * fetched from elsewhere) that polls `GET /ui/data`, a JSON snapshot of what this node sees:
 * members and their states, the ring's owners, hints pending, and client requests over the last
 * minutes. Sans-IO like the router: the server calls `uiResponse`.
 */
import type { DcGroup } from './dc-groups.js';
import { groupByDc } from './dc-groups.js';
import type { NodeService } from '../../../runtime/service.js';
import { HttpError } from '../errors.js';
import type { HttpResponse } from '../router.js';
import { DASHBOARD_HTML } from './page.js';
import type { SeriesPoint } from './series.js';

/** What the dashboard shows beyond the NodeService: filled in by the composition root. */
export interface UiSource {
  self(): { nodeId: string; loadBytes: number | null };
  /** null until hinted handoff reports it. */
  hintsPending(): number | null;
  series(): SeriesPoint[];
}

export interface UiData {
  nodeId: string;
  serving: boolean;
  timeMs: number;
  members: ReturnType<NodeService['members']>;
  /** The members grouped by data centre (the table shows them in these groups). */
  datacenters: DcGroup[];
  ring: { partitionCount: number; n: number; owners: readonly string[] } | null;
  self: { nodeId: string; loadBytes: number | null } | null;
  hintsPending: number | null;
  series: SeriesPoint[];
}

export function uiData(service: NodeService, source: UiSource | undefined, withRing: boolean, nowMs: number): UiData {
  const ring = withRing ? service.ring() : undefined;
  return {
    nodeId: service.nodeId,
    serving: service.isServing(),
    timeMs: nowMs,
    members: service.members(),
    datacenters: groupByDc(service.members(), service.defaults().replication),
    ring: ring ? { partitionCount: ring.partitionCount, n: ring.n, owners: ring.owners } : null,
    self: source ? { ...source.self(), nodeId: service.nodeId } : null,
    hintsPending: source ? source.hintsPending() : null,
    series: source ? source.series() : [],
  };
}

/** `/ui` and `/ui/data` (any other `/ui/...` is a 404). */
export function uiResponse(service: NodeService, source: UiSource | undefined, path: string, query: string): HttpResponse {
  if (path === '/ui' || path === '/ui/') {
    return {
      status: 200,
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
        // Nothing from elsewhere: the page must work offline and leak nothing.
        'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
      },
      body: DASHBOARD_HTML,
    };
  }
  if (path === '/ui/data') {
    const params = new URLSearchParams(query);
    const ringParam = params.get('ring');
    if (ringParam !== null && ringParam !== '0' && ringParam !== '1') throw new HttpError('bad_request', 'the parameter ring must be 0 or 1');
    const body = uiData(service, source, ringParam !== '0', Date.now());
    return { status: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: JSON.stringify(body) };
  }
  throw new HttpError('not_found', `no route ${path.length > 100 ? path.slice(0, 100) + '…' : path}`);
}
