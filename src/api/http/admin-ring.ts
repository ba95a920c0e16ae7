/**
 * Changing the ring over HTTP (sans-IO, like the router): `POST /admin/join`, `/admin/leave`,
 * `/admin/removenode/{id}`, `/admin/commit`, `/admin/clear`; `GET /admin/plan` and
 * `/admin/transition`. Each is one `NodeService.admin` operation of the node addressed; the
 * answer comes once the document it made is durable. Refusals are the core's, mapped to
 * 400/404/409/503 (docs/membership.md). Under `tokensFile` every `/admin/*` route needs `admin`.
 */
import type { AdminOp } from '../../core/membership/admin.js';
import type { NodeService } from '../../runtime/service.js';
import type { AdminReply } from '../../runtime/ring-admin.js';
import { HttpError, STATUS_OF } from './errors.js';
import type { HttpResponse } from './router.js';

const json = (status: number, body: unknown): HttpResponse => ({
  status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
});

const ROUTES: Record<string, { method: 'GET' | 'POST'; op: AdminOp }> = {
  '/admin/join': { method: 'POST', op: { op: 'stage-join' } },
  '/admin/leave': { method: 'POST', op: { op: 'stage-leave' } },
  '/admin/plan': { method: 'GET', op: { op: 'plan' } },
  '/admin/commit': { method: 'POST', op: { op: 'commit' } },
  '/admin/clear': { method: 'POST', op: { op: 'clear' } },
  '/admin/transition': { method: 'GET', op: { op: 'transition' } },
};

const REMOVE_PREFIX = '/admin/removenode/';

/** Whether `path` is one of these routes (the router asks before it falls through to 404). */
export function isRingAdminPath(path: string): boolean {
  return Object.hasOwn(ROUTES, path) || path.startsWith(REMOVE_PREFIX) || path === '/admin/removenode';
}

export function adminRing(service: NodeService, method: string, path: string): Promise<HttpResponse> | HttpResponse {
  const route = routeOf(path);
  const allowed = route.method === 'GET' ? ['GET', 'HEAD'] : ['POST'];
  if (!allowed.includes(method)) {
    throw new HttpError('method_not_allowed', `${method} is not allowed here; use ${allowed.join(', ')}`, {}, { Allow: allowed.join(', ') });
  }
  if (!service.admin) throw new HttpError('unavailable', 'this node does not offer ring administration');
  return service.admin(route.op).then(answer);
}

function routeOf(path: string): { method: 'GET' | 'POST'; op: AdminOp } {
  const fixed = ROUTES[path];
  if (fixed) return fixed;
  const raw = path.startsWith(REMOVE_PREFIX) ? path.slice(REMOVE_PREFIX.length) : '';
  if (raw === '' || raw.includes('/')) throw new HttpError('bad_request', 'name the node to remove: POST /admin/removenode/{nodeId}');
  let nodeId: string;
  try {
    nodeId = decodeURIComponent(raw);
  } catch {
    throw new HttpError('bad_request', 'the node id is not valid percent-encoded UTF-8');
  }
  return { method: 'POST', op: { op: 'stage-remove', nodeId } };
}

/** The core's answer as JSON: the result without `ok`, or the refusal with its status (API.md's error body). */
function answer(r: AdminReply): HttpResponse {
  if (!r.ok) return json(STATUS_OF[r.error], { error: r.error, message: r.message });
  const { ok: _ok, ...body } = r;
  return json(200, body);
}

/** What `/cluster` adds about the document: version, staged changes, the transition's progress. */
export function clusterDocFields(service: NodeService, s = service.ringState?.()): Record<string, unknown> {
  if (!s) return {};
  const t = s.transition;
  return {
    clusterId: s.clusterId, version: s.version, staged: s.staged,
    transition: t ? { members: t.members, movingPartitions: t.moving.length, donePartitions: t.done.length } : null,
  };
}

/** What `/ring` adds: the same, and for each partition the transition changes, its next preference list. */
export function ringDocFields(service: NodeService): { fields: Record<string, unknown>; next?: (p: number, now: readonly string[]) => Record<string, unknown> } {
  const s = service.ringState?.();
  if (!s) return { fields: {} };
  const t = s.transition;
  const fields = clusterDocFields(service, s);
  if (!t) return { fields };
  const next = (p: number, now: readonly string[]): Record<string, unknown> => {
    const list = t.preferenceList(p);
    return list.length === now.length && list.every((id, i) => id === now[i]) ? {} : { next: { owner: t.owners[p] ?? null, preferenceList: list } };
  };
  return { fields, next };
}
