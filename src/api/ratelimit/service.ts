/**
 * The rate limiter of one node, in the shell: the pure limiter and sync state machine (src/core/
 * ratelimit) driven by a Clock, fed by the HTTP server (and, once wired, the RESP server), and
 * talking to peers over the inter-node transport as the `rl-*` message family.
 *
 * Fail-open everywhere: an exception while judging a request admits it; one while syncing skips
 * that round. Both are counted (gossamer_ratelimit_fail_open_total,
 * gossamer_ratelimit_sync_failures_total) and logged at most once per `warnEveryMs`.
 */
import type { Clock, Logger, TimerHandle } from '../../ports/index.js';
import { silentLogger } from '../../ports/index.js';
import { RateLimiter } from '../../core/ratelimit/limiter.js';
import type { LimiterStats } from '../../core/ratelimit/limiter.js';
import { RateLimitSync, SYNC_DEFAULTS } from '../../core/ratelimit/sync.js';
import type { RlMessage, SyncOptions, SyncStats } from '../../core/ratelimit/sync.js';
import type { RateDecision, RateLimitRule, RequestFacts } from '../../core/ratelimit/types.js';
import { respRateLimitedError } from './responses.js';

/** How the service reaches its peers (the composition root adapts the transport). */
export interface PeerLink {
  send(to: string, msg: RlMessage): void;
  /** Ids of the peers connected now. */
  connectedPeers(): string[];
}

export interface RateLimitServiceOptions {
  rules: readonly RateLimitRule[];
  clock: Clock;
  logger?: Logger;
  sync?: SyncOptions;
  warnEveryMs?: number;
}

export interface RateLimitStats extends LimiterStats {
  sync: SyncStats;
  syncFailures: number;
}

/** The outcome of checking one RESP command. */
export interface RespRateCheck {
  ok: boolean;
  /** Admitted by a leaky bucket: hold the command this long before running it. */
  delayMs: number;
  /** Refused: the simple-error text, `ERR rate limited, retry after N s`. */
  error?: string;
  /** Refused: the whole RESP reply line, `-ERR rate limited, retry after N s\r\n`. */
  reply?: string;
}

export class RateLimitService {
  readonly limiter: RateLimiter;
  readonly sync: RateLimitSync;
  private rules: readonly RateLimitRule[];
  private link: PeerLink | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private syncFailures = 0;
  private lastWarnMs = -Infinity;
  private readonly logger: Logger;
  private readonly intervalMs: number;

  constructor(private readonly opts: RateLimitServiceOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.rules = opts.rules;
    this.limiter = new RateLimiter(opts.rules);
    this.sync = new RateLimitSync(opts.sync);
    this.limiter.setShareSource(this.sync);
    this.intervalMs = opts.sync?.intervalMs ?? SYNC_DEFAULTS.intervalMs;
  }

  /** Starts the periodic sync and sweep. */
  start(link?: PeerLink): void {
    this.link = link;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimer(this.timer);
  }

  currentRules(): readonly RateLimitRule[] {
    return this.rules;
  }

  /** Installs new rules (a reload); unchanged rules keep their state. */
  setRules(rules: readonly RateLimitRule[]): void {
    this.limiter.setRules(rules);
    this.rules = rules;
  }

  /** Judges one request; never throws (fail-open). */
  check(facts: RequestFacts): RateDecision {
    try {
      return this.limiter.check(facts, this.opts.clock.nowMs());
    } catch (e) {
      this.limiter.noteFailOpen();
      this.warn('rate limiter failed; request admitted', e);
      return { admitted: true, delayMs: 0, retryAfterMs: 0, rule: undefined, limit: 0, remaining: 0 };
    }
  }

  /** For the RESP front end: `command` is the command name (`SET`), judged as route `"RESP SET"`. */
  checkResp(clientIp: string, command: string, apiKey?: string): RespRateCheck {
    if (this.rules.length === 0) return RESP_UNLIMITED;
    const facts: RequestFacts = { route: `RESP ${command.toUpperCase()}`, clientIp };
    if (apiKey !== undefined) facts.header = () => apiKey;
    const d = this.check(facts);
    if (d.admitted) return { ok: true, delayMs: d.delayMs };
    const error = respRateLimitedError(d.retryAfterMs);
    return { ok: false, delayMs: 0, error, reply: `-${error}\r\n` };
  }

  /** A message of the `rl-*` family from a peer (the runtime routes them here). */
  onPeerMessage(from: string, msg: unknown): void {
    try {
      this.sync.receive(from, msg, this.opts.clock.nowMs());
    } catch (e) {
      this.syncFailures++;
      this.warn('rate-limit sync message failed', e);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimer(this.intervalMs, () => {
      this.round();
      this.schedule();
    });
  }

  /** One sync round and sweep; exposed for tests on virtual time. */
  round(): void {
    const now = this.opts.clock.nowMs();
    try {
      const peers = this.link?.connectedPeers() ?? [];
      const out = this.limiter.hasClusterRules() || this.sync.stats().keys > 0 ? this.sync.tick(now, peers) : [];
      for (const m of out) this.link?.send(m.to, m.msg);
    } catch (e) {
      this.syncFailures++;
      this.warn('rate-limit sync failed; limits fall back to this node\'s view', e);
    }
    try {
      this.limiter.sweep(now);
    } catch (e) {
      this.warn('rate-limit sweep failed', e);
    }
  }

  private warn(msg: string, e: unknown): void {
    const now = this.opts.clock.nowMs();
    if (now - this.lastWarnMs < (this.opts.warnEveryMs ?? 10_000)) return;
    this.lastWarnMs = now;
    this.logger.warn(msg, { error: e instanceof Error ? e.message : String(e) });
  }

  stats(): RateLimitStats {
    return { ...this.limiter.stats(), sync: this.sync.stats(), syncFailures: this.syncFailures };
  }

  /** Prometheus text lines (gossamer_ratelimit_*). */
  renderMetrics(): string {
    const s = this.stats();
    const lines: string[] = [];
    const family = (name: string, type: string, help: string, rows: Array<[string, number]>): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) lines.push(`${name}${labels} ${v}`);
    };
    const perRule = (f: (r: LimiterStats['rules'][number]) => number): Array<[string, number]> =>
      s.rules.map((r) => [`{rule="${r.name}",scope="${r.scope}"}`, f(r)]);
    family('gossamer_ratelimit_allowed_total', 'counter', 'Requests a rate-limit rule matched and let through.', perRule((r) => r.allowed));
    family('gossamer_ratelimit_refused_total', 'counter', 'Requests a rate-limit rule refused (429).', perRule((r) => r.refused));
    family('gossamer_ratelimit_soft_over_total', 'counter', 'Requests admitted only by a soft rule\'s allowance.', perRule((r) => r.softOver));
    family('gossamer_ratelimit_keys', 'gauge', 'Clients tracked by a rule on this node.', perRule((r) => r.keys));
    family('gossamer_ratelimit_overflowed_total', 'counter', 'Requests judged on the shared overflow slot (key table full).', perRule((r) => r.overflowed));
    family('gossamer_ratelimit_fail_open_total', 'counter', 'Requests admitted because the limiter failed (warning).', [['', s.failOpen]]);
    family('gossamer_ratelimit_sync_failures_total', 'counter', 'Sync rounds or messages that failed (warning).', [['', s.syncFailures]]);
    family('gossamer_ratelimit_sync_malformed_total', 'counter', 'Malformed rl-* messages dropped.', [['', s.sync.malformed]]);
    family('gossamer_ratelimit_sync_messages_total', 'counter', 'rl-* messages sent and received.',
      [['{direction="sent"}', s.sync.messagesSent], ['{direction="received"}', s.sync.messagesReceived]]);
    return lines.join('\n') + '\n';
  }
}

/** checkResp's answer when no rule is configured (shared; callers only read it). */
const RESP_UNLIMITED: RespRateCheck = Object.freeze({ ok: true as const, delayMs: 0 });
