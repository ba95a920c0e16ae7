/**
 * Gossamer has no transactions, so `MULTI` is refused. Refusing it alone would be unsafe: a
 * client library pipelines `MULTI`, its commands and `EXEC` in one write (node-redis's
 * `multi().exec()`, ioredis's `multi().exec()`), so the commands would run one by one, each on
 * its own, while the caller is told the transaction failed. So a refused `MULTI` opens a block
 * in which every command is refused without running, until `EXEC` (answered `-EXECABORT`, as
 * Redis answers a transaction it discarded) or `DISCARD` (`+OK`) closes it. `QUIT` still quits.
 *
 * One per connection, consulted in command order before anything runs. Pure: no IO.
 */
import type { RespReply } from './reply.js';
import { OK, error } from './reply.js';

export const MULTI_REFUSED = 'ERR MULTI is not supported: Gossamer has no transactions; '
  + 'the commands up to EXEC or DISCARD are refused without running';
export const NOT_RUN_IN_BLOCK = 'ERR not run: the MULTI before it was refused (Gossamer has no transactions); '
  + 'EXEC or DISCARD ends the block';
export const EXEC_ABORTED = 'EXECABORT Transaction discarded because of previous errors (MULTI is not supported)';

export class RefusedMulti {
  private open = false;

  /** Whether a refused MULTI's block is open (commands are being refused). */
  get inBlock(): boolean {
    return this.open;
  }

  /**
   * The reply for a transaction command or a command inside a refused block; undefined when
   * `name` (upper case) is to run as usual.
   */
  intercept(name: string, argc: number): RespReply | undefined {
    if (!this.open) {
      switch (name) {
        case 'MULTI':
          if (argc !== 1) return error("ERR wrong number of arguments for 'multi' command");
          this.open = true;
          return error(MULTI_REFUSED);
        case 'EXEC': return error('ERR EXEC without MULTI');
        case 'DISCARD': return error('ERR DISCARD without MULTI');
        default: return undefined;
      }
    }
    switch (name) {
      case 'EXEC':
        this.open = false;
        return error(EXEC_ABORTED);
      case 'DISCARD':
        this.open = false;
        return OK;
      case 'MULTI': return error('ERR MULTI calls can not be nested');
      case 'QUIT': return undefined;
      default: return error(NOT_RUN_IN_BLOCK);
    }
  }
}
