/**
 * Rotating API tokens without a restart: on SIGHUP the node reads its tokens file again and, if
 * it parses, swaps the whole set in at once (a token removed from the file is refused from the
 * next request on; a new one works). A file that does not read or parse keeps the tokens in force
 * and logs one line saying why. TLS certificates reload on the same signal (tls-reload.ts); the
 * cluster secret still needs a restart.
 */
import type { Logger } from '../../ports/index.js';
import { loadSecurity } from './load.js';
import type { TokenAuth } from './tokens.js';

export type TokensReload = { kind: 'reloaded'; tokens: number } | { kind: 'invalid'; reason: string };

/** Reads `file` and swaps its tokens into `tokens`; keeps the old ones when it cannot. */
export function reloadTokens(file: string, tokens: TokenAuth, logger: Logger): TokensReload {
  try {
    const next = loadSecurity({ tokensFile: file }, {}).tokens!;
    tokens.replaceWith(next);
    logger.info('API tokens reloaded', { file, tokens: next.size });
    return { kind: 'reloaded', tokens: next.size };
  } catch (e) {
    const reason = (e as Error).message;
    logger.warn(`API tokens not reloaded, keeping the ${tokens.size} in force: ${reason}`);
    return { kind: 'invalid', reason };
  }
}

/** Reloads the tokens file on every SIGHUP of this process; returns the function that stops it. */
export function reloadTokensOnSighup(file: string, tokens: TokenAuth, logger: Logger): () => void {
  const onHup = (): void => {
    reloadTokens(file, tokens, logger);
  };
  process.on('SIGHUP', onHup);
  return () => {
    process.off('SIGHUP', onHup);
  };
}
