export * from './vclock.js';
export * from './context.js';
export * from './state.js';
export * from './client-context.js';
