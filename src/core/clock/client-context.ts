/**
 * A client's context joins the stored state when it writes, so a hostile one must not be able to
 * steer the key's counters or pruning. Before a write uses it, a client context is bounded:
 * - each counter above `CLIENT_COUNTER_CEILING` is lowered to the higher of that ceiling and what
 *   the local state already holds for the node. Lowering a counter only claims less (a
 *   superseded version may show up again as a sibling; no version is ever lost), and legitimate
 *   counters are far below the ceiling — or already in the state. So no client can bring a
 *   counter within `MAX_COUNTER - CLIENT_COUNTER_CEILING` (~2.8e14 writes) of exhaustion;
 * - each entry's timestamp is lowered to the write's own time, so a far-future entry cannot stay
 *   the newest forever and push real entries out when the clock is pruned;
 * - an entry ahead of what the local state knows of its node is news to this replica: it gets the
 *   write's own time. Its own time may be old or 0 (tokens of earlier builds folded a PUT's dot
 *   with time 0), and pruning reads time as age: an "old" entry past the soft bound would be
 *   dropped by this very write, and the version it covers — which this replica missed — would
 *   come back as a false sibling when a replica that holds it merges.
 */
import type { CausalContext } from './context.js';
import { EMPTY_CONTEXT, addDotToContext, normalizeContext } from './context.js';
import type { Version } from './state.js';
import type { ClockEntry, Dot, VClock } from './vclock.js';
import { counterOf } from './vclock.js';

/** Above any real count of writes to one key through one node (2^40 ≈ 1.1e12). */
export const CLIENT_COUNTER_CEILING = 2 ** 40;

export function boundClientContext(sent: CausalContext, local: CausalContext, nowMs: number): CausalContext {
  let changed = false;
  const limit = (node: string): number => Math.max(CLIENT_COUNTER_CEILING, counterOf(local.clock, node), cloudMax(local.cloud, node));
  const clock: ClockEntry[] = [];
  for (const e of sent.clock) {
    const counter = Math.min(e.counter, limit(e.node));
    const tsMs = counter > counterOf(local.clock, e.node) ? nowMs : Math.min(e.tsMs, nowMs);
    if (counter !== e.counter || tsMs !== e.tsMs) changed = true;
    clock.push(counter === e.counter && tsMs === e.tsMs ? e : { node: e.node, counter, tsMs });
  }
  const cloud: Dot[] = [];
  for (const d of sent.cloud) {
    if (d.counter <= limit(d.node)) cloud.push(d);
    else changed = true;
  }
  return changed ? normalizeContext(clock as VClock, cloud, nowMs) : sent;
}

function cloudMax(cloud: readonly Dot[], node: string): number {
  let max = 0;
  for (const d of cloud) if (d.node === node && d.counter > max) max = d.counter;
  return max;
}

/**
 * A version's own context: its dot alone. Written back, it supersedes exactly that version (what
 * `/admin/local` shows per version, where the key's context would claim every sibling).
 */
export function versionContext(v: Version): CausalContext {
  return addDotToContext(EMPTY_CONTEXT, v.dot, v.tsMs);
}
