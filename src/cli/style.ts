/**
 * Terminal styling for the operator commands: colours only when the stream is a TTY and the
 * user did not opt out with NO_COLOR (https://no-color.org: any non-empty value). Piped output,
 * files and CI logs stay plain text.
 */
export interface StyleTarget {
  isTTY?: boolean;
}

export function colorEnabled(stream: StyleTarget, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, cyan: 36, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export interface Style {
  readonly enabled: boolean;
  paint(colour: Colour, s: string): string;
  /** A member state in the colour an operator expects: alive green, suspect yellow, faulty red. */
  state(state: string): string;
}

export function createStyle(enabled: boolean): Style {
  const paint = (colour: Colour, s: string): string => (enabled ? `\u001b[${CODES[colour]}m${s}\u001b[0m` : s);
  return {
    enabled,
    paint,
    state(state: string): string {
      if (state === 'alive') return paint('green', state);
      if (state === 'suspect' || state === 'leaving') return paint('yellow', state);
      if (state === 'faulty' || state === 'left') return paint('red', state);
      return state;
    },
  };
}

/** Length of a string as the terminal shows it (escape sequences take no columns). */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** A left-aligned table with two spaces between columns; colour-safe padding. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const cols = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, i) => Math.max(...rows.map((r) => visibleLength(r[i] ?? ''))));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c))))
    .join('  ').trimEnd()).join('\n') + '\n';
}

/** Bytes as an operator reads them: 0 B, 12.3 KiB, 4.5 GiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
