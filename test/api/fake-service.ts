/**
 * An in-memory NodeService for API tests: one "node" that keeps every key's state with the
 * core's own reconciliation (applyWrite), so contexts and siblings behave as in a real cluster.
 */
import type { ClientOp, ClientReply } from '../../src/core/types.js';
import type { KeyState } from '../../src/core/clock/state.js';
import { EMPTY_STATE, applyWrite } from '../../src/core/clock/state.js';
import { versionContext } from '../../src/core/clock/client-context.js';
import type { ClusterDefaults, LocalVersionView, MemberView, NodeService, RingView } from '../../src/runtime/service.js';

export class FakeService implements NodeService {
  readonly nodeId: string;
  serving = true;
  readonly states = new Map<string, KeyState>();
  readonly ops: ClientOp[] = [];
  /** When set, `submit` answers with it instead of doing the op. */
  failWith: ClientReply | undefined;
  /** When set, `submit` throws (to prove a bug becomes a 500, not a crash). */
  throwOnSubmit = false;
  /** When set, `submit` never settles. */
  hang = false;
  nowMs = 1_700_000_000_000;
  private readonly defaultsValue: ClusterDefaults;
  /** Writes through these coordinators (round-robin) to mimic several nodes. */
  coordinators: string[];
  private turn = 0;

  constructor(nodeId = 'node-a', defaults: Partial<ClusterDefaults> = {}) {
    this.nodeId = nodeId;
    this.coordinators = [nodeId];
    this.defaultsValue = { n: 3, r: 'quorum', w: 'quorum', maxValueBytes: 1024, requestTimeoutMs: 2000, ...defaults };
  }

  isServing(): boolean {
    return this.serving;
  }

  submit(op: ClientOp): Promise<ClientReply> {
    this.ops.push(op);
    if (this.throwOnSubmit) return Promise.reject(new Error('boom (fake)'));
    if (this.hang) return new Promise(() => {});
    if (this.failWith) return Promise.resolve(this.failWith);
    const local = this.states.get(op.key) ?? EMPTY_STATE;
    if (op.op === 'get') {
      return Promise.resolve({ ok: true, op: 'get', siblings: local.siblings, context: local.context });
    }
    const coordinator = this.coordinators[this.turn++ % this.coordinators.length]!;
    const res = applyWrite(local, {
      coordinator,
      // `supersede: 'local'` without a context covers what this (one) replica holds, as the core does.
      context: op.context ?? (op.supersede === 'local' ? local.context : EMPTY_STATE.context),
      value: op.value,
      contentType: op.contentType ?? 'application/octet-stream',
      tsMs: this.nowMs++,
    });
    this.states.set(op.key, res.state);
    return Promise.resolve({ ok: true, op: 'put', context: res.clientContext });
  }

  ring(): RingView | undefined {
    const nodes = ['node-a', 'node-b', 'node-c'];
    const partitionCount = 8;
    return {
      partitionCount,
      n: this.defaultsValue.n,
      owners: Array.from({ length: partitionCount }, (_, i) => nodes[i % 3]!),
      preferenceList: (p) => [0, 1, 2].map((k) => nodes[(p + k) % 3]!),
      partitionForKey: (key) => Buffer.byteLength(key) % partitionCount,
    };
  }

  members(): MemberView[] {
    return ['node-a', 'node-b', 'node-c'].map((nodeId, i) => ({
      nodeId, address: `127.0.0.1:${7000 + i}`, dc: 'dc1', rack: 'rack1', weight: 1, state: 'alive', heartbeat: 5, ownership: 1 / 3,
    }));
  }

  localVersions(key: string): LocalVersionView[] {
    const s = this.states.get(key);
    if (!s) return [];
    return s.siblings.map((v) => ({ value: v.value, context: versionContext(v), contentType: v.contentType, tsMs: v.tsMs, hintFor: null }));
  }

  defaults(): ClusterDefaults {
    return this.defaultsValue;
  }
}
