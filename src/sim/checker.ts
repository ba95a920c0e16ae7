/**
 * The simulator's invariants, checked after the faults stop and the replicas converge:
 * (a) no acknowledged write is lost: each is present, or superseded by a write whose context
 *     covered it *and whose client had observed it* (read it, or wrote it) — and that one survives
 *     in turn. Versions are identified by their write (a unique tag per write), never by the dot
 *     alone, and "observed" comes from the clients' history, never from the contexts the system
 *     handed out: a system that over-claims in a context, or gives two writes one dot, is caught;
 * (b) siblings are exactly the concurrent versions: no surviving sibling's context covers another;
 * (c) replicas converge: every replica of a key holds the same state.
 */
import type { CausalContext } from '../core/clock/context.js';
import { contextCovers } from '../core/clock/context.js';
import type { KeyState } from '../core/clock/state.js';
import { statesEqual } from '../core/clock/state.js';
import type { Dot } from '../core/clock/vclock.js';
import { dotKey } from '../core/clock/vclock.js';
import type { HistoryRecord } from './workload.js';

export interface CreatedVersion {
  key: string;
  tag: string;
  dot: Dot;
  context: CausalContext;
}

export interface Violation {
  invariant: 'lost-write' | 'false-sibling' | 'divergence' | 'sibling-bound';
  key: string;
  detail: string;
}

export interface CheckInput {
  history: readonly HistoryRecord[];
  created: readonly CreatedVersion[];
  /** key → (replica → its final local state) */
  finalStates: ReadonlyMap<string, ReadonlyMap<string, KeyState>>;
  /**
   * When set, no key may end with more siblings than this many writers, plus the writes on the key
   * whose outcome their writer never learned (a timeout or error may still have stored them, and the
   * writer cannot cover what it never saw). Meant for writers that carry their context.
   */
  maxSiblings?: number;
}

export function checkInvariants(input: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const byKey = new Map<string, CreatedVersion[]>();
  for (const v of input.created) {
    const list = byKey.get(v.key) ?? [];
    list.push(v);
    byKey.set(v.key, list);
  }
  for (const [key, replicas] of input.finalStates) {
    const states = [...replicas.entries()];
    const first = states[0]?.[1];
    for (const [node, s] of states) {
      if (first && !statesEqual(first, s)) {
        violations.push({ invariant: 'divergence', key, detail: `replica ${node} differs from ${states[0]![0]}` });
      }
    }
    if (!first) continue;
    checkWrites(key, first, byKey.get(key) ?? [], input.history, violations);
    const ctxOf = new Map((byKey.get(key) ?? []).map((v) => [v.tag, v.context]));
    for (const s of first.siblings) {
      for (const t of first.siblings) {
        if (s === t) continue;
        const tc = ctxOf.get(t.contentType);
        if (tc && contextCovers(tc, s.dot)) {
          violations.push({ invariant: 'false-sibling', key, detail: `sibling ${dotKey(t.dot)} supersedes sibling ${dotKey(s.dot)}` });
        }
      }
    }
    if (input.maxSiblings !== undefined) {
      const unknown = input.history.filter((r) => r.key === key && r.kind !== 'get' && r.outcome !== 'ok').length;
      if (first.siblings.length > input.maxSiblings + unknown) {
        violations.push({ invariant: 'sibling-bound', key, detail: `${first.siblings.length} siblings > ${input.maxSiblings} writers + ${unknown} writes of unknown outcome` });
      }
    }
  }
  return violations;
}

/**
 * Rule (a) for one key. A tag survives when a final sibling carries it, or when some write that
 * may have taken effect sent a context covering one of the tag's dots while its client had
 * observed the tag (its `basis`), and that write survives in turn.
 */
function checkWrites(key: string, final: KeyState, versions: readonly CreatedVersion[], history: readonly HistoryRecord[],
  violations: Violation[]): void {
  const present = new Set(final.siblings.map((v) => v.contentType));
  const basisOf = new Map<string, ReadonlySet<string>>();
  for (const rec of history) if (rec.key === key && rec.tag) basisOf.set(rec.tag, new Set(rec.basis ?? []));
  const tagsToDots = new Map<string, Dot[]>();
  for (const v of versions) tagsToDots.set(v.tag, [...(tagsToDots.get(v.tag) ?? []), v.dot]);
  const memo = new Map<string, boolean>();
  const survives = (tag: string, depth = 0): boolean => {
    const known = memo.get(tag);
    if (known !== undefined) return known;
    memo.set(tag, false); // a client only observes earlier writes, so no cycles; guard anyway
    let ok = present.has(tag);
    const dots = tagsToDots.get(tag) ?? [];
    if (!ok && depth < 10_000) {
      for (const w of versions) {
        if (w.tag === tag || !basisOf.get(w.tag)?.has(tag)) continue;
        if (dots.some((d) => contextCovers(w.context, d)) && survives(w.tag, depth + 1)) {
          ok = true;
          break;
        }
      }
    }
    memo.set(tag, ok);
    return ok;
  };
  for (const rec of history) {
    if (rec.key !== key || rec.kind === 'get' || rec.outcome !== 'ok' || !rec.tag) continue;
    const dots = tagsToDots.get(rec.tag);
    if (!dots || dots.length === 0) {
      violations.push({ invariant: 'lost-write', key, detail: `acknowledged ${rec.kind} ${rec.tag} was never created by a coordinator` });
      continue;
    }
    if (!survives(rec.tag)) {
      violations.push({
        invariant: 'lost-write', key,
        detail: `acknowledged ${rec.kind} ${rec.tag} (${dots.map(dotKey).join(',')}) is neither present nor superseded by a write whose client saw it`,
      });
    }
  }
}
