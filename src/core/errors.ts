/**
 * One error base class for the core. Its `code` is the public API's error code (shared/API.md),
 * so any layer that catches a core error knows what to answer without a table of classes.
 */

/** The API error codes the core can produce. */
export type ErrorCode = 'bad_request' | 'insufficient_replicas' | 'unavailable' | 'value_too_large';

export class GossamerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A broken invariant: a bug, never bad input (bad input gets its own error). The node that hits
 * one cannot handle the request or message, so the API answers `unavailable`.
 */
export class InvariantError extends GossamerError {
  constructor(message: string) {
    super('unavailable', `invariant violated: ${message}`);
  }
}

/** Checks an invariant at a module boundary; the message is built only when it fails. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message());
}

/** The default branch of an exhaustive switch: a new case that is not handled fails the type check. */
export function assertNever(value: never, what: string): never {
  throw new InvariantError(`unhandled ${what}: ${JSON.stringify(value)}`);
}
