#!/usr/bin/env node
// The fault suite's client host: started inside the clients' network namespace
// (`ip netns exec gsm-<run>-c node test-faults/ns-agent.mjs`), it sends the HTTP requests the
// suite asks for on stdin (one JSON object a line: {id, host, port, method, path, headers, body,
// timeoutMs}) to the nodes' addresses, and streams each outcome back on stdout as one JSON line:
// {id, status, context, text, startMs, endMs} or {id, error: {code, message}, startMs, endMs}.
// Times are this process's wall clock (ms since the epoch) around the request itself. It exits
// when its stdin closes.
import http from 'node:http';
import readline from 'node:readline';

const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

function send(req) {
  const startMs = Date.now();
  const headers = { ...(req.headers ?? {}) };
  if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
  const r = http.request({ host: req.host, port: req.port, method: req.method, path: req.path, headers, agent: false }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('error', (e) => out({ id: req.id, error: { code: e.code ?? 'ERESPONSE', message: e.message }, startMs, endMs: Date.now() }));
    res.on('end', () => {
      const context = res.headers['x-gossamer-context'];
      out({ id: req.id, status: res.statusCode ?? 0, context: typeof context === 'string' ? context : undefined,
        text: Buffer.concat(chunks).toString('utf8'), startMs, endMs: Date.now() });
    });
  });
  r.setTimeout(req.timeoutMs ?? 10_000, () => r.destroy(Object.assign(new Error(`timeout: ${req.method} ${req.path}`), { code: 'ETIMEOUT' })));
  r.on('error', (e) => out({ id: req.id, error: { code: e.code ?? 'ERROR', message: e.message }, startMs, endMs: Date.now() }));
  r.end(req.body);
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    out({ id: -1, error: { code: 'EBADLINE', message: line.slice(0, 100) } });
    return;
  }
  send(req);
});
rl.on('close', () => process.exit(0));
out({ id: 0, ready: true });
