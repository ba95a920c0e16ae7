/**
 * Who waits for a coordinated request: a local client (answered in the Ready's replies) or the
 * node that forwarded the request (answered with a `forward-reply` message).
 */
import { encodeContextToken } from '../clock/context.js';
import type { Effects } from '../ready.js';
import type { ClientReply, ErrorResult, NodeId } from '../types.js';
import type { WireReply } from './messages.js';

export type Requester =
  | { readonly kind: 'local'; readonly reqId: number }
  | { readonly kind: 'forward'; readonly reqId: number; readonly from: NodeId };

export function badRequest(message: string): ErrorResult {
  return { ok: false, error: 'bad_request', message };
}

export class Replier {
  constructor(private readonly fx: Effects) {}

  reply(requester: Requester, reply: ClientReply): void {
    if (requester.kind === 'local') {
      this.fx.reply(requester.reqId, reply);
      return;
    }
    let wire: WireReply;
    if (!reply.ok) wire = reply;
    else if (reply.op === 'put') wire = { ok: true, op: 'put', context: encodeContextToken(reply.context) };
    else wire = badRequest('forwarded reads are not supported');
    this.fx.send(requester.from, { type: 'forward-reply', id: requester.reqId, reply: wire });
  }

  /** Too few replicas answered in time (or could ever answer). */
  insufficient(requester: Requester, required: number, received: number): void {
    this.reply(requester, {
      ok: false, error: 'insufficient_replicas', required, received,
      message: `needed ${required} replies, received ${received} within the timeout`,
    });
  }
}
