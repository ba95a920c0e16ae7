/** Typed errors of the client: the API's error codes, plus what only a client can see. */

/** The `error` codes of API.md, and `unreachable` (no node answered), `bad_response` (not the API's answer). */
export type GossamerErrorCode =
  | 'bad_request' | 'not_found' | 'method_not_allowed' | 'value_too_large' | 'key_too_long' | 'rate_limited'
  | 'insufficient_replicas' | 'unavailable' | 'internal_error' | 'unauthorized' | 'forbidden' | 'unreachable' | 'bad_response';

export class GossamerError extends Error {
  readonly code: GossamerErrorCode;
  /** The HTTP status, when a node answered. */
  readonly status: number | undefined;
  /** For `insufficient_replicas`: how many replies were required and received. */
  readonly required: number | undefined;
  readonly received: number | undefined;
  /** From `Retry-After` (429, 503), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** The node (HTTP host:port) that answered or could not be reached. */
  readonly endpoint: string | undefined;

  constructor(code: GossamerErrorCode, message: string, extra: {
    status?: number; required?: number; received?: number; retryAfterMs?: number; endpoint?: string;
  } = {}) {
    super(message);
    this.name = 'GossamerError';
    this.code = code;
    this.status = extra.status;
    this.required = extra.required;
    this.received = extra.received;
    this.retryAfterMs = extra.retryAfterMs;
    this.endpoint = extra.endpoint;
  }

  /** Worth trying again (later, or at another node): the request may not have run, or failed for want of replicas. */
  get retryable(): boolean {
    return this.code === 'unreachable' || this.code === 'unavailable' || this.code === 'insufficient_replicas' || this.code === 'rate_limited';
  }
}

const CODES = new Set<string>([
  'bad_request', 'not_found', 'method_not_allowed', 'value_too_large', 'key_too_long', 'rate_limited',
  'insufficient_replicas', 'unavailable', 'internal_error', 'unauthorized', 'forbidden',
]);

/** The error an HTTP answer stands for (JSON `{error, message}` of API.md, or its status alone). */
export function errorFromAnswer(status: number, body: Buffer, retryAfter: string | undefined, endpoint: string): GossamerError {
  let code: GossamerErrorCode = status === 429 ? 'rate_limited' : status >= 500 ? (status === 503 ? 'unavailable' : 'internal_error')
    : status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'bad_request';
  let message = `HTTP ${status} from ${endpoint}`;
  let required: number | undefined;
  let received: number | undefined;
  try {
    const j = JSON.parse(body.toString('utf8')) as { error?: unknown; message?: unknown; required?: unknown; received?: unknown };
    if (typeof j.error === 'string' && CODES.has(j.error)) code = j.error as GossamerErrorCode;
    if (typeof j.message === 'string') message = `${code}: ${j.message}`;
    if (typeof j.required === 'number') required = j.required;
    if (typeof j.received === 'number') received = j.received;
  } catch { /* not JSON: the status decides */ }
  const seconds = retryAfter !== undefined && /^[0-9]{1,6}$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) : undefined;
  return new GossamerError(code, message, {
    status, endpoint,
    ...(required !== undefined ? { required } : {}),
    ...(received !== undefined ? { received } : {}),
    ...(seconds !== undefined ? { retryAfterMs: seconds * 1000 } : {}),
  });
}
