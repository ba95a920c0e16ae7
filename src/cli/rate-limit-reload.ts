/**
 * Reloading the rules without a restart: the config file is watched (its directory, so an
 * editor's write-and-rename is seen too) and SIGHUP forces a reload. Only `rateLimits` is read
 * again; every other setting needs a restart. A new file that does not parse or validate keeps
 * the rules in force and logs one line saying why.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../ports/index.js';
import type { RateLimitRule } from '../core/ratelimit/types.js';
import { ConfigError, parseRateLimits, readConfigFile } from './config.js';

export type ReloadOutcome =
  | { kind: 'reloaded'; rules: RateLimitRule[] }
  | { kind: 'unchanged' }
  | { kind: 'invalid'; reason: string };

export interface RuleWatcherOptions {
  file: string;
  logger: Logger;
  /** The rules in force now (to tell an unchanged file from a new rule set). */
  current: () => readonly RateLimitRule[];
  apply: (rules: RateLimitRule[]) => void;
  /** Reload on SIGHUP too (the node's own process; off for in-process tests). */
  sighup?: boolean;
  /** Wait after a change event before reading, so a write in several steps is read whole. */
  debounceMs?: number;
  onOutcome?: (o: ReloadOutcome) => void;
}

export interface RuleWatcher {
  /** Reads the file now and applies its rules if they are valid and new. */
  reload(): ReloadOutcome;
  close(): void;
}

export function watchRules(opts: RuleWatcherOptions): RuleWatcher {
  const file = path.resolve(opts.file);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let watcher: FSWatcher | undefined;

  function reload(): ReloadOutcome {
    let outcome: ReloadOutcome;
    try {
      const data = readConfigFile(file);
      const rules = parseRateLimits(data['rateLimits'], `in ${file}`);
      if (JSON.stringify(rules) === JSON.stringify(opts.current())) {
        outcome = { kind: 'unchanged' };
      } else {
        opts.apply(rules);
        outcome = { kind: 'reloaded', rules };
        opts.logger.info('rate-limit rules reloaded', { file, rules: rules.length });
      }
    } catch (e) {
      const reason = e instanceof ConfigError ? e.message : String(e);
      outcome = { kind: 'invalid', reason };
      opts.logger.warn(`rate-limit rules not reloaded, keeping the ${opts.current().length} in force: ${reason}`);
    }
    opts.onOutcome?.(outcome);
    return outcome;
  }

  const onChange = (_event: string, name: string | Buffer | null): void => {
    if (name !== null && String(name) !== path.basename(file)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = undefined; reload(); }, opts.debounceMs ?? 50);
  };
  try {
    watcher = watch(path.dirname(file), { persistent: false }, onChange);
    watcher.on('error', (e) => opts.logger.warn('rate-limit rules: watching the config file failed; SIGHUP still reloads', { error: String(e) }));
  } catch (e) {
    opts.logger.warn('rate-limit rules: cannot watch the config file; SIGHUP still reloads', { file, error: String(e) });
  }
  const onHup = (): void => { reload(); };
  if (opts.sighup) process.on('SIGHUP', onHup);

  return {
    reload,
    close(): void {
      if (timer) clearTimeout(timer);
      watcher?.close();
      if (opts.sighup) process.off('SIGHUP', onHup);
    },
  };
}
