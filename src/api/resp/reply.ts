/** RESP2 replies as values, and their encoding. */

export type RespReply =
  | { readonly t: 'simple'; readonly s: string }
  | { readonly t: 'error'; readonly s: string }
  | { readonly t: 'int'; readonly n: number }
  | { readonly t: 'bulk'; readonly b: Uint8Array | string | null }
  | { readonly t: 'array'; readonly items: readonly RespReply[] | null };

export const OK: RespReply = { t: 'simple', s: 'OK' };
export const NIL: RespReply = { t: 'bulk', b: null };

export const simple = (s: string): RespReply => ({ t: 'simple', s });
/** `s` starts with the error's code word (`ERR`, `NOPROTO`, ...), as Redis errors do. */
export const error = (s: string): RespReply => ({ t: 'error', s });
export const int = (n: number): RespReply => ({ t: 'int', n });
export const bulk = (b: Uint8Array | string | null): RespReply => ({ t: 'bulk', b });
export const array = (items: readonly RespReply[] | null): RespReply => ({ t: 'array', items });

const CRLF = '\r\n';

/** Simple strings and errors must not contain CR or LF: they would end the line early. */
function oneLine(s: string): string {
  return /[\r\n]/.test(s) ? s.replace(/[\r\n]+/g, ' ') : s;
}

/** Appends the encoding of `r` to `out` (strings for the protocol lines, buffers for binary payloads). */
export function encodeInto(r: RespReply, out: (string | Uint8Array)[]): void {
  switch (r.t) {
    case 'simple':
      out.push(`+${oneLine(r.s)}${CRLF}`);
      return;
    case 'error':
      out.push(`-${oneLine(r.s)}${CRLF}`);
      return;
    case 'int':
      out.push(`:${Math.trunc(r.n)}${CRLF}`);
      return;
    case 'bulk':
      if (r.b === null) out.push(`$-1${CRLF}`);
      else if (typeof r.b === 'string') out.push(`$${Buffer.byteLength(r.b)}${CRLF}${r.b}${CRLF}`);
      else {
        out.push(`$${r.b.length}${CRLF}`, r.b, CRLF);
      }
      return;
    case 'array':
      if (r.items === null) {
        out.push(`*-1${CRLF}`);
        return;
      }
      out.push(`*${r.items.length}${CRLF}`);
      for (const item of r.items) encodeInto(item, out);
      return;
  }
}

/** One reply as one buffer. */
export function encodeReply(r: RespReply): Buffer {
  const parts: (string | Uint8Array)[] = [];
  encodeInto(r, parts);
  return concatParts(parts);
}

export function concatParts(parts: readonly (string | Uint8Array)[]): Buffer {
  if (parts.length === 1 && typeof parts[0] === 'string') return Buffer.from(parts[0], 'utf8');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}
