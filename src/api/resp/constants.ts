/** Every bound of the RESP front end, with its unit in its name. */
export const RESP_LIMITS = {
  /** Longest inline command line (`PING\r\n` typed by hand); Redis's own limit is 64 KiB. */
  inlineBytesMax: 64 * 1024,
  /** Most arguments in one command (MSET/MGET/DEL of many keys). */
  argsMax: 64 * 1024,
  /** A bulk string longer than the value limit by more than this is a protocol error, not a refusal. */
  bulkSlackBytes: 64 * 1024,
  /** Bytes one command may span in total (all its arguments); beyond it the connection is closed. */
  commandBytesMax: 64 * 1024 * 1024,
  /** Commands read from one connection but not yet answered; past it the connection stops reading. */
  pipelineDepthMax: 1024,
  /** Open client connections per node; more are refused with an error and closed. */
  connectionsMax: 10_000,
  /** Open connections from one client address; more are refused with an error and closed. */
  connectionsPerClientMax: 1_000,
  /**
   * A connection silent this long is closed if it is stuck mid-command (slowloris) or has not
   * authenticated while tokens are required; an idle, whole-command connection stays.
   */
  stalledTimeoutMs: 30_000,
  /** Extra time past the request's own timeout before the front end gives up on the node. */
  replyGraceMs: 5_000,
} as const;
