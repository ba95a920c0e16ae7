/**
 * The connection and introspection commands that Redis tools and client libraries send before
 * (or beside) their real work: HELLO, INFO, COMMAND, CONFIG GET, CLIENT. Enough for redis-cli,
 * redis-benchmark, ioredis and node-redis; nothing here touches data.
 */
import os from 'node:os';
import type { CommandContext } from './commands.js';
import type { RespReply } from './reply.js';
import { OK, array, bulk, error, int } from './reply.js';

/** What INFO and HELLO say the server is: the Redis version whose RESP2 behaviour this follows. */
export const REDIS_COMPAT_VERSION = '7.0.0';

/** CONFIG GET answers these (what redis-benchmark and clients ask for); everything else is absent. */
const CONFIG: Readonly<Record<string, string>> = {
  save: '',
  appendonly: 'no',
  databases: '1',
  'maxmemory': '0',
  'maxmemory-policy': 'noeviction',
  'proto-max-bulk-len': '',
  timeout: '0',
};

function wrongArity(name: string): RespReply {
  return error(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
}

/** The reply of an admin command, or undefined when `name` is not one. */
export function adminCommand(name: string, args: readonly Buffer[], ctx: CommandContext): RespReply | undefined {
  switch (name) {
    case 'HELLO': return hello(args, ctx);
    case 'INFO': return bulk(info(ctx, args[1]?.toString('utf8').toLowerCase()));
    case 'COMMAND': return command(args);
    case 'CONFIG': return config(args, ctx);
    case 'CLIENT': return client(args, ctx);
    default: return undefined;
  }
}

/**
 * `HELLO` and `HELLO 2` answer RESP2 (the map as a flat array, as Redis 6+ does); `HELLO 3` is
 * refused the way Redis 5, which has no RESP3, refuses it. Clients that fall back to RESP2 on an
 * unknown-command error (ioredis 6) then work; node-redis 6 has no fallback and must be given
 * `RESP: 2` (docs/resp.md, test/resp/node-redis.test.ts).
 */
function hello(args: readonly Buffer[], ctx: CommandContext): RespReply {
  const ver = args[1]?.toString('latin1');
  if (ver !== undefined && ver !== '2') {
    if (!/^[0-9]+$/.test(ver)) return error('ERR Protocol version is not an integer or out of range');
    return error(`ERR unknown command 'HELLO', with args beginning with: '${ver}'`);
  }
  for (let i = 2; i < args.length; i++) {
    const opt = args[i]!.toString('latin1').toUpperCase();
    if (opt === 'SETNAME' && i + 1 < args.length) ctx.session.name = args[++i]!.toString('utf8');
    else if (opt === 'AUTH' && i + 2 < args.length) i += 2; // no client authentication over RESP yet
    else return error(`ERR Syntax error in HELLO option '${args[i]!.toString('utf8').slice(0, 40)}'`);
  }
  return array([
    bulk('server'), bulk('redis'), bulk('version'), bulk(REDIS_COMPAT_VERSION), bulk('proto'), int(2),
    bulk('id'), int(ctx.session.id), bulk('mode'), bulk('standalone'), bulk('role'), bulk('master'),
    bulk('modules'), array([]),
  ]);
}

function info(ctx: CommandContext, section: string | undefined): string {
  const { service, server } = ctx;
  const sections: Record<string, string[]> = {
    server: [
      `redis_version:${REDIS_COMPAT_VERSION}`, 'redis_mode:standalone', `gossamer_node_id:${service.nodeId}`,
      `os:${os.type()} ${os.release()} ${os.arch()}`, `arch_bits:${os.arch().includes('64') ? 64 : 32}`,
      `process_id:${process.pid}`, `tcp_port:${server.port}`,
      `uptime_in_seconds:${Math.floor((Date.now() - server.startedAtMs) / 1000)}`,
    ],
    clients: [`connected_clients:${server.connectedClients()}`],
    persistence: ['loading:0'],
    stats: [`total_commands_processed:${server.totalCommands()}`],
    replication: ['role:master', 'connected_slaves:0'],
    keyspace: [],
  };
  const wanted = section === undefined || section === 'all' || section === 'default' || section === 'everything'
    ? Object.keys(sections) : [section];
  const out: string[] = [];
  for (const name of wanted) {
    const lines = sections[name];
    if (!lines) continue;
    out.push(`# ${name[0]!.toUpperCase()}${name.slice(1)}`, ...lines, '');
  }
  return out.join('\r\n');
}

/** COMMAND: enough for tools that look it up (no command table is advertised). */
function command(args: readonly Buffer[]): RespReply {
  const sub = args[1]?.toString('latin1').toUpperCase();
  if (sub === undefined || sub === 'DOCS' || sub === 'LIST') return array([]);
  if (sub === 'COUNT') return int(0);
  if (sub === 'INFO') return array(args.slice(2).map(() => ({ t: 'array', items: null })));
  return error(`ERR unknown subcommand '${args[1]!.toString('utf8').slice(0, 40)}'. Try COMMAND HELP.`);
}

function config(args: readonly Buffer[], ctx: CommandContext): RespReply {
  const sub = args[1]?.toString('latin1').toUpperCase();
  if (sub === 'GET') {
    if (args.length < 3) return wrongArity('config|get');
    const out: RespReply[] = [];
    for (const p of args.slice(2)) {
      const re = globToRegExp(p.toString('utf8').toLowerCase());
      for (const [k, v] of Object.entries({ ...CONFIG, 'proto-max-bulk-len': String(ctx.maxValueBytes) })) {
        if (re.test(k)) out.push(bulk(k), bulk(v));
      }
    }
    return array(out);
  }
  if (sub === 'RESETSTAT') return OK;
  return error('ERR CONFIG supports GET and RESETSTAT only (settings are changed in the node\'s configuration)');
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function client(args: readonly Buffer[], ctx: CommandContext): RespReply {
  const sub = args[1]?.toString('latin1').toUpperCase();
  const s = ctx.session;
  switch (sub) {
    case 'SETNAME':
      if (args.length !== 3) return wrongArity('client|setname');
      if (/[\s]/.test(args[2]!.toString('utf8'))) return error('ERR Client names cannot contain spaces, newlines or special characters.');
      s.name = args[2]!.toString('utf8');
      return OK;
    case 'GETNAME':
      return bulk(s.name);
    case 'ID':
      return int(s.id);
    case 'SETINFO':
      return OK;
    case 'INFO':
      return bulk(`id=${s.id} addr=${s.remoteAddress} name=${s.name ?? ''} db=0 resp=2\n`);
    case 'LIST':
      return bulk(`id=${s.id} addr=${s.remoteAddress} name=${s.name ?? ''} db=0 resp=2\n`);
    default:
      return error(`ERR unknown subcommand '${args[1]?.toString('utf8').slice(0, 40) ?? ''}'. Try CLIENT HELP.`);
  }
}
