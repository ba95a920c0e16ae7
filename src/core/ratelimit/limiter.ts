/**
 * The rate limiter: compiled rules, one key table each, and the decision for one request.
 * Pure and synchronous; time comes in as `nowMs`.
 *
 * Every matching rule must pass. Rules are judged in order; if a later one refuses, the ones
 * that had admitted are rolled back (their first state floats restored), so a refused request
 * costs no rule any capacity. The headers come from the matching rule with the least remaining.
 *
 * Fail-open: `check` never throws. An exception inside (a bug, corrupt state) admits the request
 * and counts `failOpen`; a non-finite state is reset. The limiter must never be why a request fails.
 */
import type { Algorithm, Verdict } from './algorithms.js';
import { createAlgorithm, newVerdict } from './algorithms.js';
import type { Cidr } from './cidr.js';
import { cidrContains, parseCidr, parseIp } from './cidr.js';
import { KeyTable } from './key-table.js';
import type { RateDecision, RateLimitRule, RequestFacts } from './types.js';
import { murmur3x86_32 } from '../ring/hash.js';
import { utf8 } from '../bytes.js';

export const RATE_LIMIT_DEFAULTS = {
  keysMax: 100_000,
  softPercent: 10,
  /** Longest a leaky bucket holds a request; its queue is cut to fit. */
  leakyDelayMsMax: 30_000,
  /** Keys each rule examines for idleness per `sweep`. */
  sweepBudget: 2_000,
  /** API key values longer than this are keyed by a prefix and a hash of the whole. */
  keyCharsMax: 200,
} as const;

/** Rules whose state a refused request can roll back (more matching rules than this: the rest keep what they took). */
const SNAP_RULES_MAX = 16;

/** Where cluster-wide rules get their share of the cluster limit (sync.ts); called once per arrival. */
export interface ShareSource {
  share(rule: string, key: string, nowMs: number): number;
}

export interface RuleStats {
  name: string;
  scope: 'node' | 'cluster';
  allowed: number;
  refused: number;
  /** Admitted only thanks to a soft rule's allowance. */
  softOver: number;
  keys: number;
  overflowed: number;
}

export interface LimiterStats {
  rules: RuleStats[];
  failOpen: number;
}

interface CompiledRule {
  readonly def: RateLimitRule;
  readonly name: string;
  readonly cluster: boolean;
  readonly routes: readonly string[] | undefined;
  readonly block: Cidr | undefined;
  readonly apiKeyHeaderLc: string | undefined;
  readonly algo: Algorithm;
  readonly table: KeyTable;
  readonly snapWidth: number;
  stats: RuleStats;
}

function compile(def: RateLimitRule): CompiledRule {
  const soft = def.mode === 'soft' ? (def.softPercent ?? RATE_LIMIT_DEFAULTS.softPercent) : 0;
  const algo = createAlgorithm(def.algorithm, {
    limit: def.limit,
    windowMs: def.windowMs,
    burst: def.burst ?? Math.max(1, def.limit),
    softFactor: Math.round(100 + soft) / 100,
    delayMsMax: RATE_LIMIT_DEFAULTS.leakyDelayMsMax,
  });
  const block = def.match?.clientIp !== undefined ? parseCidr(def.match.clientIp) : undefined;
  if (def.match?.clientIp !== undefined && !block) throw new Error(`rule ${def.name}: bad clientIp ${def.match.clientIp}`);
  const cluster = def.scope === 'cluster';
  return {
    def, name: def.name, cluster, block, algo,
    routes: def.match?.routes,
    apiKeyHeaderLc: def.match?.apiKeyHeader?.toLowerCase(),
    table: new KeyTable(algo, def.keysMax ?? RATE_LIMIT_DEFAULTS.keysMax),
    snapWidth: Math.min(3, algo.width),
    stats: { name: def.name, scope: cluster ? 'cluster' : 'node', allowed: 0, refused: 0, softOver: 0, keys: 0, overflowed: 0 },
  };
}

function routeMatches(routes: readonly string[] | undefined, route: string): boolean {
  if (routes === undefined) return true;
  for (const r of routes) if (route.startsWith(r)) return true;
  return false;
}

function boundKey(prefix: string, value: string): string {
  if (value.length <= RATE_LIMIT_DEFAULTS.keyCharsMax) return prefix + value;
  const h = murmur3x86_32(utf8(value), 0x5bd1e995).toString(36);
  return `${prefix}${value.slice(0, RATE_LIMIT_DEFAULTS.keyCharsMax)}#${h}`;
}

/** The limited key of a request under a rule: its API key when the rule names a header and it is present, else the client IP. */
function keyOf(rule: CompiledRule, facts: RequestFacts): string {
  if (rule.apiKeyHeaderLc !== undefined && facts.header) {
    const v = facts.header(rule.apiKeyHeaderLc);
    if (v !== undefined && v !== '') return boundKey('k:', v);
  }
  return boundKey('ip:', facts.clientIp);
}

export class RateLimiter {
  private rules: CompiledRule[] = [];
  private shares: ShareSource | undefined;
  private failOpen = 0;
  private readonly verdict: Verdict = newVerdict();
  /** The first state floats of each rule a request touched (up to SNAP_RULES_MAX), for rollBack. */
  private readonly snap = new Float64Array(3 * SNAP_RULES_MAX);
  /** The rules (and their state offsets) the current request matched: [0, touchedCount). Reused, never truncated. */
  private readonly touchedRules: CompiledRule[] = [];
  private readonly touchedBases: number[] = [];
  private touchedCount = 0;

  constructor(rules: readonly RateLimitRule[] = []) {
    this.setRules(rules);
  }

  /**
   * Installs a new rule set. A rule whose definition is unchanged (same name, same JSON) keeps
   * its keys' state; the others start afresh. Throws on a rule that does not compile (the
   * config schema refuses those first), leaving the old rules in force.
   */
  setRules(defs: readonly RateLimitRule[]): void {
    const old = new Map(this.rules.map((r) => [JSON.stringify(r.def), r]));
    this.rules = defs.map((d) => old.get(JSON.stringify(d)) ?? compile(d));
  }

  ruleNames(): string[] {
    return this.rules.map((r) => r.name);
  }

  hasClusterRules(): boolean {
    return this.rules.some((r) => r.cluster);
  }

  setShareSource(src: ShareSource | undefined): void {
    this.shares = src;
  }

  /** Judges one request. Never throws; on an internal failure the request is admitted. */
  check(facts: RequestFacts, nowMs: number): RateDecision {
    if (this.rules.length === 0) return unlimited();
    try {
      return this.judge(facts, nowMs);
    } catch {
      this.failOpen++;
      return unlimited();
    }
  }

  private judge(facts: RequestFacts, nowMs: number): RateDecision {
    const d: RateDecision = { admitted: true, delayMs: 0, retryAfterMs: 0, rule: undefined, limit: 0, remaining: Infinity };
    let ip: Uint8Array | undefined | null = null;
    this.touchedCount = 0;
    for (const rule of this.rules) {
      if (!routeMatches(rule.routes, facts.route) && (facts.routeAlias === undefined || !routeMatches(rule.routes, facts.routeAlias))) continue;
      if (rule.block) {
        if (ip === null) ip = parseIp(facts.clientIp);
        if (!ip || !cidrContains(rule.block, ip)) continue;
      }
      const key = keyOf(rule, facts);
      const scale = rule.cluster && this.shares ? clampShare(this.shares.share(rule.name, key, nowMs)) : 1;
      const base = rule.table.slotOf(key, nowMs, scale);
      const s = rule.table.data;
      const n = this.touchedCount++;
      this.touchedRules[n] = rule;
      this.touchedBases[n] = base;
      if (n < SNAP_RULES_MAX) for (let i = 0; i < rule.snapWidth; i++) this.snap[n * 3 + i] = s[base + i]!;
      const v = this.verdict;
      rule.algo.admit(s, base, nowMs, scale, v);
      if (!finiteState(s, base, rule.snapWidth) || !Number.isFinite(v.retryAfterMs) || !Number.isFinite(v.delayMs)) {
        rule.algo.init(s, base, nowMs, scale);
        throw new Error(`rule ${rule.name}: state was not finite`);
      }
      if (v.admitted) {
        if (v.overNominal) rule.stats.softOver++;
        if (v.delayMs > d.delayMs) d.delayMs = v.delayMs;
      } else {
        d.admitted = false;
        d.retryAfterMs = Math.max(d.retryAfterMs, v.retryAfterMs);
        rule.stats.refused++;
      }
      // Headers: the least remaining; among equals, a refusing rule.
      if (d.rule === undefined || v.remaining < d.remaining || (!v.admitted && v.remaining === d.remaining)) {
        d.rule = rule.name;
        d.limit = rule.def.limit;
        d.remaining = v.remaining;
      }
    }
    if (d.admitted) {
      for (let n = 0; n < this.touchedCount; n++) this.touchedRules[n]!.stats.allowed++;
    } else {
      this.rollBack();
      d.delayMs = 0;
    }
    if (d.rule === undefined) d.remaining = 0;
    return d;
  }

  /** A refused request takes nothing: restore the rules that had admitted it. */
  private rollBack(): void {
    for (let n = 0; n < Math.min(this.touchedCount, SNAP_RULES_MAX); n++) {
      const rule = this.touchedRules[n]!;
      const s = rule.table.data;
      const base = this.touchedBases[n]!;
      for (let i = 0; i < rule.snapWidth; i++) s[base + i] = this.snap[n * 3 + i]!;
    }
  }

  /** Forgets idle keys (bounded work per rule); the shell calls it on a timer. */
  sweep(nowMs: number): number {
    let n = 0;
    for (const r of this.rules) n += r.table.sweep(nowMs, RATE_LIMIT_DEFAULTS.sweepBudget);
    return n;
  }

  stats(): LimiterStats {
    return {
      failOpen: this.failOpen,
      rules: this.rules.map((r) => ({ ...r.stats, keys: r.table.size, overflowed: r.table.overflowed })),
    };
  }

  /** Counts a failure the shell caught around `check` (it admitted the request). */
  noteFailOpen(): void {
    this.failOpen++;
  }
}

function finiteState(s: Float64Array, base: number, width: number): boolean {
  for (let i = 0; i < width; i++) if (!Number.isFinite(s[base + i]!)) return false;
  return true;
}

function clampShare(s: number): number {
  return Number.isFinite(s) && s > 0 ? Math.min(1, s) : 1;
}

function unlimited(): RateDecision {
  return { admitted: true, delayMs: 0, retryAfterMs: 0, rule: undefined, limit: 0, remaining: 0 };
}
