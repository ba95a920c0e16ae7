/**
 * The real Logger port: one line per event on stderr, `LEVEL msg key=value ...`, with an ISO
 * timestamp first. The level comes from GOSSAMER_LOG_LEVEL (debug|info|warn|error|silent;
 * default info). Values with spaces or quotes are JSON-quoted so a line stays one line.
 */
import type { Logger } from '../ports/index.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function parseLogLevel(s: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const v = (s ?? '').trim().toLowerCase();
  return v in RANK ? (v as LogLevel) : fallback;
}

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.stack ?? v.message);
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return JSON.stringify(String(v));
  }
}

export function formatLine(level: string, msg: string, fields?: Record<string, unknown>, nowIso?: string): string {
  let line = `${nowIso ?? new Date().toISOString()} ${level.toUpperCase()} ${msg.replace(/\n/g, '\\n')}`;
  if (fields) for (const [k, v] of Object.entries(fields)) line += ` ${k}=${formatValue(v)}`;
  return line;
}

export interface ConsoleLoggerOptions {
  level?: LogLevel;
  /** Fields added to every line (e.g. the node id). */
  base?: Record<string, unknown>;
  write?: (line: string) => void;
}

export class ConsoleLogger implements Logger {
  private readonly min: number;
  private readonly write: (line: string) => void;
  constructor(private readonly opts: ConsoleLoggerOptions = {}) {
    this.min = RANK[opts.level ?? parseLogLevel(process.env.GOSSAMER_LOG_LEVEL)];
    this.write = opts.write ?? ((line) => { process.stderr.write(line + '\n'); });
  }
  private log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < this.min) return;
    const all = this.opts.base ? { ...this.opts.base, ...fields } : fields;
    this.write(formatLine(level, msg, all));
  }
  debug(msg: string, fields?: Record<string, unknown>): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.log('error', msg, fields); }
  isEnabled(level: LogLevel): boolean { return RANK[level] >= this.min; }
}

export function createConsoleLogger(opts: ConsoleLoggerOptions = {}): ConsoleLogger {
  return new ConsoleLogger(opts);
}
