/**
 * The settings of API.md. Each is a config-file key (JSON or YAML, by file extension), a flag
 * and a GOSSAMER_* environment variable; the first source that has it wins, in the order
 * flag > env > file > default. Every value is validated (zod); a bad one stops start-up with
 * one line naming the setting and where it came from, e.g.
 *   gossamer: invalid setting "partitions" (--partitions): must be a power of two
 *
 * Beyond API.md's table: `advertise` (the inter-node address peers are told, default `listen`),
 * `logLevel` and `tickMs` (how often the runtime ticks the core).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { largestValueBytes } from '../core/clock/state-budget.js';
import type { RateLimitRule as CoreRateLimitRule } from '../core/ratelimit/types.js';
import { parseCidr } from '../core/ratelimit/cidr.js';

export type ConsistencyLevel = number | 'one' | 'quorum' | 'all' | 'local_one' | 'local_quorum' | 'each_quorum';
export type CommitlogSync = 'group' | 'periodic' | 'none';
export type LogLevelSetting = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** A rate-limit rule (API.md "Rate limits"); the limiter's own type. */
export type RateLimitRule = CoreRateLimitRule;

export interface NodeConfig {
  nodeId: string;
  dataDir: string;
  /** Inter-node listen address, `host:port`. */
  listen: string;
  /** The inter-node address announced to peers. */
  advertise: string;
  http: string;
  resp: string;
  seeds: string[];
  dc: string;
  rack: string;
  weight: number;
  n: number;
  r: ConsistencyLevel;
  w: ConsistencyLevel;
  partitions: number;
  requestTimeoutMs: number;
  maxValueBytes: number;
  commitlogSync: CommitlogSync;
  /** Replicas per data centre; absent: N replicas wherever the ring puts them. */
  replication?: Record<string, number>;
  rateLimits: RateLimitRule[];
  tickMs: number;
  /** A membership gossip round every this many ms (the failure detector's timings follow it). */
  gossipIntervalMs: number;
  logLevel: LogLevelSetting;
  /** Security (docs/security.md): file paths; the secret may also come from GOSSAMER_CLUSTER_SECRET. */
  clusterSecretFile?: string;
  tls?: TlsSetting;
  tokensFile?: string;
  /** Self-management (docs/autoscale.md): join once healthy; hand partitions over before exiting on SIGTERM. */
  autoJoin: boolean;
  decommissionOnStop: boolean;
  /** The config file read, if any. */
  configFile?: string;
}

/** Certificate, key and CA files of the three listeners; `mutual` asks peers for certificates. */
export interface TlsSetting { cert?: string; key?: string; ca?: string; mutual?: boolean }

export type SettingKey = Exclude<keyof NodeConfig, 'configFile'> | 'tlsCert' | 'tlsKey' | 'tlsCa';
export type Source = 'flag' | 'env' | 'file' | 'default';

export interface SettingSpec {
  readonly key: SettingKey;
  /** Long flag without the dashes; absent for config-file-only settings. */
  readonly flag?: string;
  /** Placeholder for the flag's value in --help; absent for a switch (a flag without a value). */
  readonly arg?: string;
  readonly env?: string;
  readonly describe: string;
}

export const SETTINGS: readonly SettingSpec[] = [
  { key: 'nodeId', flag: 'node-id', arg: 'id', env: 'GOSSAMER_NODE_ID', describe: 'unique node id (default: derived from --listen)' },
  { key: 'dataDir', flag: 'data', arg: 'dir', env: 'GOSSAMER_DATA', describe: 'data directory (default: ./data/<nodeId>)' },
  { key: 'listen', flag: 'listen', arg: 'host:port', env: 'GOSSAMER_LISTEN', describe: 'inter-node address (default 127.0.0.1:7000)' },
  { key: 'advertise', flag: 'advertise', arg: 'host:port', env: 'GOSSAMER_ADVERTISE', describe: 'inter-node address told to peers (default: --listen)' },
  { key: 'http', flag: 'http', arg: 'host:port', env: 'GOSSAMER_HTTP', describe: 'HTTP API address (default 127.0.0.1:8000)' },
  { key: 'resp', flag: 'resp', arg: 'host:port', env: 'GOSSAMER_RESP', describe: 'RESP (Redis protocol) address (default 127.0.0.1:6380)' },
  { key: 'seeds', flag: 'seeds', arg: 'h:p,...', env: 'GOSSAMER_SEEDS', describe: 'inter-node addresses of seed nodes (default: none, a cluster of one)' },
  { key: 'dc', flag: 'dc', arg: 'dc', env: 'GOSSAMER_DC', describe: 'data centre (default dc1)' },
  { key: 'rack', flag: 'rack', arg: 'rack', env: 'GOSSAMER_RACK', describe: 'rack (default rack1)' },
  { key: 'weight', flag: 'weight', arg: 'w', env: 'GOSSAMER_WEIGHT', describe: 'share of partitions to claim, relative (default 1)' },
  { key: 'n', flag: 'n', arg: 'n', env: 'GOSSAMER_N', describe: 'replicas per key, for a new cluster (default 3)' },
  { key: 'r', flag: 'r', arg: 'r', env: 'GOSSAMER_R', describe: 'default R: 1..N, one, quorum, all (default quorum)' },
  { key: 'w', flag: 'w', arg: 'w', env: 'GOSSAMER_W', describe: 'default W: 1..N, one, quorum, all (default quorum)' },
  { key: 'partitions', flag: 'partitions', arg: 'q', env: 'GOSSAMER_PARTITIONS', describe: 'partitions Q, a power of two, for a new cluster (default 1024)' },
  { key: 'requestTimeoutMs', flag: 'request-timeout-ms', arg: 'ms', env: 'GOSSAMER_REQUEST_TIMEOUT_MS', describe: 'default request timeout (default 2000)' },
  { key: 'maxValueBytes', flag: 'max-value-bytes', arg: 'bytes', env: 'GOSSAMER_MAX_VALUE_BYTES', describe: 'largest value accepted (default 1048576)' },
  { key: 'commitlogSync', flag: 'commitlog-sync', arg: 'mode', env: 'GOSSAMER_COMMITLOG_SYNC', describe: 'group, periodic or none (default group)' },
  { key: 'replication', describe: 'replicas per data centre (config file only)' },
  { key: 'rateLimits', describe: 'rate-limit rules (config file only)' },
  { key: 'tickMs', flag: 'tick-ms', arg: 'ms', env: 'GOSSAMER_TICK_MS', describe: 'how often the core ticks (default 10)' },
  { key: 'gossipIntervalMs', flag: 'gossip-interval-ms', arg: 'ms', env: 'GOSSAMER_GOSSIP_INTERVAL_MS', describe: 'membership gossip round interval (default 1000)' },
  { key: 'logLevel', flag: 'log-level', arg: 'level', env: 'GOSSAMER_LOG_LEVEL', describe: 'debug, info, warn, error or silent (default info)' },
  { key: 'clusterSecretFile', flag: 'cluster-secret-file', arg: 'file', env: 'GOSSAMER_CLUSTER_SECRET_FILE', describe: 'file of the cluster secret, or the secret itself in GOSSAMER_CLUSTER_SECRET (default: open cluster)' },
  { key: 'tls', describe: 'TLS files {cert, key, ca, mutual} (config file only; or the flags below)' },
  { key: 'tlsCert', flag: 'tls-cert', arg: 'file', env: 'GOSSAMER_TLS_CERT', describe: 'TLS certificate (PEM) of all three listeners' },
  { key: 'tlsKey', flag: 'tls-key', arg: 'file', env: 'GOSSAMER_TLS_KEY', describe: 'TLS private key (PEM)' },
  { key: 'tlsCa', flag: 'tls-ca', arg: 'file', env: 'GOSSAMER_TLS_CA', describe: 'CA (PEM) that signs the nodes\' certificates' },
  { key: 'tokensFile', flag: 'tokens-file', arg: 'file', env: 'GOSSAMER_TOKENS_FILE', describe: 'API tokens, JSON (default: no client authentication)' },
  { key: 'autoJoin', flag: 'auto-join', env: 'GOSSAMER_AUTO_JOIN', describe: 'join the ring and commit the claim once healthy (default false)' },
  { key: 'decommissionOnStop', flag: 'decommission-on-stop', env: 'GOSSAMER_DECOMMISSION_ON_STOP', describe: 'on SIGTERM, hand partitions over and leave before exiting (default false)' },
];

export const CONFIG_ENV = 'GOSSAMER_CONFIG';

export class ConfigError extends Error {
  readonly code = 'bad_config';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
  /** The one line printed before exiting with status 2. */
  get line(): string {
    return `gossamer: ${this.message}`;
  }
}

// ---- value schemas (inputs are strings from flags and env, or whatever YAML/JSON gives) ----

function toNumber(v: unknown): unknown {
  if (typeof v === 'string' && /^\s*-?[0-9]+(\.[0-9]+)?\s*$/.test(v)) return Number(v);
  return v;
}

const intIn = (min: number, max: number) =>
  z.preprocess(toNumber, z.number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` }));

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

export function splitHostPort(addr: string): { host: string; port: number } {
  const m = ADDRESS.exec(addr);
  if (!m) throw new Error(`not a host:port address: ${addr}`);
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port: Number(m[2]) };
}

const address = z.string({ error: 'must be host:port' }).trim()
  .regex(ADDRESS, { error: 'must be host:port (e.g. 127.0.0.1:7000)' })
  .refine((s) => { const p = Number(ADDRESS.exec(s)?.[2]); return p >= 1 && p <= 65535; }, { error: 'port must be 1..65535' });

const name = (what: string) => z.string({ error: `must be a ${what}` }).trim()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1..64 letters, digits, ".", "_" or "-"' });

const consistency = z.preprocess(
  (v) => {
    return toNumber(v);
  },
  z.union([z.literal('one'), z.literal('quorum'), z.literal('all'), z.literal('local_one'), z.literal('local_quorum'),
    z.literal('each_quorum'), z.number().int().min(1)],
    { error: 'must be a whole number ≥ 1, one, quorum, all, local_one, local_quorum or each_quorum' }),
);

const seeds = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : v),
  z.array(address, { error: 'must be a list of host:port addresses' }).max(256, { error: 'at most 256 seeds' }),
);

/** Rate-limit rules: bounded in size, names usable as metric labels, CIDRs parsed, memory per key bounded. */
const RATE_LIMIT_RULES_MAX = 256;
const SLIDING_LOG_ENTRIES_MAX = 100_000;
const rateLimitRule = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1..64 letters, digits, ".", "_" or "-"' }),
  match: z.object({
    clientIp: z.string().refine((v) => parseCidr(v.trim()) !== undefined, { error: 'must be an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8' })
      .transform((v) => v.trim()).optional(),
    apiKeyHeader: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, { error: 'must be an HTTP header name' }).optional(),
    routes: z.array(z.string().min(1).max(256), { error: 'must be a list of route prefixes, e.g. ["GET /kv"]' }).max(64).optional(),
  }).strict().optional(),
  algorithm: z.enum(['token_bucket', 'leaky_bucket', 'fixed_window', 'sliding_window_log', 'sliding_window_counter'],
    { error: 'must be token_bucket, leaky_bucket, fixed_window, sliding_window_log or sliding_window_counter' }),
  limit: z.number().positive().max(1e9),
  windowMs: z.number().int().positive().max(86_400_000),
  burst: z.number().min(1).max(1e9).optional(),
  scope: z.enum(['node', 'cluster']).optional(),
  mode: z.enum(['hard', 'soft']).optional(),
  softPercent: z.number().min(0).max(100).optional(),
  keysMax: z.number().int().min(1).max(10_000_000).optional(),
}).strict().superRefine((r, ctx) => {
  const windowed = r.algorithm === 'fixed_window' || r.algorithm === 'sliding_window_log' || r.algorithm === 'sliding_window_counter';
  if (windowed && r.limit < 1) ctx.addIssue({ code: 'custom', path: ['limit'], message: 'must be at least 1 for a window algorithm' });
  const soft = r.mode === 'soft' ? (r.softPercent ?? 10) : 0;
  if (r.algorithm === 'sliding_window_log' && Math.ceil(r.limit * (1 + soft / 100)) > SLIDING_LOG_ENTRIES_MAX) {
    ctx.addIssue({ code: 'custom', path: ['limit'], message: `sliding_window_log keeps one timestamp per request: at most ${SLIDING_LOG_ENTRIES_MAX} per window` });
  }
});

const rateLimitRules = z.array(rateLimitRule, { error: 'must be a list of rules' }).max(RATE_LIMIT_RULES_MAX)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${r.name}" names two rules` });
      seen.add(r.name);
    });
  });

/** Validates a `rateLimits` value (start-up and reload); throws ConfigError naming where it came from. */
export function parseRateLimits(raw: unknown, where: string): RateLimitRule[] {
  if (raw === undefined || raw === null) return [];
  const parsed = rateLimitRules.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid setting "rateLimits" (${where}): ${firstIssue(parsed.error)}`);
  return parsed.data as RateLimitRule[];
}

/** A switch: true/false (also 1/0, yes/no, on/off from the environment). */
const switchValue = z.preprocess((v) => (typeof v === 'string' ? ({ true: true, '1': true, yes: true, on: true, false: false, '0': false, no: false, off: false } as Record<string, boolean>)[v.trim().toLowerCase()] ?? v : v),
  z.boolean({ error: 'must be true or false' }));

const filePath = z.string({ error: 'must be a file path' }).trim().min(1, { error: 'must not be empty' });

const SCHEMAS: Record<SettingKey, z.ZodType> = {
  nodeId: name('node id'),
  dataDir: z.string({ error: 'must be a path' }).min(1, { error: 'must not be empty' }),
  listen: address,
  advertise: address,
  http: address,
  resp: address,
  seeds,
  dc: name('data-centre name'),
  rack: name('rack name'),
  weight: z.preprocess(toNumber, z.number({ error: 'must be a number' })
    .positive({ error: 'must be above 0' }).max(1000, { error: 'must be at most 1000' })),
  n: intIn(1, 16),
  r: consistency,
  w: consistency,
  partitions: intIn(1, 65536).refine((v) => (v & (v - 1)) === 0, { error: 'must be a power of two' }),
  requestTimeoutMs: intIn(1, 600_000),
  // A key's whole state crosses the wire in one frame (8 MiB): values stay well below it.
  maxValueBytes: intIn(1, 4 * 1024 * 1024),
  commitlogSync: z.enum(['group', 'periodic', 'none'], { error: 'must be group, periodic or none' }),
  replication: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), z.number().int().min(1).max(16),
    { error: 'must map data-centre names to replica counts, e.g. {"dc1": 3}' }),
  rateLimits: rateLimitRules,
  tickMs: intIn(1, 1000),
  gossipIntervalMs: intIn(10, 600_000),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent'], { error: 'must be debug, info, warn, error or silent' }),
  clusterSecretFile: filePath,
  tls: z.object({ cert: filePath.optional(), key: filePath.optional(), ca: filePath.optional(), mutual: z.boolean().optional() },
    { error: 'must be {"cert", "key", "ca", "mutual"}' }).strict(),
  tlsCert: filePath,
  tlsKey: filePath,
  tlsCa: filePath,
  tokensFile: filePath,
  autoJoin: switchValue,
  decommissionOnStop: switchValue,
};

export const DEFAULT_LISTEN = '127.0.0.1:7000';
export const DEFAULT_HTTP = '127.0.0.1:8000';
export const DEFAULT_RESP = '127.0.0.1:6380';

/** A readable, stable id from an address: `127.0.0.1:7000` → `node-127.0.0.1-7000`. */
export function deriveNodeId(listen: string): string {
  const { host, port } = splitHostPort(listen);
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const base = (wildcard ? hostname() : host).replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-+|-+$/g, '') || 'host';
  return `node-${base.slice(0, 40)}-${port}`;
}

export interface LoadOptions {
  /** Raw flag values by setting key (as the CLI parsed them), plus `config` for --config. */
  flags?: Partial<Record<SettingKey | 'config', unknown>>;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface LoadedConfig {
  config: NodeConfig;
  sources: Record<SettingKey, Source>;
}

function describeSource(spec: SettingSpec, source: Source, file?: string): string {
  switch (source) {
    case 'flag': return `--${spec.flag}`;
    case 'env': return spec.env ?? 'env';
    case 'file': return `in ${file ?? 'the config file'}`;
    default: return 'default';
  }
}

function firstIssue(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'is invalid';
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return where + issue.message;
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const ext = path.extname(file).toLowerCase();
  let data: unknown;
  try {
    if (ext === '.json') data = JSON.parse(text);
    else if (ext === '.yaml' || ext === '.yml') data = parseYaml(text);
    else throw new ConfigError(`config file ${file} must end in .json, .yaml or .yml`);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`config file ${file} is not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${String((e as Error).message).split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`config file ${file} must hold an object of settings`);
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  for (const k of Object.keys(data)) {
    if (!known.has(k)) throw new ConfigError(`unknown setting "${k}" in config file ${file}`);
  }
  return data as Record<string, unknown>;
}

/** Resolves every setting from its sources and validates it; throws ConfigError (one line). */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const flags = opts.flags ?? {};
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();

  const configPath = flags.config ?? env[CONFIG_ENV];
  let file: Record<string, unknown> = {};
  let configFile: string | undefined;
  if (configPath !== undefined && configPath !== '') {
    configFile = path.resolve(cwd, String(configPath));
    file = readConfigFile(configFile);
  }

  const values: Partial<Record<SettingKey, unknown>> = {};
  const sources = {} as Record<SettingKey, Source>;
  for (const spec of SETTINGS) {
    let raw: unknown;
    let source: Source = 'default';
    if (spec.flag && flags[spec.key] !== undefined) {
      raw = flags[spec.key];
      source = 'flag';
    } else if (spec.env && env[spec.env] !== undefined && env[spec.env] !== '') {
      raw = env[spec.env];
      source = 'env';
    } else if (file[spec.key] !== undefined) {
      raw = file[spec.key];
      source = 'file';
    }
    sources[spec.key] = source;
    if (source === 'default') continue;
    const parsed = SCHEMAS[spec.key].safeParse(raw);
    if (!parsed.success) {
      throw new ConfigError(`invalid setting "${spec.key}" (${describeSource(spec, source, configFile)}): ${firstIssue(parsed.error)}`);
    }
    values[spec.key] = parsed.data;
  }

  const listen = (values.listen as string | undefined) ?? DEFAULT_LISTEN;
  const nodeId = (values.nodeId as string | undefined) ?? deriveNodeId(listen);
  const replication = values.replication as Record<string, number> | undefined;
  const replicationTotal = replication ? Object.values(replication).reduce((a, b) => a + b, 0) : 0;
  // With per-DC replication, N is their sum (given or not; if given, it must agree).
  const n = (values.n as number | undefined) ?? (replication ? replicationTotal : 3);
  const dc = (values.dc as string | undefined) ?? 'dc1';
  const config: NodeConfig = {
    nodeId,
    dataDir: path.resolve(cwd, (values.dataDir as string | undefined) ?? path.join('data', nodeId)),
    listen,
    advertise: (values.advertise as string | undefined) ?? listen,
    http: (values.http as string | undefined) ?? DEFAULT_HTTP,
    resp: (values.resp as string | undefined) ?? DEFAULT_RESP,
    seeds: [...new Set((values.seeds as string[] | undefined) ?? [])],
    dc,
    rack: (values.rack as string | undefined) ?? 'rack1', weight: (values.weight as number | undefined) ?? 1,
    n,
    r: (values.r as ConsistencyLevel | undefined) ?? 'quorum',
    w: (values.w as ConsistencyLevel | undefined) ?? 'quorum',
    partitions: (values.partitions as number | undefined) ?? 1024,
    requestTimeoutMs: (values.requestTimeoutMs as number | undefined) ?? 2000,
    // The default 1 MiB, unless the key's per-replica share is smaller (N ≥ 7): see state-budget.ts.
    maxValueBytes: (values.maxValueBytes as number | undefined) ?? Math.min(1_048_576, largestValueBytes(n)),
    commitlogSync: (values.commitlogSync as CommitlogSync | undefined) ?? 'group',
    ...(replication ? { replication } : {}),
    rateLimits: (values.rateLimits as RateLimitRule[] | undefined) ?? [],
    tickMs: (values.tickMs as number | undefined) ?? 10,
    gossipIntervalMs: (values.gossipIntervalMs as number | undefined) ?? 1000,
    logLevel: (values.logLevel as LogLevelSetting | undefined) ?? 'info',
    ...securitySettings(values, cwd),
    autoJoin: (values.autoJoin as boolean | undefined) ?? false,
    decommissionOnStop: (values.decommissionOnStop as boolean | undefined) ?? false,
    ...(configFile !== undefined ? { configFile } : {}),
  };

  checkAcrossSettings(config, sources, replicationTotal, configFile);
  return { config, sources };
}

/** The security settings' paths, resolved; the flags override the `tls` object's fields. */
function securitySettings(values: Partial<Record<SettingKey, unknown>>, cwd: string): Pick<NodeConfig, 'clusterSecretFile' | 'tls' | 'tokensFile'> {
  const abs = (p: unknown): string | undefined => (typeof p === 'string' ? path.resolve(cwd, p) : undefined);
  const file = (values.tls ?? {}) as TlsSetting;
  const tls: TlsSetting = {};
  for (const [k, flagKey] of [['cert', 'tlsCert'], ['key', 'tlsKey'], ['ca', 'tlsCa']] as const) {
    const p = abs(values[flagKey] ?? file[k]);
    if (p !== undefined) tls[k] = p;
  }
  if (file.mutual !== undefined) tls.mutual = file.mutual;
  const secret = abs(values.clusterSecretFile);
  const tokens = abs(values.tokensFile);
  return {
    ...(secret !== undefined ? { clusterSecretFile: secret } : {}),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
    ...(tokens !== undefined ? { tokensFile: tokens } : {}),
  };
}

/** Checks across settings, each error named after the setting that is out of line. */
function checkAcrossSettings(config: NodeConfig, sources: Record<SettingKey, Source>, replicationTotal: number, configFile: string | undefined): void {
  const n = config.n;
  const spec = (k: SettingKey): SettingSpec => SETTINGS.find((s) => s.key === k)!;
  for (const k of ['r', 'w'] as const) {
    const v = config[k];
    if (typeof v === 'number' && v > n) {
      throw new ConfigError(`invalid setting "${k}" (${describeSource(spec(k), sources[k], configFile)}): ${k.toUpperCase()}=${v} is above N=${n}`);
    }
  }
  if (config.replication) {
    if (replicationTotal < 1) throw new ConfigError(`invalid setting "replication" (in ${configFile}): must name at least one data centre`);
    if (config.n !== replicationTotal) {
      throw new ConfigError(`invalid setting "n" (${describeSource(spec('n'), sources.n, configFile)}): n=${config.n} but "replication" sums to ${replicationTotal}`);
    }
  }
  if (config.maxValueBytes > largestValueBytes(n)) {
    throw new ConfigError(`invalid setting "maxValueBytes" (${describeSource(spec('maxValueBytes'), sources.maxValueBytes, configFile)}): ` +
      `with N=${n} a value may be at most ${largestValueBytes(n)} bytes (each replica coordinates a 1/N share of a key's 7 MiB)`);
  }
  const ports = new Map<string, SettingKey>();
  for (const k of ['listen', 'http', 'resp'] as const) {
    const a = config[k];
    const other = ports.get(a);
    if (other) throw new ConfigError(`invalid setting "${k}" (${describeSource(spec(k), sources[k], configFile)}): same address as "${other}" (${a})`);
    ports.set(a, k);
  }
}
