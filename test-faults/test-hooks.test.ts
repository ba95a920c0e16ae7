/**
 * The fault suite's hooks in the node (src/cli/test-bugs.ts), without processes: what each
 * GOSSAMER_BUG and GOSSAMER_TEST_DELAY_MS does, and that bad values are refused.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope, Logger } from '../src/ports/index.js';
import type { ClientOp, ClientReply } from '../src/core/types.js';
import type { NodeService } from '../src/runtime/service.js';
import { testBugsFromEnv, testTransportFaults, withEngineBug, withServiceBug, withTransportBug } from '../src/cli/test-bugs.js';
import { EMPTY_CONTEXT, addDotToContext } from '../src/core/clock/context.js';
import type { KeyState } from '../src/core/clock/state.js';
import { encodeState } from '../src/core/clock/state.js';
import { dataKey, metaKey } from '../src/core/keys.js';
import { MemoryEngine } from '../src/storage/memory-engine.js';

const warnings: string[] = [];
const logger: Logger = { debug() {}, info() {}, warn(msg) { warnings.push(msg); }, error() {} };

describe('the fault suite\'s hooks in the node', () => {
  it('GOSSAMER_BUG names one bug, and warns; an unknown name is refused', () => {
    assert.deepEqual(testBugsFromEnv({}, logger), {});
    assert.deepEqual(testBugsFromEnv({ GOSSAMER_BUG: 'no-hint-replay' }, logger), { transport: 'no-hint-replay' });
    assert.deepEqual(testBugsFromEnv({ GOSSAMER_BUG: 'strict-acks-early' }, logger), { service: 'strict-acks-early' });
    assert.deepEqual(testBugsFromEnv({ GOSSAMER_BUG: 'one-tombstone' }, logger), { reconcile: 'one-tombstone' });
    assert.deepEqual(testBugsFromEnv({ GOSSAMER_BUG: 'purge-unconfirmed' }, logger), { engine: 'purge-unconfirmed' });
    assert.deepEqual(testBugsFromEnv({ GOSSAMER_BUG: 'phantom-read' }, logger), { service: 'phantom-read' });
    assert.ok(warnings.some((w) => /BROKEN ON PURPOSE/.test(w)));
    assert.throws(() => testBugsFromEnv({ GOSSAMER_BUG: 'no-such-bug' }, logger), /GOSSAMER_BUG must be one of .*no-hint-replay/);
  });

  it('GOSSAMER_TEST_DELAY_MS becomes the transport\'s delay; anything but 0..10000 ms is refused', () => {
    assert.equal(testTransportFaults({}, logger), undefined);
    assert.equal(testTransportFaults({ GOSSAMER_TEST_DELAY_MS: '0' }, logger), undefined);
    assert.deepEqual(testTransportFaults({ GOSSAMER_TEST_DELAY_MS: '150' }, logger), { delayMs: 150 });
    for (const bad of ['-5', '1.5', 'abc', '10001', '99999999']) {
      assert.throws(() => testTransportFaults({ GOSSAMER_TEST_DELAY_MS: bad }, logger), /GOSSAMER_TEST_DELAY_MS must be/, bad);
    }
  });

  it('no-hint-replay keeps hint deliveries from leaving, and nothing else', () => {
    const sent: string[] = [];
    const transport = { send(e: Envelope): void { sent.push((e.msg as { type: string }).type); }, other: () => 'kept' };
    const broken = withTransportBug(transport, 'no-hint-replay');
    for (const type of ['hint-deliver', 'hint-ack', 'replica-put', 'hint-deliver']) broken.send({ from: 'a', to: 'b', msg: { type } });
    assert.deepEqual(sent, ['hint-ack', 'replica-put']);
    assert.equal(broken.other(), 'kept');
    assert.equal(withTransportBug(transport, undefined), transport);
  });

  it('strict-acks-early asks a strict write for one copy only; other operations pass unchanged', async () => {
    const seen: ClientOp[] = [];
    const service = { submit: (op: ClientOp): Promise<ClientReply> => { seen.push(op); return Promise.resolve({ ok: false, error: 'unavailable', message: 'x' }); } } as unknown as NodeService;
    const broken = withServiceBug(service, 'strict-acks-early');
    await broken.submit({ op: 'put', key: 'k', value: new Uint8Array(), w: 'quorum', quorum: 'strict' } as ClientOp);
    await broken.submit({ op: 'put', key: 'k', value: new Uint8Array(), w: 'quorum' } as ClientOp);
    await broken.submit({ op: 'get', key: 'k', r: 'quorum', quorum: 'strict' } as ClientOp);
    assert.deepEqual(seen.map((o) => [o.op, (o as { w?: unknown }).w ?? (o as { r?: unknown }).r]), [['put', 1], ['put', 'quorum'], ['get', 'quorum']]);
  });

  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  const state = (...vs: (string | null)[]): KeyState => ({
    context: vs.reduce((c, _, i) => addDotToContext(c, { node: 'n0', counter: i + 1 }, 0), EMPTY_CONTEXT),
    siblings: vs.map((v, i) => ({ dot: { node: 'n0', counter: i + 1 }, value: v === null ? null : text(v), contentType: '', tsMs: 0 })),
  });

  it('purge-unconfirmed drops a key\'s state when it is all tombstones, as it is written; values, mixed states and other keyspaces stay', async () => {
    const engine = withEngineBug(new MemoryEngine(), 'purge-unconfirmed');
    const [gone, kept, mixed] = [dataKey('gone'), dataKey('kept'), dataKey('mixed')];
    await engine.write([{ key: gone, value: encodeState(state('A')) }, { key: kept, value: encodeState(state('B')) }, { key: mixed, value: encodeState(state('C')) }]);
    assert.ok(engine.get(gone));
    await engine.write([{ key: gone, value: encodeState(state(null)) }, { key: mixed, value: encodeState(state(null, 'D')) }]);
    assert.equal(engine.get(gone), undefined, 'a tombstone-only state is purged at once');
    assert.ok(engine.get(kept));
    assert.ok(engine.get(mixed), 'a tombstone beside a value stays');
    const meta = metaKey('x');
    await engine.write([{ key: meta, value: new Uint8Array([1, 2]) }]);
    assert.deepEqual(engine.get(meta), new Uint8Array([1, 2]));
    const plain = new MemoryEngine();
    assert.equal(withEngineBug(plain, undefined), plain);
  });

  const replying = (reply: (op: ClientOp) => ClientReply): NodeService => ({ submit: (op: ClientOp): Promise<ClientReply> => Promise.resolve(reply(op)) }) as unknown as NodeService;
  const got = (siblings: KeyState['siblings']): ClientReply => ({ ok: true, op: 'get', siblings, context: EMPTY_CONTEXT });
  const getOp = { op: 'get', key: 'k' } as ClientOp;

  it('phantom-read adds a value nobody wrote to every third read that found one, context unchanged', async () => {
    const broken = withServiceBug(replying(() => got(state('A').siblings)), 'phantom-read');
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => broken.submit(getOp)));
    const shown = answers.map((a) => (a.ok && a.op === 'get' ? a.siblings.map((v) => new TextDecoder().decode(v.value ?? new Uint8Array())) : []));
    assert.deepEqual(shown, [['A'], ['A'], ['A', 'phantom-3'], ['A'], ['A'], ['A', 'phantom-6']]);
    assert.ok(answers.every((a) => a.ok && a.op === 'get' && a.context === EMPTY_CONTEXT));
    const empty = withServiceBug(replying(() => got([])), 'phantom-read');
    for (let i = 0; i < 4; i++) assert.deepEqual(await empty.submit(getOp), got([]), 'nothing found: nothing invented');
  });

  it('put-context-without-dot answers every third write with the context it was sent', async () => {
    const withDot = addDotToContext(EMPTY_CONTEXT, { node: 'n0', counter: 1 }, 0);
    const broken = withServiceBug(replying(() => ({ ok: true, op: 'put', context: withDot })), 'put-context-without-dot');
    const put = { op: 'put', key: 'k', value: text('v') } as ClientOp;
    const contexts = [];
    for (let i = 0; i < 3; i++) contexts.push(await broken.submit(put));
    assert.deepEqual(contexts.map((c) => (c.ok && c.op === 'put' ? c.context : undefined)), [withDot, withDot, EMPTY_CONTEXT]);
  });

  it('server-error fails every seventh request before it is submitted', async () => {
    let submitted = 0;
    const broken = withServiceBug(replying(() => { submitted++; return got([]); }), 'server-error');
    const outcomes = [];
    for (let i = 0; i < 14; i++) outcomes.push(await broken.submit(getOp).then(() => 'ok', (e: Error) => e.message));
    assert.equal(outcomes.filter((o) => o !== 'ok').length, 2);
    assert.match(outcomes[6]!, /GOSSAMER_BUG=server-error/);
    assert.equal(submitted, 12);
  });
});
