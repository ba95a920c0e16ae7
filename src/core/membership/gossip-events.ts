/**
 * What membership reports to the runtime: state changes (logged and counted), peers of another
 * cluster refused (one warning each), members learned (the transport dials them) or removed from
 * the document (the transport forgets them). The queue is bounded: the runtime drains it after
 * every step and tick, so only a stalled runtime could lose the oldest events.
 */
import type { NodeId } from '../types.js';
import type { DocSummary } from './gossip-messages.js';
import type { MemberStatus } from './member-table.js';
import type { MemberInfo } from './meta.js';

export type MembershipEvent =
  | {
    readonly kind: 'transition'; readonly nodeId: NodeId; readonly from: MemberStatus; readonly to: MemberStatus;
    readonly silentMs: number; readonly reason: string;
  }
  | { readonly kind: 'refused'; readonly nodeId: NodeId; readonly address: string; readonly theirs: string; readonly ours: string }
  | { readonly kind: 'learned'; readonly member: MemberInfo & { readonly http?: string } }
  | { readonly kind: 'removed'; readonly nodeId: NodeId };

/** One member as this node sees it (for /cluster). */
export interface MemberSnapshot extends MemberInfo {
  readonly http?: string;
  readonly status: MemberStatus;
  readonly heartbeat: number;
  readonly generation: number;
}

export interface GossipStats {
  readonly rounds: number;
  readonly refusedMessages: number;
  readonly refusedPeers: number;
  readonly docsInstalled: number;
  /** Documents received that could not be decoded or made into a ring (dropped). */
  readonly badDocs: number;
  readonly probes: number;
  readonly indirect: number;
  readonly unanswered: number;
  /** State changes here, by the state entered. */
  readonly transitions: Readonly<Record<MemberStatus, number>>;
}

/** Events kept for the runtime at most (the oldest go first). */
export const EVENTS_QUEUED_MAX = 10_000;

export class EventQueue {
  private queue: MembershipEvent[] = [];
  private readonly byState: Record<MemberStatus, number> = { alive: 0, suspect: 0, faulty: 0 };

  push(e: MembershipEvent): void {
    this.queue.push(e);
    if (this.queue.length > EVENTS_QUEUED_MAX) this.queue.shift();
  }

  count(to: MemberStatus): void {
    this.byState[to]++;
  }

  transitions(): Record<MemberStatus, number> {
    return { ...this.byState };
  }

  take(): MembershipEvent[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }
}

/** Whether summary `a` wins over `b` (of one cluster): higher version, then greater digest — as `supersedes`. */
export function summaryWins(a: DocSummary, b: DocSummary): boolean {
  if (a.version !== b.version) return a.version > b.version;
  return a.digest > b.digest;
}
