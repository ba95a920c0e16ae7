/** HTTP error codes of API.md and the JSON body every error carries. */
export type HttpErrorCode =
  | 'bad_request' | 'not_found' | 'method_not_allowed' | 'value_too_large' | 'key_too_long'
  | 'rate_limited' | 'insufficient_replicas' | 'unavailable' | 'internal_error' | 'conflict';

export const STATUS_OF: Record<HttpErrorCode, number> = {
  bad_request: 400,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  value_too_large: 413,
  key_too_long: 414,
  rate_limited: 429,
  insufficient_replicas: 503,
  unavailable: 503,
  internal_error: 500,
};

/** A refusal of a request, thrown by validation and mapped to a response in one place. */
export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = STATUS_OF[code];
  }
}
