export { createRespServer } from './server.js';
export type { GossamerRespServer, RespServerOptions } from './server.js';
export { RespCommands, newestValue } from './commands.js';
export type { CommandContext, CommandOutcome, RespSession, RespServerInfo } from './commands.js';
export { RespParser, RespProtocolError } from './parser.js';
export { encodeReply } from './reply.js';
export type { RespReply } from './reply.js';
export { RESP_LIMITS } from './constants.js';
