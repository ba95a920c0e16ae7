/**
 * Routing and the handlers of API.md, independent of node:http: a request line and headers go
 * in, a Plan comes out — either a response, or "read a body of at most N bytes, then call this".
 * The server (server.ts) owns the sockets and streams; everything here can be driven by a test
 * with a fake NodeService.
 */
import { groupByDc } from './ui/dc-groups.js';
import type { ClientReply, Consistency, ErrorResult, GetOp } from '../../core/types.js';
import type { Version } from '../../core/clock/state.js';
import { encodeContextToken } from '../../core/clock/context.js';
import type { NodeService } from '../../runtime/service.js';
import { HttpError } from './errors.js';
import { supersedingDelete } from '../superseding-delete.js';
import type { SupersedingDeleteResult } from '../superseding-delete.js';
import {
  checkKey, decodeKey, parseContentType, parseContextHeader, parseKvParams, strictParam,
} from './params.js';
import type { UiSource } from './ui/index.js';
import { uiResponse } from './ui/index.js';
import { adminRepair, adminRoots } from './admin-repair.js';
import { adminRing, clusterDocFields, isRingAdminPath, ringDocFields } from './admin-ring.js';

export const CONTEXT_HEADER = 'X-Gossamer-Context';
const CONTEXT_HEADER_LC = 'x-gossamer-context';

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body?: Uint8Array | string;
}

export type Headers = Record<string, string | string[] | undefined>;

export type Plan =
  /** `nodeAnswer`: a response the node gave synchronously, written at the end of the turn with the node's other answers (TurnWrites). */
  | { readonly kind: 'respond'; readonly response: HttpResponse | Promise<HttpResponse>; readonly nodeAnswer?: boolean }
  | { readonly kind: 'body'; readonly maxBytes: number; readonly handle: (body: Uint8Array) => Promise<HttpResponse> };

export interface RouterOptions {
  /** Overrides the service's `maxValueBytes`. */
  maxValueBytes?: number;
  /** Extra time granted to the node past the request's own timeout before the API gives up on it. */
  replyGraceMs?: number;
  /** Called with unexpected exceptions (bugs); the client gets a 500. */
  onBug?: (err: unknown, where: string) => void;
  /** What the dashboard (/ui) shows beyond the service: load, hints, recent traffic. */
  ui?: UiSource;
}

/** Route names used as a bounded metrics label. */
export type RouteName = 'kv' | 'health' | 'cluster' | 'ring' | 'admin' | 'metrics' | 'ui' | 'other';

export function routeName(path: string): RouteName {
  if (path.startsWith('/kv/')) return 'kv';
  if (path === '/health') return 'health';
  if (path === '/cluster') return 'cluster';
  if (path === '/ring') return 'ring';
  if (path.startsWith('/admin/')) return 'admin';
  if (path === '/metrics') return 'metrics';
  if (path === '/ui' || path.startsWith('/ui/') || path.startsWith('/ui?')) return 'ui';
  return 'other';
}

const JSON_TYPE = 'application/json';

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

export function errorResponse(err: HttpError): HttpResponse {
  return jsonResponse(err.status, { error: err.code, message: err.message, ...err.extra }, err.headers);
}

function respond(response: HttpResponse | Promise<HttpResponse>): Plan {
  return { kind: 'respond', response };
}

function methodNotAllowed(method: string, allowed: readonly string[]): HttpError {
  return new HttpError('method_not_allowed', `${method} is not allowed here; use ${allowed.join(', ')}`,
    {}, { Allow: allowed.join(', ') });
}

function b64(v: Uint8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

function isoOf(tsMs: number): string {
  const d = new Date(tsMs);
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString();
}

/** Maps a node's refusal to its HTTP form (the status and body of API.md). */
export function replyError(r: ErrorResult): HttpResponse {
  const extra: Record<string, unknown> = {};
  if (r.error === 'insufficient_replicas') {
    extra.required = r.required ?? 0;
    extra.received = r.received ?? 0;
  }
  return errorResponse(new HttpError(r.error, r.message, extra));
}

function unexpectedReply(reply: ClientReply): HttpError {
  return new HttpError('internal_error', `the node gave an unexpected reply (${reply.ok ? reply.op : 'error'})`);
}

/** The GET answer: one live version → 200; several (live or not) → 300; none live → 404. */
export function getResponse(siblings: readonly Version[], contextToken: string, head: boolean): HttpResponse {
  const hasContext = siblings.length > 0;
  const ctxHeader: Record<string, string> = hasContext ? { [CONTEXT_HEADER]: contextToken } : {};
  const live = siblings.filter((v) => v.value !== null);
  if (live.length === 0) return { status: 404, headers: ctxHeader };
  if (siblings.length === 1) {
    const v = live[0]!;
    return {
      status: 200,
      headers: {
        'Content-Type': v.contentType || 'application/octet-stream',
        'Last-Modified': new Date(v.tsMs).toUTCString(),
        ...ctxHeader,
      },
      body: head ? undefined : v.value!,
    };
  }
  return jsonResponse(300, {
    context: contextToken,
    siblings: siblings.map((v) => ({
      value: v.value === null ? null : b64(v.value),
      contentType: v.contentType,
      lastModified: isoOf(v.tsMs),
    })),
  }, ctxHeader);
}

/**
 * Decides what to do with one request. Throws nothing: validation failures become responses,
 * and so do unexpected exceptions (as 500, reported through `onBug`).
 */
export function planRequest(service: NodeService, opts: RouterOptions, method: string, rawUrl: string, headers: Headers): Plan {
  try {
    return planOrThrow(service, opts, method, rawUrl, headers);
  } catch (e) {
    return respond(toResponse(e, opts, `${method} ${routeName(rawUrl)}`));
  }
}

export function toResponse(e: unknown, opts: RouterOptions, where: string): HttpResponse {
  if (e instanceof HttpError) return errorResponse(e);
  opts.onBug?.(e, where);
  return errorResponse(new HttpError('internal_error', 'internal error'));
}

function planOrThrow(service: NodeService, opts: RouterOptions, method: string, rawUrl: string, headers: Headers): Plan {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q + 1);

  if (path.startsWith('/kv/')) return planKv(service, opts, method, path.slice(4), query, headers);
  switch (path) {
    case '/health':
      onlyGet(method);
      return respond(service.isServing()
        ? jsonResponse(200, { status: 'ok', nodeId: service.nodeId })
        : errorResponse(new HttpError('unavailable', 'the node is starting or shutting down')));
    case '/cluster': {
      onlyGet(method);
      const stats = service.stats?.();
      const loadBytes = opts.ui?.self().loadBytes;
      return respond(jsonResponse(200, {
        nodeId: service.nodeId, members: service.members(), datacenters: groupByDc(service.members(), service.defaults().replication),
        ...clusterDocFields(service), ...(loadBytes !== undefined ? { loadBytes } : {}),
        ...(stats ? { hints: stats.hints, readRepairs: stats.readRepairs, coordinating: stats.coordinating, antiEntropy: stats.antiEntropy, ringAdmin: stats.ringAdmin, ...(stats.membership ? { membership: stats.membership } : {}) } : {}),
      }));
    }
    case '/ring':
      onlyGet(method);
      return respond(ringResponse(service, query));
    case '/admin/repair':
      return respond(adminRepair(service, method, query));
    case '/admin/roots':
      return respond(adminRoots(service, method));
  }
  if (path === '/ui' || path.startsWith('/ui/')) {
    onlyGet(method);
    return respond(uiResponse(service, opts.ui, path, query));
  }
  if (path.startsWith('/admin/local/')) {
    onlyGet(method);
    return respond(adminLocal(service, path.slice('/admin/local/'.length)));
  }
  if (isRingAdminPath(path)) return respond(adminRing(service, method, path));
  throw new HttpError('not_found', `no route ${path.length > 100 ? path.slice(0, 100) + '…' : path}`);
}

function onlyGet(method: string): void {
  if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, ['GET', 'HEAD']);
}

function requireServing(service: NodeService): void {
  if (!service.isServing()) throw new HttpError('unavailable', 'the node is starting or shutting down');
}

function ringResponse(service: NodeService, query: string): HttpResponse {
  const ring = service.ring();
  if (!ring) throw new HttpError('unavailable', 'the ring is not known yet');
  const keys = strictParam(query, 'key');
  if (keys.length > 1) throw new HttpError('bad_request', 'the parameter key is given twice');
  const doc = ringDocFields(service);
  if (keys.length === 1) {
    const key = checkKey(keys[0]!);
    const partition = ring.partitionForKey(key);
    const preferenceList = ring.preferenceList(partition);
    return jsonResponse(200, { key, partition, preferenceList, ...doc.next?.(partition, preferenceList) });
  }
  const partitions = [];
  for (let id = 0; id < ring.partitionCount; id++) {
    const preferenceList = ring.preferenceList(id);
    partitions.push({ id, owner: ring.owners[id] ?? null, preferenceList, ...doc.next?.(id, preferenceList) });
  }
  return jsonResponse(200, { partitionCount: ring.partitionCount, n: ring.n, ...doc.fields, partitions });
}

function adminLocal(service: NodeService, rawKey: string): HttpResponse {
  const key = decodeKey(rawKey);
  const versions = service.localVersions(key);
  if (versions.length === 0) return { status: 404, headers: {} };
  return jsonResponse(200, {
    nodeId: service.nodeId,
    versions: versions.map((v) => ({
      value: v.value === null ? null : b64(v.value),
      context: encodeContextToken(v.context),
      hintFor: v.hintFor,
      contentType: v.contentType,
      lastModified: isoOf(v.tsMs),
    })),
  });
}

const KV_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE'] as const;

function planKv(service: NodeService, opts: RouterOptions, method: string, rawKey: string, query: string, headers: Headers): Plan {
  if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT' && method !== 'DELETE') {
    throw methodNotAllowed(method, KV_METHODS);
  }
  const key = decodeKey(rawKey);
  const defaults = service.defaults();
  const params = parseKvParams(query, defaults.n);
  if (params.supersede !== undefined && method !== 'PUT') throw new HttpError('bad_request', 'supersede applies to PUT only');
  const context = parseContextHeader(headers[CONTEXT_HEADER_LC]);
  requireServing(service);
  const grace = opts.replyGraceMs ?? 5000;
  const limitMs = (params.timeoutMs ?? defaults.requestTimeoutMs) + grace;

  if (method === 'GET' || method === 'HEAD') {
    const head = method === 'HEAD';
    const op: GetOp = { op: 'get', key, r: params.r, quorum: params.quorum, repair: params.repair, timeoutMs: params.timeoutMs };
    const answer = (reply: ClientReply): HttpResponse => {
      if (!reply.ok) return replyError(reply);
      if (reply.op !== 'get') throw unexpectedReply(reply);
      return getResponse(reply.siblings, encodeContextToken(reply.context), head);
    };
    const now = service.getNow?.(op);
    if (now) return { kind: 'respond', response: answer(now), nodeAnswer: true };
    return respond(withDeadline(service.submit(op), limitMs, requiredOf(params.r ?? defaults.r, defaults.n)).then(answer));
  }

  const putReply = (value: Uint8Array | null, contentType: string): Promise<HttpResponse> =>
    withDeadline(service.submit({
      op: 'put', key, value, contentType, context, w: params.w, quorum: params.quorum, timeoutMs: params.timeoutMs,
      ...(params.supersede !== undefined && value !== null ? { supersede: params.supersede } : {}),
    }), limitMs, requiredOf(params.w ?? defaults.w, defaults.n)).then((reply) => {
      if (!reply.ok) return replyError(reply);
      if (reply.op !== 'put') throw unexpectedReply(reply);
      return { status: 204, headers: { [CONTEXT_HEADER]: encodeContextToken(reply.context) } };
    });

  if (method === 'DELETE') {
    if (context !== undefined) return respond(putReply(null, ''));
    // No context: supersede what a read at R finds (src/api/superseding-delete.ts).
    return respond(withDeadline(supersedingDelete(service, key, params).then(asReply), limitMs * 2,
      requiredOf(params.w ?? defaults.w, defaults.n)).then((reply) => {
      if (!reply.ok) return replyError(reply);
      if (reply.op !== 'put') throw unexpectedReply(reply);
      return { status: 204, headers: { [CONTEXT_HEADER]: encodeContextToken(reply.context) } };
    }));
  }

  const contentType = parseContentType(typeof headers['content-type'] === 'string' ? headers['content-type'] : undefined);
  const maxBytes = opts.maxValueBytes ?? defaults.maxValueBytes;
  const declared = headers['content-length'];
  if (typeof declared === 'string' && /^[0-9]+$/.test(declared) && Number(declared) > maxBytes) {
    throw tooLarge(maxBytes);
  }
  return { kind: 'body', maxBytes, handle: (body) => putReply(body, contentType) };
}

export function tooLarge(maxBytes: number): HttpError {
  return new HttpError('value_too_large', `the value is over the limit of ${maxBytes} bytes`);
}

function asReply(r: SupersedingDeleteResult): ClientReply {
  return r.ok ? { ok: true, op: 'put', context: r.context } : r;
}

/**
 * A last resort against a node that never answers: the core has its own timeouts. The request was
 * taken, so a write may still have been stored: this is `insufficient_replicas` (no replica
 * confirmed in time), never `unavailable`, which promises the request was not taken.
 */
function withDeadline(p: Promise<ClientReply>, ms: number, required: number): Promise<ClientReply> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      resolve({ ok: false, error: 'insufficient_replicas', message: `no reply from the node within ${ms} ms (a write may still have been stored)`, required, received: 0 });
    }, ms);
    t.unref();
    p.then((r) => { clearTimeout(t); resolve(r); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

function requiredOf(c: Consistency, n: number): number {
  if (c === 'one' || c === 'local_one') return 1;
  if (c === 'all') return n;
  if (c === 'quorum' || c === 'local_quorum' || c === 'each_quorum') return Math.floor(n / 2) + 1;
  return c;
}
