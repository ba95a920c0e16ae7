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
