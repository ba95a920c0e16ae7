/**
 * Structured logs behind the Logger port: one JSON object per line on stderr
 * (`{"time":"…","level":"info","msg":"…","nodeId":"…",…fields}`), the format log shippers and
 * `jq` read. On a terminal the same events print as the console logger's human-readable line
 * instead. GOSSAMER_LOG_FORMAT=json|text overrides the choice; the level comes from
 * `--log-level` / GOSSAMER_LOG_LEVEL as before.
 */
import type { Logger } from '../ports/index.js';
import type { LogLevel } from './console-logger.js';
import { ConsoleLogger, parseLogLevel } from './console-logger.js';

export type LogFormat = 'json' | 'text';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function parseLogFormat(s: string | undefined): LogFormat | undefined {
  const v = (s ?? '').trim().toLowerCase();
  return v === 'json' || v === 'text' ? v : undefined;
}

/** JSON.stringify that never throws: errors keep their stack, bigints become strings, cycles are cut. */
export function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return { name: v.name, message: v.message, ...(v.stack ? { stack: v.stack } : {}) };
    if (v instanceof Uint8Array) return `<${v.length} bytes>`;
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    return v;
  });
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  base?: Record<string, unknown>;
  write?: (line: string) => void;
  now?: () => Date;
}

export class JsonLogger implements Logger {
  private readonly min: number;
  private readonly write: (line: string) => void;
  constructor(private readonly opts: JsonLoggerOptions = {}) {
    this.min = RANK[opts.level ?? parseLogLevel(process.env.GOSSAMER_LOG_LEVEL)];
    this.write = opts.write ?? ((line) => { process.stderr.write(line + '\n'); });
  }

  private log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < this.min) return;
    const time = (this.opts.now?.() ?? new Date()).toISOString();
    // time, level and msg lead each line, and a field of the same name cannot replace them.
    const line: Record<string, unknown> = { time, level, msg };
    for (const src of [this.opts.base, fields]) {
      if (src) for (const [k, v] of Object.entries(src)) if (k !== 'time' && k !== 'level' && k !== 'msg') line[k] = v;
    }
    this.write(safeJson(line));
  }

  debug(msg: string, fields?: Record<string, unknown>): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.log('error', msg, fields); }
  isEnabled(level: LogLevel): boolean { return RANK[level] >= this.min; }
}

export interface CreateLoggerOptions extends JsonLoggerOptions {
  format?: LogFormat;
  env?: NodeJS.ProcessEnv;
  stderrIsTty?: boolean;
}

/** JSON unless stderr is a terminal (then text); GOSSAMER_LOG_FORMAT decides when set. */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const env = opts.env ?? process.env;
  const format = opts.format ?? parseLogFormat(env.GOSSAMER_LOG_FORMAT) ?? ((opts.stderrIsTty ?? process.stderr.isTTY === true) ? 'text' : 'json');
  const common = {
    ...(opts.level ? { level: opts.level } : {}), ...(opts.base ? { base: opts.base } : {}), ...(opts.write ? { write: opts.write } : {}),
  };
  return format === 'text' ? new ConsoleLogger(common) : new JsonLogger({ ...common, ...(opts.now ? { now: opts.now } : {}) });
}
