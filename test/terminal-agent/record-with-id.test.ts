/** record() with a caller-supplied event id (DESIGN §3.6: the id the app gave the PSP as merchantReference). */
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../protocol/jws.js';
import { DEFAULT_OFFLINE_LIMITS } from '../../terminal-agent/limits.js';
import { MemoryOutbox } from '../../terminal-agent/outbox/memory-outbox.js';
import { Recorder } from '../../terminal-agent/recorder.js';
import { FakeClock } from '../support/fake-clock.js';
import { testSigner } from '../support/events.js';
import { codeOfAsync } from '../support/codes.js';
import { tx } from './support/tx.js';

async function recorder(): Promise<{ r: Recorder; outbox: MemoryOutbox }> {
  const outbox = new MemoryOutbox();
  await outbox.open();
  await outbox.adoptBase({ seq: 0, hash: '' });
  return { outbox, r: new Recorder({ store: 's-1', terminal: 't-1', signer: testSigner('record-with-id'), outbox, clock: new FakeClock(), limits: DEFAULT_OFFLINE_LIMITS, isOffline: () => false }) };
}

describe('record() with the caller\'s event id', () => {
  it('record - a caller-supplied UUID becomes the event id; without one the agent makes a v7', async () => {
    const { r, outbox } = await recorder();
    const id = '01912f6e-8a3c-7b6d-9e0f-123456789abc';
    expect((await r.record(tx(100, { id, ref: 'PSPREF0000000001' }))).id).toBe(id);
    const own = await r.record(tx(200));
    expect(own.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    const [first] = await outbox.read(1, 1);
    expect(decodeEvent(first!.jws).payload).toMatchObject({ id, ref: 'PSPREF0000000001' });
  });

  it('record - an id that is not a UUID is refused with BAD_TRANSACTION and nothing is recorded', async () => {
    const { r, outbox } = await recorder();
    expect(await codeOfAsync(r.record(tx(100, { id: 'order-42' })))).toBe('BAD_TRANSACTION');
    expect(outbox.head().seq).toBe(0);
  });
});
