/**
 * The fault suite's hooks in the node (src/cli/test-bugs.ts), without processes: what each
 * GOSSAMER_BUG and GOSSAMER_TEST_DELAY_MS does, and that bad values are refused.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope, Logger } from '../src/ports/index.js';
import type { ClientOp, ClientReply } from '../src/core/types.js';
import type { NodeService } from '../src/runtime/service.js';
import { testBugsFromEnv, testTransportFaults, withServiceBug, withTransportBug } from '../src/cli/test-bugs.js';

const warnings: string[] = [];
const logger: Logger = { debug() {}, info() {}, warn(msg) { warnings.push(msg); }, error() {} };

describe('the fault suite\'s hooks in the node', () => {
  it('GOSSAMER_BUG names one bug, and warns; an unknown name is refused', () => {
    assert.deepEqual(testBugsFromEnv({}, logger), {});
    assert.deepEqual(testBugsFromEnv({ GOSSAMER_BUG: 'no-hint-replay' }, logger), { transport: 'no-hint-replay' });
    assert.deepEqual(testBugsFromEnv({ GOSSAMER_BUG: 'strict-acks-early' }, logger), { service: 'strict-acks-early' });
    assert.deepEqual(testBugsFromEnv({ GOSSAMER_BUG: 'one-tombstone' }, logger), { reconcile: 'one-tombstone' });
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
});
