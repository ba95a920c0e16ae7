/**
 * `gossamer repair [--partition P]`: starts anti-entropy at the node `--host` names
 * (`POST /admin/repair`), follows its progress (`GET /admin/repair`) with a progress bar on a
 * TTY, and prints a summary once every exchange has ended. Exit 0 when it ran to the end (the
 * summary says how many exchanges failed: a peer down or busy), 1 when the node cannot be asked.
 */
import { answerError, call, parseHost } from './client-commands.js';
import type { CommonOptions, Io } from './client-commands.js';
import { usage } from './errors.js';
import { createProgress, formatDuration } from './progress.js';
import type { RepairProgress } from '../core/antientropy/index.js';

/** What `/admin/repair` answers: the core's progress, and the node that runs it. */
type ProgressJson = RepairProgress & { nodeId: string };

export interface RepairOptions extends CommonOptions {
  partition?: string;
  json?: boolean;
  pollMs?: number;
}

export async function cmdRepair(opts: RepairOptions, io: Io, stream: { isTTY?: boolean; write(s: string): unknown }): Promise<void> {
  const host = parseHost(opts.host);
  if (opts.partition !== undefined && !/^\d{1,10}$/.test(opts.partition)) throw usage(`--partition must be a partition number (got "${opts.partition}")`);
  const query = opts.partition === undefined ? '' : `?partition=${opts.partition}`;
  const started = await call(host, 'POST', `/admin/repair${query}`, opts);
  if (started.status !== 202) throw answerError(started, 'repair');
  let p = JSON.parse(started.body.toString('utf8')) as ProgressJson;
  const bar = createProgress({ total: Math.max(1, p.total), label: 'repair', stream, enabled: !opts.json && stream.isTTY === true });
  while (p.running) {
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
    const a = await call(host, 'GET', '/admin/repair', opts);
    if (a.status !== 200) throw answerError(a, 'repair');
    p = JSON.parse(a.body.toString('utf8')) as ProgressJson;
    bar.update(p.done + p.failed);
  }
  bar.update(p.total);
  bar.stop();
  const tookMs = (p.finishedMs ?? p.startedMs) - p.startedMs;
  if (opts.json) {
    io.out(JSON.stringify({ nodeId: p.nodeId, exchanges: p.total, done: p.done, failed: p.failed, keysRepaired: p.keysRepaired, tookMs }) + '\n');
    return;
  }
  io.out(`repair at ${p.nodeId}: ${p.done}/${p.total} exchanges done, ${p.failed} failed, ${p.keysRepaired} keys repaired in ${formatDuration(tookMs)}\n`);
}
