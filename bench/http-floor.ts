/**
 * The floor of a durable put over HTTP in Node.js (issue 17): the bare `node:http` server of the
 * peers bench (values in a Map) that also appends each put's body to a log and answers the puts
 * only once an fdatasync covers them (group commit: one write and one fdatasync per batch, the
 * next batch gathered meanwhile). What a durable 1-node store over node:http cannot beat here.
 *
 *   node --import tsx bench/http-floor.ts <port> <log file>
 *   wrk -t1 -c50 -d10s --latency -s <peers put script> http://127.0.0.1:<port>    (docs/benchmarks.md)
 */
import fs from 'node:fs';
import http from 'node:http';

const port = Number(process.argv[2]);
const logFile = process.argv[3];
if (!Number.isInteger(port) || logFile === undefined) throw new Error('usage: http-floor.ts <port> <log file>');
const fd = fs.openSync(logFile, 'a');
const values = new Map<string, Buffer>();
let batch: Buffer[] = [];
let waiting: http.ServerResponse[] = [];
let inFlight = false;

function commit(): void {
  if (inFlight || batch.length === 0) return;
  inFlight = true;
  const data = Buffer.concat(batch);
  const answered = waiting;
  batch = [];
  waiting = [];
  fs.write(fd, data, 0, data.length, null, (err) => {
    if (err) throw err;
    fs.fdatasync(fd, (e) => {
      if (e) throw e;
      inFlight = false;
      for (const res of answered) { res.writeHead(204); res.end(); }
      commit();
    });
  });
}

http.createServer((req, res) => {
  const key = (req.url ?? '').split('?')[0]!;
  if (req.method === 'PUT') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      values.set(key, body);
      batch.push(Buffer.from(key), body);
      waiting.push(res);
      commit();
    });
    return;
  }
  const v = values.get(key);
  if (v) { res.writeHead(200, { 'Content-Type': 'application/octet-stream' }); res.end(v); } else { res.writeHead(404); res.end(); }
}).listen(port, '127.0.0.1');
