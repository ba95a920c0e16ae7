/**
 * A delete that names no context (HTTP `DELETE` without `X-Gossamer-Context`, RESP `DEL`,
 * `gossamer del` without `--context`): as Riak does, read the key at R, then write a tombstone
 * with the context that read returned. It supersedes exactly the versions that read saw;
 * concurrent versions it did not see stay siblings. One implementation, used by every front end.
 */
import type { CausalContext } from '../core/clock/context.js';
import type { ClientReply, Consistency, ErrorResult, QuorumMode } from '../core/types.js';
import type { NodeService } from '../runtime/service.js';

export interface SupersedingDeleteOptions {
  r?: Consistency;
  w?: Consistency;
  quorum?: QuorumMode;
  timeoutMs?: number;
}

export type SupersedingDeleteResult =
  | {
    readonly ok: true;
    /** Whether the read found a live (non-tombstone) version, i.e. whether there was anything to delete. */
    readonly existed: boolean;
    /** The tombstone's context, or the read's when nothing was written. */
    readonly context: CausalContext;
  }
  | ErrorResult;

function unexpected(reply: ClientReply): ErrorResult {
  return { ok: false, error: 'unavailable', message: `the node gave an unexpected reply (${reply.ok ? reply.op : reply.error})` };
}

/**
 * Reads `key` at R and, when the read found versions, deletes them with the read's context.
 * When it found nothing live (absent, or only tombstones) nothing is written: there is nothing
 * to supersede, and a tombstone of nothing would only be garbage to reclaim.
 */
export async function supersedingDelete(service: NodeService, key: string, opts: SupersedingDeleteOptions = {}): Promise<SupersedingDeleteResult> {
  const read = await service.submit({ op: 'get', key, r: opts.r, quorum: opts.quorum, timeoutMs: opts.timeoutMs });
  if (!read.ok) return read;
  if (read.op !== 'get') return unexpected(read);
  if (!read.siblings.some((v) => v.value !== null)) return { ok: true, existed: false, context: read.context };
  const del = await service.submit({
    op: 'put', key, value: null, context: read.context, w: opts.w, quorum: opts.quorum, timeoutMs: opts.timeoutMs,
  });
  if (!del.ok) return del;
  if (del.op !== 'put') return unexpected(del);
  return { ok: true, existed: true, context: del.context };
}
