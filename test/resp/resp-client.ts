/** A raw RESP connection for tests: send bytes, read whole replies back (a tiny reply parser). */
import net from 'node:net';
import { parseReply as parseRespReply } from '../../src/cli/bench/transports.js';
import type { RespReply } from '../../src/cli/bench/transports.js';

export type Reply = string | number | Buffer | null | Reply[] | { error: string };

export class RawResp {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawResp> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawResp(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  command(...args: (string | Buffer)[]): Promise<Reply> {
    this.write(encodeCommand(args));
    return this.read();
  }

  /** The next whole reply; rejects when the connection closes first. */
  async read(): Promise<Reply> {
    for (;;) {
      const r = parseReply(this.buf, 0);
      if (r) {
        this.buf = this.buf.subarray(r.end);
        return r.value;
      }
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves once the server has closed the connection. */
  async closedByServer(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.socket.destroy();
  }
}

export function encodeCommand(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** The bench driver's reply parser, with errors as `{ error }` so tests can compare them. */
function parseReply(b: Buffer, at: number): { value: Reply; end: number } | undefined {
  const r = parseRespReply(b, at);
  return r && { value: asReply(r.value), end: r.end };
}

function asReply(v: RespReply): Reply {
  if (v instanceof Error) return { error: v.message };
  return Array.isArray(v) ? v.map(asReply) : v;
}
