/**
 * `/admin/repair` (POST starts anti-entropy now, GET shows the latest repair's progress) and
 * `/admin/roots` (this node's Merkle root per partition it replicates). Sans-IO, like the router.
 */
import type { NodeService } from '../../runtime/service.js';
import { HttpError } from './errors.js';
import { strictParam } from './params.js';
import type { HttpResponse } from './router.js';

const json = (status: number, body: unknown): HttpResponse => ({
  status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
});

export function adminRepair(service: NodeService, method: string, query: string): HttpResponse {
  if (method === 'GET' || method === 'HEAD') {
    const p = service.repairProgress?.();
    if (!p) throw new HttpError('unavailable', 'the node is starting or shutting down');
    return json(200, { nodeId: service.nodeId, ...p });
  }
  if (method !== 'POST') {
    throw new HttpError('method_not_allowed', `${method} is not allowed here; use GET, HEAD, POST`, {}, { Allow: 'GET, HEAD, POST' });
  }
  const partition = parsePartition(service, query);
  const p = service.repair?.(partition);
  if (!p) throw new HttpError('unavailable', 'the node is starting or shutting down');
  return json(202, { nodeId: service.nodeId, ...(partition === undefined ? {} : { partition }), ...p });
}

export function adminRoots(service: NodeService, method: string): HttpResponse {
  if (method !== 'GET' && method !== 'HEAD') {
    throw new HttpError('method_not_allowed', `${method} is not allowed here; use GET, HEAD`, {}, { Allow: 'GET, HEAD' });
  }
  const roots = service.treeRoots?.();
  if (!roots) throw new HttpError('unavailable', 'the node is starting, or rebuilding its trees');
  return json(200, { nodeId: service.nodeId, roots });
}

function parsePartition(service: NodeService, query: string): number | undefined {
  const values = strictParam(query, 'partition');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new HttpError('bad_request', 'the parameter partition is given twice');
  const q = service.ring()?.partitionCount;
  if (q === undefined) throw new HttpError('unavailable', 'the ring is not known yet');
  const raw = values[0]!;
  const p = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(p) || p >= q) throw new HttpError('bad_request', `partition must be an integer in [0, ${q - 1}], got "${raw.slice(0, 40)}"`);
  return p;
}
