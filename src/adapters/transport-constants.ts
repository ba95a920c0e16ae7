/**
 * Bounds and timings of the inter-node transport. Every queue, buffer and retry loop of the
 * transport is bounded by one of these (the lead merges them into the project's constants module).
 */

/** Wire protocol version announced in the hello; a peer with another version is refused. */
export const TRANSPORT_PROTOCOL_VERSION = 1;

/**
 * Largest frame payload accepted or sent. Values are at most 1 MiB (`maxValueBytes`) plus keys,
 * contexts and siblings; 8 MiB leaves room for a few siblings of maximal size, while bulk
 * transfers (handoff, anti-entropy) must be chunked by their protocols.
 */
export const FRAME_PAYLOAD_BYTES_MAX = 8 * 1024 * 1024;

/** Length prefix: 4 bytes, big-endian, payload length only. */
export const FRAME_HEADER_BYTES = 4;

/** Per-peer send queue bound, in frames, while disconnected or while the socket is congested. */
export const SEND_QUEUE_FRAMES_MAX = 16_384;

/** Per-peer send queue bound, in bytes (headers included). At least one maximal frame fits. */
export const SEND_QUEUE_BYTES_MAX = 16 * 1024 * 1024;

/** Frames written in one `socket.write` are concatenated up to this many bytes. */
export const WRITE_BATCH_BYTES_MAX = 256 * 1024;

/** Frames at least this big are written as they are, never copied into a batch. */
export const WRITE_DIRECT_BYTES_MIN = 64 * 1024;

/** First reconnect delay; doubles on each failed attempt up to the maximum. */
export const RECONNECT_DELAY_BASE_MS = 50;

/** Longest reconnect delay (before jitter). */
export const RECONNECT_DELAY_MAX_MS = 2_000;

/** Each delay is multiplied by a factor drawn in [1 - jitter, 1]. */
export const RECONNECT_JITTER_RATIO = 0.5;

/** A dial that has not connected by then is abandoned (a black-holed host never answers). */
export const CONNECT_TIMEOUT_MS = 3_000;

/** A connection whose peer has not said hello by then is closed. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;

/** TCP keep-alive probe delay, so a vanished host is noticed even on an idle link. */
export const TCP_KEEPALIVE_DELAY_MS = 10_000;

/** Requests made with `request()` awaiting their reply, per transport. */
export const RPC_IN_FLIGHT_MAX = 65_536;

/** Default timeout of `request()`. */
export const RPC_TIMEOUT_MS_DEFAULT = 2_000;

/** In-memory twin: envelopes waiting for their asynchronous delivery, network-wide. */
export const MEMORY_NETWORK_IN_FLIGHT_MAX = 1_000_000;
