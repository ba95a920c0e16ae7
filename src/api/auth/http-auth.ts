/**
 * The token check at the HTTP door: 401 `unauthorized` without a known bearer token, 403
 * `forbidden` when the token lacks the permission the route needs (API.md's error format).
 */
import type { Permission, TokenAuth } from './tokens.js';
import { bearerToken, httpNeed } from './tokens.js';

export interface AuthRefusal {
  status: 401 | 403;
  headers: Record<string, string>;
  body: string;
}

/** Undefined when the request may go on; otherwise the response to send. */
export function checkHttpAuth(tokens: TokenAuth, method: string, url: string, authorization: string | string[] | undefined): AuthRefusal | undefined {
  const need = httpNeed(method, url);
  if (need === 'none') return undefined;
  const token = bearerToken(authorization);
  const perms = token === undefined ? undefined : tokens.permissionsOf(token);
  if (perms === undefined) {
    const message = token === undefined
      ? 'authentication required: send "Authorization: Bearer <token>"'
      : 'unknown token';
    return refusal(401, 'unauthorized', message, { 'WWW-Authenticate': 'Bearer realm="gossamer"' });
  }
  if (!perms.has(need)) return refusal(403, 'forbidden', `this token lacks the "${need}" permission ${method} ${pathOf(url)} needs`);
  return undefined;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return (q >= 0 ? url.slice(0, q) : url).slice(0, 200);
}

function refusal(status: 401 | 403, code: string, message: string, extra: Record<string, string> = {}): AuthRefusal {
  return { status, headers: { 'Content-Type': 'application/json', ...extra }, body: JSON.stringify({ error: code, message }) };
}

export type { Permission };
