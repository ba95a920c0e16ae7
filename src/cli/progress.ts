/**
 * A small reusable progress bar for long operations (bench today; repair and transfers later).
 * On a TTY it redraws one line in place at most every `intervalMs`; elsewhere it stays silent
 * (or, with `plainEveryMs`, prints a plain line now and then) so logs and pipes stay clean.
 *
 *   const bar = createProgress({ total: 10_000, label: 'run', stream: process.stderr });
 *   bar.tick(); ... bar.stop();
 */
import { createStyle } from './style.js';

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export interface ProgressOptions {
  total: number;
  label: string;
  stream: ProgressStream;
  /** Draw at all (e.g. false with --json or --quiet). Default: when the stream is a TTY. */
  enabled?: boolean;
  colour?: boolean;
  intervalMs?: number;
  /** Off a TTY, print a plain progress line this often (default: never). */
  plainEveryMs?: number;
  /** Extra text after the counts, e.g. the current rate. */
  suffix?: (p: ProgressState) => string;
  now?: () => number;
}

export interface ProgressState {
  done: number;
  total: number;
  elapsedMs: number;
  ratePerSec: number;
}

export interface Progress {
  tick(n?: number): void;
  update(done: number): void;
  state(): ProgressState;
  /** Draws the final state and ends the line. */
  stop(): void;
}

const BAR_WIDTH = 30;

export function renderBar(label: string, p: ProgressState, colour: boolean, suffix = ''): string {
  const style = createStyle(colour);
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(frac * BAR_WIDTH);
  const bar = style.paint('green', '█'.repeat(filled)) + style.paint('dim', '░'.repeat(BAR_WIDTH - filled));
  const pct = `${(frac * 100).toFixed(0).padStart(3)}%`;
  const remaining = p.ratePerSec > 0 ? (p.total - p.done) / p.ratePerSec : NaN;
  const eta = Number.isFinite(remaining) ? ` ETA ${formatDuration(remaining * 1000)}` : '';
  return `${label} ${bar} ${pct} ${p.done}/${p.total} ${Math.round(p.ratePerSec)}/s${eta}${suffix ? ' ' + suffix : ''}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function createProgress(opts: ProgressOptions): Progress {
  const now = opts.now ?? (() => performance.now());
  const tty = opts.stream.isTTY === true;
  const enabled = opts.enabled ?? tty;
  const intervalMs = opts.intervalMs ?? 100;
  const started = now();
  let done = 0;
  let lastDraw = -Infinity;
  let lastPlain = started;
  let stopped = false;

  const state = (): ProgressState => {
    const elapsedMs = now() - started;
    return { done, total: opts.total, elapsedMs, ratePerSec: elapsedMs > 0 ? (done * 1000) / elapsedMs : 0 };
  };
  const draw = (final: boolean): void => {
    if (!enabled) return;
    const t = now();
    const p = state();
    const line = renderBar(opts.label, p, opts.colour ?? false, opts.suffix?.(p) ?? '');
    if (tty) {
      if (!final && t - lastDraw < intervalMs) return;
      lastDraw = t;
      opts.stream.write(`\r${line}\u001b[K${final ? '\n' : ''}`);
    } else if (final || (opts.plainEveryMs !== undefined && t - lastPlain >= opts.plainEveryMs)) {
      lastPlain = t;
      opts.stream.write(line + '\n');
    }
  };

  return {
    tick(n = 1): void {
      done += n;
      if (!stopped) draw(false);
    },
    update(d: number): void {
      done = d;
      if (!stopped) draw(false);
    },
    state,
    stop(): void {
      if (stopped) return;
      stopped = true;
      draw(true);
    },
  };
}
