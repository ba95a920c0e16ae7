/**
 * Builds broken on purpose, so the real-process fault suite can show that each of its rules
 * fails when it should. Selected with the environment variable `GOSSAMER_BUG` (never set in
 * production; the node warns loudly when it is):
 * - any `ReconcileBug` of the core (src/core/clock/state.ts), e.g. `delete-keeps-siblings`,
 *   `one-tombstone`;
 * - `stored-but-unavailable`: every third write the node stores and confirms is answered
 *   `503 unavailable` ("node is starting") instead — a 503 that claims nothing happened;
 * - `no-hint-replay`: the node never delivers the hints it keeps (its `hint-deliver` messages are
 *   dropped on the way out), so its pending hints never drain and replicas stay behind;
 * - `strict-acks-early`: a strict-quorum write is acknowledged after one copy (W=1), whatever W
 *   it asked for — a strict read at R with R+W>N can then miss it.
 *
 * And one test hook that breaks nothing: `GOSSAMER_TEST_DELAY_MS` adds that latency to every
 * frame the node sends to its peers (the transport's `TransportFaults.delayMs`; this kernel has
 * no netem), for the fault suite's latency nemesis.
 */
import type { ReconcileBug } from '../core/clock/state.js';
import { RECONCILE_BUGS } from '../core/clock/state.js';
import type { ClientOp, ClientReply } from '../core/types.js';
import type { NodeService } from '../runtime/service.js';
import type { Envelope, Logger } from '../ports/index.js';
import type { TransportFaults } from '../adapters/transport-types.js';
import { usage } from './errors.js';

export type ServiceBug = 'stored-but-unavailable' | 'strict-acks-early';
export type TransportBug = 'no-hint-replay';
const SERVICE_BUGS: readonly string[] = ['stored-but-unavailable', 'strict-acks-early'];

export interface TestBugs {
  reconcile?: ReconcileBug;
  service?: ServiceBug;
  transport?: TransportBug;
}

export function testBugsFromEnv(env: NodeJS.ProcessEnv, logger: Logger): TestBugs {
  const name = env.GOSSAMER_BUG;
  if (name === undefined || name === '' || name === 'none') return {};
  const bug = RECONCILE_BUGS.find((b) => b === name);
  if (!bug && !SERVICE_BUGS.includes(name) && name !== 'no-hint-replay') {
    throw usage(`GOSSAMER_BUG must be one of ${[...RECONCILE_BUGS, ...SERVICE_BUGS, 'no-hint-replay'].join(', ')}`);
  }
  logger.warn('this node is BROKEN ON PURPOSE (GOSSAMER_BUG), for the fault suite', { bug: name });
  if (bug) return { reconcile: bug };
  return name === 'no-hint-replay' ? { transport: 'no-hint-replay' } : { service: name as ServiceBug };
}

/** `GOSSAMER_TEST_DELAY_MS` (a whole number of milliseconds, 1..10000) as transport faults; undefined when unset. */
export function testTransportFaults(env: NodeJS.ProcessEnv, logger: Logger): TransportFaults | undefined {
  const raw = env.GOSSAMER_TEST_DELAY_MS;
  if (raw === undefined || raw === '' || raw === '0') return undefined;
  const delayMs = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(delayMs >= 1 && delayMs <= 10_000)) throw usage(`GOSSAMER_TEST_DELAY_MS must be a whole number of milliseconds in [0, 10000], got "${raw.slice(0, 20)}"`);
  logger.warn('every frame to a peer is delayed (GOSSAMER_TEST_DELAY_MS), for the fault suite', { delayMs });
  return { delayMs };
}

/** The transport as the runtime sees it, broken as `bug` says (`no-hint-replay`: hint deliveries never leave). */
export function withTransportBug<T extends { send(envelope: Envelope): void }>(transport: T, bug: TransportBug | undefined): T {
  if (bug !== 'no-hint-replay') return transport;
  const send = (e: Envelope): void => {
    if ((e.msg as { type?: unknown } | null)?.type === 'hint-deliver') return;
    transport.send(e);
  };
  return new Proxy(transport, {
    get(target, prop, receiver) {
      if (prop === 'send') return send;
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The service as the HTTP API sees it, broken as `bug` says. */
export function withServiceBug<S extends NodeService>(service: S, bug: ServiceBug | undefined): S {
  if (bug === undefined) return service;
  let confirmed = 0;
  const submit = bug === 'strict-acks-early'
    ? (op: ClientOp): Promise<ClientReply> => service.submit(op.op === 'put' && op.quorum === 'strict' ? { ...op, w: 1 } : op)
    : (op: ClientOp): Promise<ClientReply> => service.submit(op).then((reply) => {
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
