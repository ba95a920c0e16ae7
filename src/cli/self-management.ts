/**
 * Nodes that manage themselves (issue 18): `--auto-join` stages this node's claim and commits it
 * once the node serves, and `--decommission-on-stop` stages its leave and commits it before a
 * graceful exit, then waits (bounded, with progress in the log) until the ring no longer names it.
 * Both go through the same operator surface as `gossamer join`/`leave`/`commit` (NodeRuntime.admin).
 */
import type { Logger } from '../ports/index.js';
import type { NodeRuntime } from '../runtime/node-runtime.js';

/** How often the hooks look at the node's ring state. */
export const SELF_MANAGEMENT_POLL_MS = 200;
/** The longest a decommission waits for its partitions to be handed over before the node exits anyway. */
export const DECOMMISSION_WAIT_MS_MAX = 120_000;

/** Whether this node is named by the ring in force or by the change under way. */
function named(runtime: NodeRuntime): { member: boolean; next: boolean; busy: boolean } {
  const id = runtime.nodeId;
  const state = runtime.ringState();
  const member = runtime.coreRing()?.member(id) !== undefined;
  const next = state?.transition ? state.transition.members.includes(id) : member;
  return { member, next, busy: state?.transition !== undefined || (state?.staged.length ?? 0) > 0 };
}

/**
 * `--auto-join`: once the node serves with the cluster's document, stage its join and commit it,
 * unless it is already a member (a seed that formed the ring, or a node restarted) or a change is
 * staged or under way (it tries again when the cluster is quiet). Returns the timer (cleared on stop).
 */
export function onHealthyAutoJoin(runtime: NodeRuntime, logger: Logger): ReturnType<typeof setInterval> {
  let trying = false;
  const timer = setInterval(() => {
    if (trying || !runtime.isServing()) return;
    const now = named(runtime);
    if (now.member || now.next) {
      clearInterval(timer);
      logger.info(now.member ? 'auto-join: this node is a ring member' : 'auto-join: the change that adds this node is under way', { nodeId: runtime.nodeId });
      return;
    }
    if (now.busy) return;
    trying = true;
    void (async () => {
      const staged = await runtime.admin({ op: 'stage-join' });
      const committed = staged.ok ? await runtime.admin({ op: 'commit' }) : staged;
      if (committed.ok) logger.info('auto-join: staged and committed this node\'s claim', { nodeId: runtime.nodeId });
      else logger.warn('auto-join: will try again', { reason: committed.message });
    })().finally(() => { trying = false; });
  }, SELF_MANAGEMENT_POLL_MS);
  timer.unref();
  return timer;
}

/**
 * `--decommission-on-stop`: before a graceful exit, stage this node's leave and commit it (retrying
 * while another change is under way), then wait until the ring in force no longer names it — its
 * partitions are with their new replicas — or until `waitMsMax` passes (logged; the node exits
 * anyway and the others keep its copies' replicas).
 */
export async function decommissionBeforeExit(runtime: NodeRuntime, logger: Logger, waitMsMax = DECOMMISSION_WAIT_MS_MAX): Promise<void> {
  const deadline = Date.now() + waitMsMax;
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SELF_MANAGEMENT_POLL_MS));
  let committed = false;
  let lastLogMs = 0;
  while (Date.now() < deadline) {
    const now = named(runtime);
    if (!now.member && !now.next) {
      logger.info('decommission-on-stop: this node left the ring; stopping', { nodeId: runtime.nodeId });
      return;
    }
    if (!committed && now.member && now.next && !now.busy) {
      const staged = await runtime.admin({ op: 'stage-leave' });
      const reply = staged.ok ? await runtime.admin({ op: 'commit' }) : staged;
      committed = reply.ok;
      if (!reply.ok) {
        // Refused while nothing else is under way (the last member, or fewer than N would remain):
        // waiting will not change it.
        logger.warn('decommission-on-stop: cannot leave; stopping without handing partitions over', { nodeId: runtime.nodeId, reason: reply.message });
        return;
      }
    }
    if (Date.now() - lastLogMs >= 2_000) {
      const t = runtime.ringState()?.transition;
      logger.info('decommission-on-stop: handing partitions over', { nodeId: runtime.nodeId, done: t?.done.length ?? 0, moving: t?.moving.length ?? 0 });
      lastLogMs = Date.now();
    }
    await pause();
  }
  logger.warn('decommission-on-stop: partitions not all handed over in time; stopping anyway', { nodeId: runtime.nodeId, waitedMs: waitMsMax });
}
