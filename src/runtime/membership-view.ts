/**
 * The runtime's side of membership: what the core's gossip reports becomes log lines, transport
 * peers (members learned are dialled, members removed from the document forgotten), and the
 * `/cluster` view — ring members and gossip members together, each with its state and heartbeat.
 */
import type { Logger, PeerInfo, Transport } from '../ports/index.js';
import type { MembershipEvent } from '../core/membership/gossip-events.js';
import type { Message } from '../core/types.js';

/** Acts on what gossip reported: logs transitions and refusals, dials learned members, forgets removed ones. */
export function applyMembershipEvents(
  events: readonly MembershipEvent[], deps: { logger: Logger; transport: Transport<Message>; peerHttp: Map<string, string> },
): void {
  const { logger, transport, peerHttp } = deps;
  for (const e of events) {
    switch (e.kind) {
      case 'transition': {
        const line = `member ${e.nodeId} ${e.from} → ${e.to} (${transitionReason(e)})`;
        if (e.to === 'alive') logger.info(line, { member: e.nodeId, state: e.to });
        else logger.warn(line, { member: e.nodeId, state: e.to });
        break;
      }
      case 'refused':
        logger.warn(`refusing ${e.nodeId}${e.address ? ` at ${e.address}` : ''}: it belongs to cluster ${e.theirs}, this node to ${e.ours}`, {
          peer: e.nodeId, theirs: e.theirs, ours: e.ours,
        });
        break;
      case 'learned': {
        if (e.member.http !== undefined) peerHttp.set(e.member.nodeId, e.member.http);
        const info: PeerInfo = { ...e.member };
        transport.addPeer?.(info);
        break;
      }
      case 'removed':
        transport.removePeer?.(e.nodeId);
        peerHttp.delete(e.nodeId);
        break;
    }
  }
}

function transitionReason(e: Extract<MembershipEvent, { kind: 'transition' }>): string {
  if (e.to === 'alive') return e.reason;
  return `no heartbeat for ${(e.silentMs / 1000).toFixed(1)} s; ${e.reason}`;
}
