/**
 * The RESP commands of API.md, independent of sockets: a command's arguments go in, a reply (or
 * the promise of one) comes out, plus whether the connection closes after it. The server
 * (server.ts) owns the sockets, the parser and the order of replies; everything here can be
 * driven by a test with a fake NodeService. Same template as src/api/http/router.ts.
 *
 * Semantics (docs/resp.md): reads and writes use the cluster's default R and W. `SET` is a put
 * with `supersede: 'local'` — it replaces every version its coordinating replica has seen and
 * none it has not — so repeated SETs of a key leave one version. `GET` answers the sibling with
 * the newest timestamp. `DEL` is the context-less delete of src/api/superseding-delete.ts.
 */
import type { Version } from '../../core/clock/state.js';
import type { ClientReply, ErrorResult } from '../../core/types.js';
import type { NodeService } from '../../runtime/service.js';
import { supersedingDelete } from '../superseding-delete.js';
import { RESP_LIMITS } from './constants.js';
import { adminCommand } from './admin-commands.js';
import { KeyOrder } from './key-order.js';
import { RefusedMulti } from './refused-multi.js';
import type { RespReply } from './reply.js';
import { NIL, OK, array, bulk, error, int, simple } from './reply.js';

export const MAX_KEY_BYTES = 1024;

/** What a connection knows about itself (CLIENT SETNAME, the id CLIENT ID answers). */
export interface RespSession {
  readonly id: number;
  name: string | null;
  readonly remoteAddress: string;
}

export interface RespServerInfo {
  readonly port: number;
  readonly startedAtMs: number;
  connectedClients(): number;
  totalCommands(): number;
}

export interface CommandContext {
  readonly service: NodeService;
  readonly session: RespSession;
  readonly server: RespServerInfo;
  readonly maxValueBytes: number;
  /** Called with unexpected exceptions (bugs); the client gets an error reply. */
  readonly onBug?: (err: unknown, where: string) => void;
}

export interface CommandOutcome {
  readonly reply: RespReply | Promise<RespReply>;
  /** Close the connection once this reply is written (QUIT). */
  readonly close?: boolean;
}

class CommandError extends Error {}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

function keyOf(arg: Buffer): string {
  if (arg.length === 0) throw new CommandError('ERR empty keys are not allowed (keys are 1..1024 bytes of UTF-8)');
  if (arg.length > MAX_KEY_BYTES) throw new CommandError(`ERR the key is ${arg.length} bytes; the limit is ${MAX_KEY_BYTES}`);
  try {
    return fatalUtf8.decode(arg);
  } catch {
    throw new CommandError('ERR keys must be valid UTF-8');
  }
}

function wrongArity(name: string): CommandError {
  return new CommandError(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
}

/** A node's refusal as a Redis error line: the API's error code, then its message. */
export function replyErrorLine(r: ErrorResult): RespReply {
  const counts = r.error === 'insufficient_replicas' ? ` (required ${r.required ?? 0}, received ${r.received ?? 0})` : '';
  return error(`ERR ${r.error}: ${r.message}${counts}`);
}

/** The sibling a Redis GET answers: the newest by timestamp (ties: the last in dot order); null when it is a tombstone. */
export function newestValue(siblings: readonly Version[]): Uint8Array | null {
  let best: Version | undefined;
  for (const v of siblings) if (best === undefined || v.tsMs >= best.tsMs) best = v;
  return best?.value ?? null;
}

function unexpected(reply: ClientReply): ErrorResult {
  return { ok: false, error: 'unavailable', message: `unexpected reply from the node (${reply.ok ? reply.op : reply.error})` };
}

/** A last resort against a node that never answers (the core has its own timeouts). */
function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(onTimeout()), ms);
    t.unref();
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

export class RespCommands {
  private readonly order = new KeyOrder();
  /** MULTI is refused, and so is everything up to its EXEC or DISCARD (refused-multi.ts). */
  private readonly multi = new RefusedMulti();
  constructor(private readonly ctx: CommandContext) {}

  /** Never throws: bad input and bugs become error replies. */
  run(args: readonly Buffer[]): CommandOutcome {
    const name = args[0]!.toString('latin1').toUpperCase();
    const refused = this.multi.intercept(name, args.length);
    if (refused) return { reply: refused };
    try {
      const out = this.dispatch(name, args);
      const reply = out.reply;
      if (reply instanceof Promise) return { ...out, reply: reply.catch((e: unknown) => this.failure(e, name)) };
      return out;
    } catch (e) {
      return { reply: this.failure(e, name) };
    }
  }

  /**
   * A command the server refused before it ran (the rate limiter): it still opens or closes a
   * refused MULTI's block, so the commands after a refused MULTI never run on their own.
   */
  refusedBeforeRun(args: readonly Buffer[]): void {
    this.multi.intercept(args[0]!.toString('latin1').toUpperCase(), args.length);
  }

  private failure(e: unknown, name: string): RespReply {
    if (e instanceof CommandError) return error(e.message);
    this.ctx.onBug?.(e, `RESP ${name}`);
    return error('ERR internal error');
  }

  private dispatch(name: string, args: readonly Buffer[]): CommandOutcome {
    const argc = args.length;
    switch (name) {
      case 'PING':
        if (argc > 2) throw wrongArity(name);
        return { reply: argc === 2 ? bulk(args[1]!) : simple('PONG') };
      case 'ECHO':
        if (argc !== 2) throw wrongArity(name);
        return { reply: bulk(args[1]!) };
      case 'QUIT':
        return { reply: OK, close: true };
      case 'SELECT':
        if (argc !== 2) throw wrongArity(name);
        return { reply: args[1]!.toString('latin1') === '0' ? OK : error('ERR DB index is out of range') };
      case 'GET': {
        if (argc !== 2) throw wrongArity(name);
        const key = keyOf(args[1]!);
        const now = this.order.idle(key) ? this.getNow(key) : undefined;
        if (now) return { reply: now };
        return { reply: this.order.schedule([key], 'read', () => this.get(key)).then((r) => (r instanceof Uint8Array || r === null ? bulk(r) : r)) };
      }
      case 'MGET':
      case 'EXISTS': {
        if (argc < 2) throw wrongArity(name);
        const keys = args.slice(1).map(keyOf);
        return { reply: this.order.schedule(keys, 'read', () => (name === 'MGET' ? this.mget(keys) : this.exists(keys))) };
      }
      case 'SET':
      case 'MSET': {
        const writes = name === 'SET' ? this.setArgs(args) : this.msetArgs(args);
        return { reply: this.order.schedule(writes.map((w) => w.key), 'write', () => this.mset(writes)) };
      }
      case 'DEL': {
        if (argc < 2) throw wrongArity(name);
        const keys = [...new Set(args.slice(1).map(keyOf))];
        return { reply: this.order.schedule(keys, 'delete', () => this.del(keys)) };
      }
    }
    const admin = adminCommand(name, args, this.ctx);
    if (admin) return { reply: admin };
    const shown = args.slice(1, 4).map((a) => `'${a.toString('utf8').slice(0, 40)}'`).join(' ');
    return { reply: error(`ERR unknown command '${args[0]!.toString('utf8').slice(0, 64)}', with args beginning with: ${shown}`) };
  }

  private submitMs(): number {
    return this.ctx.service.defaults().requestTimeoutMs + RESP_LIMITS.replyGraceMs;
  }

  private unavailableIfStopped(): ErrorResult | undefined {
    return this.ctx.service.isServing() ? undefined : { ok: false, error: 'unavailable', message: 'the node is starting or shutting down' };
  }

  /** A GET the node answers synchronously (NodeService.newestNow), or undefined: then it is submitted. */
  private getNow(key: string): RespReply | undefined {
    if (!this.ctx.service.isServing()) return undefined;
    const value = this.ctx.service.newestNow?.(key);
    return value === undefined ? undefined : bulk(value);
  }

  /** The newest value, null when absent, or an error reply. */
  private async get(key: string): Promise<Uint8Array | null | RespReply> {
    const down = this.unavailableIfStopped();
    if (down) return replyErrorLine(down);
    const reply = await withDeadline(this.ctx.service.submit({ op: 'get', key }), this.submitMs(),
      (): ClientReply => ({ ok: false, error: 'unavailable', message: 'no reply from the node in time' }));
    if (!reply.ok) return replyErrorLine(reply);
    if (reply.op !== 'get') return replyErrorLine(unexpected(reply));
    return newestValue(reply.siblings);
  }

  private async mget(keys: string[]): Promise<RespReply> {
    const values = await Promise.all(keys.map((k) => this.get(k)));
    const failed = values.find((v) => !(v instanceof Uint8Array) && v !== null);
    if (failed) return failed as RespReply;
    return array(values.map((v) => (v === null ? NIL : bulk(v as Uint8Array))));
  }

  private async exists(keys: string[]): Promise<RespReply> {
    const values = await Promise.all(keys.map((k) => this.get(k)));
    let count = 0;
    for (const v of values) {
      if (v instanceof Uint8Array) count++;
      else if (v !== null) return v;
    }
    return int(count);
  }

  private setArgs(args: readonly Buffer[]): { key: string; value: Buffer }[] {
    if (args.length < 3) throw wrongArity('SET');
    if (args.length > 3) {
      throw new CommandError('ERR syntax error (SET options such as EX, PX, NX, XX, KEEPTTL and GET are not supported)');
    }
    const key = keyOf(args[1]!);
    this.checkValue(args[2]!);
    return [{ key, value: args[2]! }];
  }

  private msetArgs(args: readonly Buffer[]): { key: string; value: Buffer }[] {
    if (args.length < 3 || args.length % 2 !== 1) throw wrongArity('MSET');
    const writes: { key: string; value: Buffer }[] = [];
    for (let i = 1; i < args.length; i += 2) {
      const key = keyOf(args[i]!);
      this.checkValue(args[i + 1]!);
      writes.push({ key, value: args[i + 1]! });
    }
    return writes;
  }

  private checkValue(value: Buffer): void {
    if (value.length > this.ctx.maxValueBytes) {
      throw new CommandError(`ERR value_too_large: the value is over the limit of ${this.ctx.maxValueBytes} bytes`);
    }
  }

  private async put(key: string, value: Buffer): Promise<RespReply> {
    const down = this.unavailableIfStopped();
    if (down) return replyErrorLine(down);
    const reply = await withDeadline(
      this.ctx.service.submit({ op: 'put', key, value, contentType: 'application/octet-stream', supersede: 'local' }),
      this.submitMs(), (): ClientReply => ({ ok: false, error: 'unavailable', message: 'no reply from the node in time' }));
    if (!reply.ok) return replyErrorLine(reply);
    return reply.op === 'put' ? OK : replyErrorLine(unexpected(reply));
  }

  /** SET and MSET. Not atomic across keys (each key is its own write); the first failure is the reply. */
  private async mset(writes: readonly { key: string; value: Buffer }[]): Promise<RespReply> {
    if (writes.length === 1) return this.put(writes[0]!.key, writes[0]!.value);
    const replies = await Promise.all(writes.map((w) => this.put(w.key, w.value)));
    return replies.find((r) => r.t === 'error') ?? OK;
  }

  private async del(keys: string[]): Promise<RespReply> {
    const down = this.unavailableIfStopped();
    if (down) return replyErrorLine(down);
    const results = await Promise.all(keys.map((k) => withDeadline(supersedingDelete(this.ctx.service, k), this.submitMs() * 2,
      (): ErrorResult => ({ ok: false, error: 'unavailable', message: 'no reply from the node in time' }))));
    let count = 0;
    for (const r of results) {
      if (!r.ok) return replyErrorLine(r);
      if (r.existed) count++;
    }
    return int(count);
  }
}
