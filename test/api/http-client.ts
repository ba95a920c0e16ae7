/** A tiny HTTP client for tests: one request, the whole answer (status, headers, body bytes). */
import http from 'node:http';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json(): unknown;
}

export interface RequestOptions {
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  agent?: http.Agent | false;
  timeoutMs?: number;
}

export function request(port: number, method: string, path: string, opts: RequestOptions = {}, host = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = http.request({ host, port, method, path, headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) as unknown });
      });
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => { req.destroy(new Error(`timeout: ${method} ${path}`)); });
    req.on('error', reject);
    req.end(opts.body);
  });
}
