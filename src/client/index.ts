export { GossamerClient, newestSibling } from './client.js';
export type { ClientOptions, Level, ReadResult, Resolver, Sibling, WriteOptions } from './client.js';
export { GossamerError } from './errors.js';
export type { GossamerErrorCode } from './errors.js';
export type { ClientTls } from './transport.js';
