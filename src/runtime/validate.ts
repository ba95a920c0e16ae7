/**
 * The shape check of messages from the network now lives with the protocols that own them
 * (src/core/messages.ts joins each module's validator); this name stays for existing importers.
 */
export { isValidMessage } from '../core/messages.js';
