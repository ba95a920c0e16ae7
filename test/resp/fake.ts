/** The API tests' fake node, taught the one put option RESP uses (`supersede: 'local'`). */
import { FakeService } from '../api/fake-service.js';
import type { ClientOp, ClientReply } from '../../src/core/types.js';
import { joinContexts } from '../../src/core/clock/context.js';
import { EMPTY_CONTEXT } from '../../src/core/clock/state.js';

export class RespFakeService extends FakeService {
  override submit(op: ClientOp): Promise<ClientReply> {
    if (op.op === 'put' && op.supersede === 'local') {
      const local = this.states.get(op.key)?.context ?? EMPTY_CONTEXT;
      return super.submit({ ...op, context: joinContexts(local, op.context ?? EMPTY_CONTEXT) });
    }
    return super.submit(op);
  }
}

/** Holds replies for keys named `slow*` until `release()`, to show replies keep their order. */
export class SlowService extends RespFakeService {
  private held: (() => void)[] = [];
  override submit(op: ClientOp): Promise<ClientReply> {
    if (!op.key.startsWith('slow')) return super.submit(op);
    return new Promise((resolve) => this.held.push(() => { void super.submit(op).then(resolve); }));
  }
  release(): void {
    for (const h of this.held.splice(0)) h();
  }
  get heldCount(): number {
    return this.held.length;
  }
}
