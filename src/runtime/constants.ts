/** Named bounds of the runtime (every queue and wait has one), unit and bound last. */
export const RUNTIME_LIMITS = {
  /** Client requests waiting for replies at once; past it, new ones get `unavailable`. */
  requestsInFlightMax: 10_000,
  /** Extra time a graceful shutdown grants in-flight requests beyond the request timeout. */
  shutdownGraceMs: 1_000,
} as const;
