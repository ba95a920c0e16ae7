/**
 * Changing the ring from the command line (Riak's plan/commit): `join`, `leave` and
 * `removenode ID` stage a change at the node `--host` names; `plan` shows what the staged
 * changes would move; `commit` applies them (`--wait`: a progress bar until the transition is
 * done); `clear` unstages everything. Each is one request to the node's `/admin/*` routes.
 */
import { answerError, call, parseHost } from './client-commands.js';
import type { CommonOptions, Io } from './client-commands.js';
import { failure, usage } from './errors.js';
import { createProgress } from './progress.js';
import { createStyle, formatBytes, table } from './style.js';

interface StagedJson { kind: 'join' | 'leave' | 'remove'; nodeId: string; member?: { address: string; dc: string; rack: string; weight: number } }

interface PlanJson {
  version: number; partitionCount: number; n: number;
  staged: StagedJson[]; lost: StagedJson[];
  membersBefore: string[]; membersAfter: string[];
  ownerChanges: { partition: number; from: string; to: string }[];
  replicaMoves: { partition: number; from: string | null; to: string }[];
  movingPartitions: number[];
  ownership: { nodeId: string; before: number; after: number }[];
}

interface EstimateJson { bytes: number | null; basis: string }

interface TransitionJson { version: number; transition: { members: string[]; joining: string[]; leaving: string[]; moving: number[]; done: number[] } | null }

export interface RingCommandOptions extends CommonOptions {
  json?: boolean;
  wait?: boolean;
  /** How often `commit --wait` asks for progress (tests shorten it). */
  pollMs?: string;
}

async function admin(method: 'GET' | 'POST', path: string, what: string, opts: RingCommandOptions): Promise<Record<string, unknown>> {
  const host = parseHost(opts.host);
  const a = await call(host, method, path, opts);
  if (a.status !== 200) throw answerError(a, what);
  try {
    return JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw failure(`${what}: the node answered something that is not JSON`);
  }
}

export function describeChange(c: StagedJson): string {
  const m = c.member;
  return `${c.kind} ${c.nodeId}${m ? ` (${m.address}, ${m.dc}/${m.rack}, weight ${m.weight})` : ''}`;
}

/** `join`, `leave`, `removenode ID`, `clear`: one staging request; prints what is staged now. */
export async function cmdStage(kind: 'join' | 'leave' | 'remove' | 'clear', nodeId: string | undefined, opts: RingCommandOptions, io: Io): Promise<void> {
  if (kind === 'remove' && (nodeId === undefined || nodeId === '')) throw usage('removenode needs the id of the node to remove');
  const path = kind === 'remove' ? `/admin/removenode/${encodeURIComponent(nodeId!)}` : `/admin/${kind}`;
  const r = await admin('POST', path, kind === 'remove' ? 'removenode' : kind, opts) as { version: number; staged: StagedJson[]; change?: StagedJson };
  if (opts.json) {
    io.out(JSON.stringify(r) + '\n');
    return;
  }
  io.out(kind === 'clear' ? `nothing staged (cluster version ${r.version})\n` : `staged ${describeChange(r.change!)} (cluster version ${r.version})\n`);
  if (r.staged.length > 0) {
    io.out(`staged changes: ${r.staged.map((c) => `${c.kind} ${c.nodeId}`).join(', ')}\n`);
    io.out('next: `gossamer plan` to see what would move, `gossamer commit` to apply\n');
  }
}

const pct = (f: number): string => `${(f * 100).toFixed(1)}%`;

/** A plan as an operator reads it: the changes, what moves, and each node's share before and after. */
export function formatPlan(plan: PlanJson, estimate: EstimateJson | undefined, colour = false): string {
  const style = createStyle(colour);
  const lines: string[] = [];
  for (const c of plan.lost) lines.push(style.paint('yellow', `lost: ${describeChange(c)} was staged through this node but a concurrent change replaced it: stage it again`));
  if (plan.staged.length === 0) {
    lines.push(`nothing staged (cluster version ${plan.version})`);
    return lines.join('\n') + '\n';
  }
  lines.push(`staged changes (cluster version ${plan.version}):`);
  for (const c of plan.staged) lines.push(`  ${describeChange(c)}`);
  const bytes = estimate?.bytes;
  const size = bytes === null || bytes === undefined ? 'size unknown' : `~${formatBytes(bytes)}, estimated`;
  lines.push(`${plan.ownerChanges.length} of ${plan.partitionCount} partitions change owner; ${plan.movingPartitions.length} partitions gain replicas, `
    + `${plan.replicaMoves.length} partition replicas move (${size})`);
  lines.push(`members: ${plan.membersBefore.length} → ${plan.membersAfter.length}`);
  const rows = [['NODE', 'BEFORE', 'AFTER', 'CHANGE']];
  for (const o of plan.ownership) {
    const d = o.after - o.before;
    rows.push([o.nodeId, pct(o.before), pct(o.after), `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)}%`]);
  }
  return lines.join('\n') + '\n' + table(rows) + 'run `gossamer commit` to apply it, `gossamer clear` to drop it\n';
}

export async function cmdPlan(opts: RingCommandOptions, io: Io): Promise<void> {
  const r = await admin('GET', '/admin/plan', 'plan', opts) as { plan: PlanJson; estimate?: EstimateJson };
  if (opts.json) io.out(JSON.stringify(r) + '\n');
  else io.out(formatPlan(r.plan, r.estimate, io.colour === true));
}

export async function cmdCommit(opts: RingCommandOptions, io: Io, stream: { isTTY?: boolean; write(s: string): unknown }): Promise<void> {
  const pollMs = opts.pollMs === undefined ? 500 : Number(opts.pollMs);
  if (!Number.isSafeInteger(pollMs) || pollMs < 1) throw usage('--poll-ms must be a whole number of milliseconds');
  const r = await admin('POST', '/admin/commit', 'commit', opts) as { version: number; plan: PlanJson; estimate?: EstimateJson };
  if (opts.json && !opts.wait) {
    io.out(JSON.stringify(r) + '\n');
    return;
  }
  if (!opts.json) io.out(`committed at cluster version ${r.version}: ${r.plan.movingPartitions.length} partitions move to their new replicas\n`);
  if (!opts.wait) return;
  let t = await admin('GET', '/admin/transition', 'commit --wait', opts) as unknown as TransitionJson;
  const total = Math.max(1, t.transition?.moving.length ?? 1);
  const bar = createProgress({ total, label: 'transition', stream, enabled: !opts.json && stream.isTTY === true });
  while (t.transition) {
    bar.update(t.transition.done.length);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    t = await admin('GET', '/admin/transition', 'commit --wait', opts) as unknown as TransitionJson;
  }
  bar.update(total);
  bar.stop();
  // No transition and no newer document: a concurrent change at another node won over the commit.
  if (t.version <= r.version) throw failure(`commit: a concurrent change replaced the commit (cluster version ${t.version}): run gossamer plan, then commit again`);
  if (opts.json) io.out(JSON.stringify({ ...r, finishedVersion: t.version }) + '\n');
  else io.out(`transition done: the new ring is in force (cluster version ${t.version})\n`);
}
