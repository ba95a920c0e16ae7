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
 *   it asked for — a strict read at R with R+W>N can then miss it;
 * - `phantom-read`: every third GET that finds live versions answers one more sibling, a value
 *   nobody wrote (`phantom-<n>`); the context is the true one, nothing stored changes;
 * - `put-context-without-dot`: every third acknowledged write answers the context the client sent,
 *   without the new version's dot, so the write cannot be tied to the version it made;
 * - `server-error`: every seventh request fails with an exception before it is submitted (the
 *   HTTP layer answers `500 internal_error`); nothing is stored for it;
 * - `purge-unconfirmed`: the storage engine drops a key at once when its state is all tombstones
 *   (a tombstone purge without the grace and without the "every replica holds it" rule), so a
 *   replica that missed the delete brings the deleted value back on the next repair.
 *
 * And one test hook that breaks nothing: `GOSSAMER_TEST_DELAY_MS` adds that latency to every
 * frame the node sends to its peers (the transport's `TransportFaults.delayMs`; this kernel has
 * no netem), for the fault suite's latency nemesis.
 */
import type { ReconcileBug } from '../core/clock/state.js';
import { RECONCILE_BUGS, decodeState, isDeleted } from '../core/clock/state.js';
import { DATA_PREFIX } from '../core/keys.js';
import type { ClientOp, ClientReply } from '../core/types.js';
import type { NodeService } from '../runtime/service.js';
import type { Envelope, Logger, StorageEngine, WriteOp } from '../ports/index.js';
import type { TransportFaults } from '../adapters/transport-types.js';
import { EMPTY_CONTEXT } from '../core/clock/context.js';
import { usage } from './errors.js';

export type ServiceBug = 'stored-but-unavailable' | 'strict-acks-early' | 'phantom-read' | 'put-context-without-dot' | 'server-error';
export type TransportBug = 'no-hint-replay';
export type EngineBug = 'purge-unconfirmed';
const SERVICE_BUGS: readonly string[] = ['stored-but-unavailable', 'strict-acks-early', 'phantom-read', 'put-context-without-dot', 'server-error'];

export interface TestBugs {
  reconcile?: ReconcileBug;
  service?: ServiceBug;
  transport?: TransportBug;
  engine?: EngineBug;
}

export function testBugsFromEnv(env: NodeJS.ProcessEnv, logger: Logger): TestBugs {
  const name = env.GOSSAMER_BUG;
  if (name === undefined || name === '' || name === 'none') return {};
  const bug = RECONCILE_BUGS.find((b) => b === name);
  if (!bug && !SERVICE_BUGS.includes(name) && name !== 'no-hint-replay' && name !== 'purge-unconfirmed') {
    throw usage(`GOSSAMER_BUG must be one of ${[...RECONCILE_BUGS, ...SERVICE_BUGS, 'no-hint-replay', 'purge-unconfirmed'].join(', ')}`);
  }
  logger.warn('this node is BROKEN ON PURPOSE (GOSSAMER_BUG), for the fault suite', { bug: name });
  if (bug) return { reconcile: bug };
  if (name === 'purge-unconfirmed') return { engine: 'purge-unconfirmed' };
  return name === 'no-hint-replay' ? { transport: 'no-hint-replay' } : { service: name as ServiceBug };
}

/**
 * The storage engine as the runtime sees it, broken as `bug` says (`purge-unconfirmed`: a key's
 * state that is all tombstones is deleted from the engine as it is written, confirmed or not).
 */
export function withEngineBug(engine: StorageEngine, bug: EngineBug | undefined): StorageEngine {
  if (bug !== 'purge-unconfirmed') return engine;
  const purged = (op: WriteOp): WriteOp => {
    if (op.value === null || op.key[0] !== DATA_PREFIX) return op;
    const state = decodeState(op.value);
    return state.siblings.length > 0 && isDeleted(state) ? { key: op.key, value: null } : op;
  };
  return new Proxy(engine, {
    get(target, prop, receiver) {
      if (prop === 'write') return (batch: readonly WriteOp[]): Promise<void> => target.write(batch.map(purged));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
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

/** The service's `submit`, broken as `bug` says. */
function brokenSubmit(service: NodeService, bug: ServiceBug): (op: ClientOp) => Promise<ClientReply> {
  let n = 0;
  switch (bug) {
    case 'strict-acks-early':
      return (op) => service.submit(op.op === 'put' && op.quorum === 'strict' ? { ...op, w: 1 } : op);
    case 'stored-but-unavailable':
      return (op) => service.submit(op).then((reply) => {
        if (op.op !== 'put' || !reply.ok || ++n % 3 !== 0) return reply;
        return { ok: false, error: 'unavailable', message: 'node is starting' };
      });
    case 'phantom-read':
      return (op) => service.submit(op).then((reply) => {
        if (!reply.ok || reply.op !== 'get' || !reply.siblings.some((v) => v.value !== null) || ++n % 3 !== 0) return reply;
        const phantom = { dot: { node: 'phantom', counter: n }, value: new TextEncoder().encode(`phantom-${n}`), contentType: 'text/plain', tsMs: 0 };
        return { ...reply, siblings: [...reply.siblings, phantom] };
      });
    case 'put-context-without-dot':
      return (op) => service.submit(op).then((reply) => {
        if (op.op !== 'put' || !reply.ok || reply.op !== 'put' || ++n % 3 !== 0) return reply;
        return { ...reply, context: op.context ?? EMPTY_CONTEXT };
      });
    case 'server-error':
      return (op) => (++n % 7 === 0 ? Promise.reject(new Error('GOSSAMER_BUG=server-error: a request failed on purpose')) : service.submit(op));
  }
}

/** The service as the HTTP API sees it, broken as `bug` says. */
export function withServiceBug<S extends NodeService>(service: S, bug: ServiceBug | undefined): S {
  if (bug === undefined) return service;
  const submit = brokenSubmit(service, bug);
  return new Proxy(service, {
    get(target, prop, receiver) {
      if (prop === 'submit') return submit;
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
