/**
 * The floor of a durable key-value server in Node.js, for `npm run bench -- resp` (issue 14): the
 * least such a server can do and still keep a SET it has answered. It speaks just enough RESP for
 * redis-benchmark's SET and GET (any other command answers +OK), keeps values in a Map, appends
 * every SET's key and value to a log and answers the SETs only once an fdatasync covers them
 * (group commit: one write and one fdatasync per batch, the next batch gathered meanwhile).
 * No versions, no siblings, no index on disk, no recovery: what is measured is the cost of
 * Node's sockets and of the fsync alone. (A connection's SET answers wait for the fsync and its
 * GET answers do not: a pipeline mixing the two may be answered out of order. redis-benchmark
 * sends one kind per run.)
 *
 *   node --import tsx bench/resp-floor.ts <port> <log file> [nosync|dsync] [echo]
 *
 * `dsync` opens the log O_DSYNC and skips the fdatasync (one write, durable when it returns);
 * `nosync` never syncs; `echo` parses nothing: each read's bytes are logged as they came and
 * answered with one +OK (right for `redis-benchmark -t set -P 1` only): the ceiling of a durable
 * answer in Node.js.
 */
import net from 'node:net';
import { floorLog, isSyncMode } from './floor-log.js';

const port = Number(process.argv[2]);
const logFile = process.argv[3];
const mode = process.argv[4] ?? 'fdatasync';
const echo = process.argv[5] === 'echo';
if (!Number.isInteger(port) || logFile === undefined || !isSyncMode(mode)) {
  throw new Error('usage: resp-floor.ts <port> <log file> [fdatasync|nosync|dsync] [echo]');
}
const log = floorLog(logFile, mode);
const values = new Map<string, Buffer>();
const OK = Buffer.from('+OK\r\n');
const NIL = Buffer.from('$-1\r\n');

/** One command at `at`: its arguments and where the next one starts, or undefined if incomplete. */
function parse(buf: Buffer, at: number): { args: Buffer[]; next: number } | undefined {
  if (buf[at] !== 0x2a) throw new Error('inline commands are not spoken here');
  let eol = buf.indexOf(13, at);
  if (eol < 0) return undefined;
  const n = Number(buf.toString('latin1', at + 1, eol));
  let p = eol + 2;
  const args: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    eol = buf.indexOf(13, p);
    if (eol < 0) return undefined;
    const len = Number(buf.toString('latin1', p + 1, eol));
    if (eol + 4 + len > buf.length) return undefined;
    args.push(buf.subarray(eol + 2, eol + 2 + len));
    p = eol + 4 + len;
  }
  return { args, next: p };
}

net.createServer((socket) => {
  socket.setNoDelay(true);
  let pending: Buffer | undefined;
  socket.on('data', (chunk: Buffer) => {
    if (echo) {
      log.append(chunk);
      log.whenDurable(() => socket.write(OK));
      return;
    }
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    const replies: Buffer[] = [];
    let sets = 0;
    let at = 0;
    while (at < buf.length) {
      const cmd = parse(buf, at);
      if (cmd === undefined) break;
      at = cmd.next;
      const [name, key, value] = cmd.args;
      const op = name?.toString('latin1').toUpperCase();
      if (op === 'SET' && key !== undefined && value !== undefined) {
        values.set(key.toString(), Buffer.from(value));
        log.append(Buffer.from(buf.subarray(key.byteOffset - buf.byteOffset, value.byteOffset - buf.byteOffset + value.length)));
        sets++;
      } else if (op === 'GET' && key !== undefined) {
        const v = values.get(key.toString());
        replies.push(v === undefined ? NIL : Buffer.concat([Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n')]));
      } else {
        replies.push(OK);
      }
    }
    pending = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined;
    if (replies.length > 0) socket.write(replies.length === 1 ? replies[0]! : Buffer.concat(replies));
    if (sets > 0) log.whenDurable(() => socket.write(sets === 1 ? OK : Buffer.from('+OK\r\n'.repeat(sets))));
  });
  socket.on('error', () => socket.destroy());
}).listen(port, '127.0.0.1');
