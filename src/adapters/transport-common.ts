/**
 * What the TCP transport and its in-memory twin share, in one import: the types and errors
 * (transport-types.ts), the bounded frame queue (frame-queue.ts) and the base class that owns
 * everything above the link layer (transport-base.ts).
 */
export * from './transport-types.js';
export { FrameQueue } from './frame-queue.js';
export { TransportBase } from './transport-base.js';
export type { LinkState, TransportBaseOptions } from './transport-base.js';
