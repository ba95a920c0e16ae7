/**
 * Client authentication: API tokens with permissions (read, write, admin), from `tokensFile`
 * (JSON: [{"token": "...", "permissions": ["read", "write", "admin"]}]). Each permission stands
 * alone: a token that may write but not read cannot GET. Tokens are kept as SHA-256 digests and
 * looked up by digest, so no comparison runs over the token's own bytes.
 *
 * What each request needs: `/health` and the dashboard's page (`GET /ui`) nothing; reads (GET/HEAD
 * of /kv, /cluster, /ring, /metrics, /ui/data) `read`; PUT/POST/DELETE of /kv `write`; `/admin/*` and every other route or method (join,
 * leave, commit, repair, ...) `admin`. RESP: AUTH/QUIT nothing, GET/MGET/EXISTS/PING/ECHO/HELLO/
 * SELECT `read`, SET/MSET/DEL `write`, INFO/CONFIG/CLIENT/COMMAND `read`.
 */
import { hash } from 'node:crypto';
import { z } from 'zod';

export type Permission = 'read' | 'write' | 'admin';
export type Need = Permission | 'none';

const TOKENS_MAX = 10_000;
const tokensSchema = z.array(z.object({
  token: z.string().regex(/^[\x21-\x7e]{16,512}$/, { error: 'must be 16..512 printable characters without spaces' }),
  permissions: z.array(z.enum(['read', 'write', 'admin'], { error: 'must be read, write or admin' })).min(1).max(3),
  name: z.string().max(128).optional(),
}).strict(), { error: 'must be a list of {"token", "permissions"} objects' }).min(1).max(TOKENS_MAX);

/** One call per request: `crypto.hash` (Node ≥ 20.12) takes 0.8 µs where createHash().update().digest() took 2.2. */
function digest(token: string): string {
  return hash('sha256', token, 'hex');
}

export class TokenAuth {
  private byDigest = new Map<string, ReadonlySet<Permission>>();

  constructor(entries: readonly { token: string; permissions: readonly Permission[] }[]) {
    for (const e of entries) this.byDigest.set(digest(e.token), new Set(e.permissions));
  }

  /**
   * Takes `next`'s tokens in place of these, at once and whole (a reload of the tokens file):
   * the servers holding this object check every later request against the new set.
   */
  replaceWith(next: TokenAuth): void {
    this.byDigest = next.byDigest;
  }

  /** The token's permissions; undefined for an unknown token. */
  permissionsOf(token: string): ReadonlySet<Permission> | undefined {
    if (token.length === 0 || token.length > 512) return undefined;
    return this.byDigest.get(digest(token));
  }

  get size(): number {
    return this.byDigest.size;
  }
}

/** Parses a tokens file's text; throws an Error naming the first problem. */
export function parseTokens(text: string): TokenAuth {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON: ${String((e as Error).message).split('\n')[0]}`);
  }
  const parsed = tokensSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue?.message ?? 'is invalid'}`);
  }
  const seen = new Set<string>();
  for (const t of parsed.data) {
    if (seen.has(t.token)) throw new Error('the same token is listed twice');
    seen.add(t.token);
  }
  return new TokenAuth(parsed.data);
}

/** What an HTTP request needs (see the file comment). */
export function httpNeed(method: string, url: string): Need {
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  if (path === '/health') return 'none';
  const reading = method === 'GET' || method === 'HEAD';
  if (path.startsWith('/admin/')) return 'admin';
  if (path.startsWith('/kv/')) return reading ? 'read' : 'write';
  // The dashboard's page holds no data (it asks /ui/data, with the token the user enters).
  if (reading && (path === '/ui' || path === '/ui/')) return 'none';
  if (reading && (path === '/cluster' || path === '/ring' || path === '/metrics' || path.startsWith('/ui/'))) return 'read';
  return 'admin';
}

const RESP_NEEDS: Record<string, Need> = {
  AUTH: 'none', QUIT: 'none', HELLO: 'read',
  GET: 'read', MGET: 'read', EXISTS: 'read', PING: 'read', ECHO: 'read', SELECT: 'read',
  INFO: 'read', CONFIG: 'read', CLIENT: 'read', COMMAND: 'read',
  SET: 'write', MSET: 'write', DEL: 'write',
};

/** What a RESP command needs; unknown commands need `read` (they are refused as unknown anyway). */
export function respNeed(command: string): Need {
  return RESP_NEEDS[command.toUpperCase()] ?? 'read';
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
  return m?.[1];
}
