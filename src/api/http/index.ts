export { createHttpServer } from './server.js';
export type { GossamerHttpServer, HttpServerOptions } from './server.js';
export { planRequest, getResponse, CONTEXT_HEADER } from './router.js';
export type { HttpResponse, Plan, RouterOptions } from './router.js';
export { HttpError } from './errors.js';
export type { HttpErrorCode } from './errors.js';
export { MAX_KEY_BYTES } from './params.js';
