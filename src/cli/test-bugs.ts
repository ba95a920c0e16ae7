/**
 * Builds broken on purpose, so the real-process fault suite can show that each of its rules
 * fails when it should. Selected with the environment variable `GOSSAMER_BUG` (never set in
 * production; the node warns loudly when it is):
 * - any `ReconcileBug` of the core (src/core/clock/state.ts), e.g. `delete-keeps-siblings`,
 *   `one-tombstone`;
 * - `stored-but-unavailable`: every third write the node stores and confirms is answered
 *   `503 unavailable` ("node is starting") instead — a 503 that claims nothing happened.
 */
import type { ReconcileBug } from '../core/clock/state.js';
import { RECONCILE_BUGS } from '../core/clock/state.js';
import type { ClientOp, ClientReply } from '../core/types.js';
import type { NodeService } from '../runtime/service.js';
import type { Logger } from '../ports/index.js';
import { usage } from './errors.js';

export type ServiceBug = 'stored-but-unavailable';

export interface TestBugs {
  reconcile?: ReconcileBug;
  service?: ServiceBug;
}

export function testBugsFromEnv(env: NodeJS.ProcessEnv, logger: Logger): TestBugs {
  const name = env.GOSSAMER_BUG;
  if (name === undefined || name === '' || name === 'none') return {};
  const bug = RECONCILE_BUGS.find((b) => b === name);
  if (!bug && name !== 'stored-but-unavailable') {
    throw usage(`GOSSAMER_BUG must be one of ${[...RECONCILE_BUGS, 'stored-but-unavailable'].join(', ')}`);
  }
  logger.warn('this node is BROKEN ON PURPOSE (GOSSAMER_BUG), for the fault suite', { bug: name });
  return bug ? { reconcile: bug } : { service: 'stored-but-unavailable' };
}

/** The service as the HTTP API sees it, broken as `bug` says. */
export function withServiceBug<S extends NodeService>(service: S, bug: ServiceBug | undefined): S {
  if (bug !== 'stored-but-unavailable') return service;
  let confirmed = 0;
  const submit = (op: ClientOp): Promise<ClientReply> => service.submit(op).then((reply) => {
    if (op.op !== 'put' || !reply.ok || ++confirmed % 3 !== 0) return reply;
    return { ok: false, error: 'unavailable', message: 'node is starting' };
  });
  return new Proxy(service, {
    get(target, prop, receiver) {
      if (prop === 'submit') return submit;
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
