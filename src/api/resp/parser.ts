/**
 * An incremental RESP2 request parser: multibulk commands (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what
 * every client library sends) and inline commands (`PING\r\n`, what a person types). Bytes go in
 * as they arrive; whole commands come out. Every length a client declares is checked against a
 * bound before anything is allocated, so a huge or malformed frame is a `RespProtocolError`
 * (the server answers it and closes that connection), never an exhausted heap.
 *
 * Written here rather than taken from `redis-parser`: that library parses *replies* for clients,
 * has no inline commands and no bounds on what it buffers.
 */
import { RESP_LIMITS } from './constants.js';

export class RespProtocolError extends Error {
  readonly code = 'protocol_error';
  constructor(message: string) {
    super(`Protocol error: ${message}`);
    this.name = 'RespProtocolError';
  }
}

export interface RespParserOptions {
  /** Longest bulk string accepted (a value over the store's limit but under this is refused per command). */
  bulkBytesMax: number;
  commandBytesMax?: number;
  argsMax?: number;
  inlineBytesMax?: number;
}

const CR = 0x0d;
const LF = 0x0a;

export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** The buffer must hold at least this many bytes before a parse can make progress. */
  private needBytes = 0;
  private readonly bulkBytesMax: number;
  private readonly commandBytesMax: number;
  private readonly argsMax: number;
  private readonly inlineBytesMax: number;

  constructor(opts: RespParserOptions) {
    this.bulkBytesMax = opts.bulkBytesMax;
    this.commandBytesMax = opts.commandBytesMax ?? RESP_LIMITS.commandBytesMax;
    this.argsMax = opts.argsMax ?? RESP_LIMITS.argsMax;
    this.inlineBytesMax = opts.inlineBytesMax ?? RESP_LIMITS.inlineBytesMax;
  }

  /** Bytes received but not yet parsed into a command. */
  get bufferedBytes(): number {
    return this.buf.length + this.chunkBytes;
  }

  /** Feeds bytes; returns every command they complete (each an array of arguments). */
  push(data: Buffer): Buffer[][] {
    this.chunks.push(data);
    this.chunkBytes += data.length;
    if (this.bufferedBytes < this.needBytes) return [];
    this.buf = this.buf.length === 0 && this.chunks.length === 1 ? data : Buffer.concat([this.buf, ...this.chunks]);
    this.chunks = [];
    this.chunkBytes = 0;
    const out: Buffer[][] = [];
    let pos = 0;
    for (;;) {
      const r = this.parseOne(pos);
      if (r === undefined) break;
      pos = r.end;
      if (r.args.length > 0) out.push(r.args);
    }
    this.buf = pos === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
    if (this.buf.length > this.commandBytesMax) throw new RespProtocolError('command too large');
    return out;
  }

  /** One command from `start`, or undefined when it is not all here yet (then `needBytes` is set). */
  private parseOne(start: number): { args: Buffer[]; end: number } | undefined {
    const b = this.buf;
    if (start >= b.length) {
      this.needBytes = 0;
      return undefined;
    }
    return b[start] === 0x2a /* '*' */ ? this.parseMultibulk(start) : this.parseInline(start);
  }

  private parseInline(start: number): { args: Buffer[]; end: number } | undefined {
    const b = this.buf;
    const lf = b.indexOf(LF, start);
    if (lf < 0) {
      if (b.length - start > this.inlineBytesMax) throw new RespProtocolError('too big inline request');
      this.needBytes = b.length - start + 1;
      return undefined;
    }
    if (lf - start > this.inlineBytesMax) throw new RespProtocolError('too big inline request');
    const lineEnd = lf > start && b[lf - 1] === CR ? lf - 1 : lf;
    return { args: splitInline(b.subarray(start, lineEnd)), end: lf + 1 };
  }

  private parseMultibulk(start: number): { args: Buffer[]; end: number } | undefined {
    const b = this.buf;
    const head = this.readLength(start + 1, 'multibulk', this.argsMax);
    if (head === undefined) return this.incomplete(start, start + 1);
    let pos = head.end;
    const args: Buffer[] = [];
    for (let i = 0; i < head.value; i++) {
      if (pos >= b.length) return this.incomplete(start, pos + 1);
      if (b[pos] !== 0x24 /* '$' */) throw new RespProtocolError(`expected '$', got '${String.fromCharCode(b[pos]!)}'`);
      const len = this.readLength(pos + 1, 'bulk', this.bulkBytesMax);
      if (len === undefined) return this.incomplete(start, pos + 1);
      const dataEnd = len.end + len.value;
      if (dataEnd + 2 > b.length) return this.incomplete(start, dataEnd + 2);
      if (b[dataEnd] !== CR || b[dataEnd + 1] !== LF) throw new RespProtocolError('bulk string not terminated by CRLF');
      args.push(b.subarray(len.end, dataEnd));
      pos = dataEnd + 2;
    }
    return { args, end: pos };
  }

  private incomplete(start: number, needEnd: number): undefined {
    if (needEnd - start > this.commandBytesMax) throw new RespProtocolError('command too large');
    this.needBytes = needEnd - start;
    return undefined;
  }

  /** A decimal length after `*` or `$`, ended by CRLF; undefined when the line is not all here. */
  private readLength(from: number, what: 'multibulk' | 'bulk', max: number): { value: number; end: number } | undefined {
    const b = this.buf;
    let value = 0;
    let digits = 0;
    for (let i = from; i < b.length; i++) {
      const c = b[i]!;
      if (c >= 0x30 && c <= 0x39) {
        value = value * 10 + (c - 0x30);
        if (++digits > 12 || value > max) throw new RespProtocolError(`invalid ${what} length`);
        continue;
      }
      if (c !== CR || digits === 0) throw new RespProtocolError(`invalid ${what} length`);
      if (i + 1 >= b.length) return undefined;
      if (b[i + 1] !== LF) throw new RespProtocolError(`invalid ${what} length`);
      return { value, end: i + 2 };
    }
    if (digits > 12) throw new RespProtocolError(`invalid ${what} length`);
    return undefined;
  }
}

/** Splits an inline command on spaces and tabs; double quotes group words, as redis-cli writes them. */
function splitInline(line: Buffer): Buffer[] {
  const text = line.toString('utf8');
  const out: Buffer[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= text.length) break;
    if (text[i] === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) throw new RespProtocolError('unbalanced quotes in request');
      out.push(Buffer.from(text.slice(i + 1, close), 'utf8'));
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < text.length && text[j] !== ' ' && text[j] !== '\t') j++;
    out.push(Buffer.from(text.slice(i, j), 'utf8'));
    i = j;
  }
  return out;
}
