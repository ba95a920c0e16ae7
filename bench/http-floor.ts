/**
 * The floor of a durable put over HTTP in Node.js (issue 17): the bare `node:http` server of the
 * peers bench (values in a Map) that also appends each put's body to a log and answers the puts
 * only once an fdatasync covers them (group commit: one write and one fdatasync per batch, the
 * next batch gathered meanwhile). What a durable 1-node store over node:http cannot beat here.
 *
 *   node --import tsx bench/http-floor.ts <port> <log file>
 *   wrk -t1 -c50 -d10s --latency -s <peers put script> http://127.0.0.1:<port>    (docs/benchmarks.md)
 */
import http from 'node:http';
import { floorLog } from './floor-log.js';

const port = Number(process.argv[2]);
const logFile = process.argv[3];
if (!Number.isInteger(port) || logFile === undefined) throw new Error('usage: http-floor.ts <port> <log file>');
const log = floorLog(logFile, 'fdatasync');
const values = new Map<string, Buffer>();

http.createServer((req, res) => {
  const key = (req.url ?? '').split('?')[0]!;
  if (req.method === 'PUT') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      values.set(key, body);
      log.append(Buffer.from(key));
      log.append(body);
      log.whenDurable(() => { res.writeHead(204); res.end(); });
    });
    return;
  }
  const v = values.get(key);
  if (v) { res.writeHead(200, { 'Content-Type': 'application/octet-stream' }); res.end(v); } else { res.writeHead(404); res.end(); }
}).listen(port, '127.0.0.1');
