/**
 * The simulator's invariants, checked after the faults stop and the replicas converge:
 * (a) no acknowledged write is lost: each is present, or causally superseded by a write whose
 *     context covered it (and that one survives in turn);
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
    const present = new Set(first.siblings.map((v) => dotKey(v.dot)));
    const versions = byKey.get(key) ?? [];
    const memo = new Map<string, boolean>();
    const survives = (dot: Dot, depth = 0): boolean => {
      const k = dotKey(dot);
      const known = memo.get(k);
      if (known !== undefined) return known;
      memo.set(k, false); // cycles cannot happen (a context only covers earlier dots); guard anyway
      let ok = present.has(k);
      if (!ok && depth < 10_000) {
        for (const w of versions) {
          if (contextCovers(w.context, dot) && !(w.dot.node === dot.node && w.dot.counter === dot.counter) && survives(w.dot, depth + 1)) {
            ok = true;
            break;
          }
        }
      }
      memo.set(k, ok);
      return ok;
    };
    const tagsToDots = new Map<string, Dot[]>();
    for (const v of versions) tagsToDots.set(v.tag, [...(tagsToDots.get(v.tag) ?? []), v.dot]);
    for (const rec of input.history) {
      if (rec.key !== key || rec.kind === 'get' || rec.outcome !== 'ok' || !rec.tag) continue;
      const dots = tagsToDots.get(rec.tag);
      if (!dots || dots.length === 0) {
        violations.push({ invariant: 'lost-write', key, detail: `acknowledged ${rec.kind} ${rec.tag} was never created by a coordinator` });
        continue;
      }
      if (!dots.some((d) => survives(d))) {
        violations.push({ invariant: 'lost-write', key, detail: `acknowledged ${rec.kind} ${rec.tag} (${dots.map(dotKey).join(',')}) is neither present nor superseded` });
      }
    }
    const ctxOf = new Map(versions.map((v) => [dotKey(v.dot), v.context]));
    for (const s of first.siblings) {
      for (const t of first.siblings) {
        if (s === t) continue;
        const tc = ctxOf.get(dotKey(t.dot));
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
