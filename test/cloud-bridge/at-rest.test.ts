import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { openLevelLedger } from '../../cloud-bridge/level-ledger.js';
import { openLevelLifecycleStore } from '../../cloud-bridge/lifecycle/level-lifecycle-store.js';
import { adyenItem, eventFact, eventSignal, paymentAfter, paymentId } from './lifecycle/support.js';
import { signChain, testSigner } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';

function rawFiles(dir: string): Buffer {
  return Buffer.concat(
    readdirSync(dir)
      .filter((f) => f !== 'data-key.json' && statSync(join(dir, f)).isFile())
      .map((f) => readFileSync(join(dir, f))),
  );
}

describe('cloud ledger encryption at rest', () => {
  let dir = '';
  afterEach(async () => {
    await removeDir(dir);
  });

  it('cloud at rest - the LevelDB ledger files hold no JWS of the events it stored, and the events read back after reopening', async () => {
    dir = await makeTempDir('tillgate-cloud-at-rest-');
    const chain = await signChain(testSigner('t-1'), 's-1', 't-1', 50);
    const ledger = await openLevelLedger({ dataDir: dir, clock: new FakeClock(), keys: defaultDataKeys(dir) });
    const kid = testSigner('t-1').kid;
    const outcomes = await ledger.append('s-1', chain.map((e) => ({ terminal: 't-1', seq: e.seq, prev: e.payload.prev, jws: e.jws, kid, event: fieldsOf(e.payload) })));
    expect(outcomes.every((o) => o.status === 'accepted')).toBe(true);
    await ledger.close();

    const raw = rawFiles(dir);
    expect(raw.length).toBeGreaterThan(4_000);
    for (const e of chain) expect(raw.includes(Buffer.from((e.jws.split('.')[1] as string).slice(0, 32)))).toBe(false);

    const again = await openLevelLedger({ dataDir: dir, clock: new FakeClock(), keys: defaultDataKeys(dir) });
    expect((await again.readEvents('s-1', 't-1', 0, 100)).map((e) => e.jws)).toEqual(chain.map((e) => e.jws));
    await again.close();
  });

  it('cloud at rest - the lifecycle store files hold no PSP reference, merchant account or amount of the payments it tracks', async () => {
    dir = await makeTempDir('tillgate-lifecycle-at-rest-');
    const store = await openLevelLifecycleStore({ dataDir: dir, keys: defaultDataKeys(dir) });
    for (let i = 1; i <= 20; i++) {
      const id = paymentId(i);
      await store.accept([adyenItem({ merchantReference: id, pspReference: `PSPREF${String(i).padStart(10, '0')}`, merchantAccountCode: 'SecretMerchantAcct', amount: { value: 771_234, currency: 'EUR' } })], false, i);
      const p = paymentAfter(id, [eventSignal(eventFact({ seq: i, amount: 771_234 }))]);
      await store.apply({ ids: [p.id], cursor: { name: 'inbox', from: i - 1, to: i } }, () => [p]);
    }
    expect((await store.read(0, 100)).length).toBe(20);
    expect((await store.get(paymentId(7)))?.id).toBe(paymentId(7));
    await store.close();
    const raw = rawFiles(dir);
    expect(raw.length).toBeGreaterThan(2_000);
    for (const needle of ['PSPREF', 'SecretMerchantAcct', '771234']) expect(raw.includes(Buffer.from(needle)), needle).toBe(false);
  });
});

/** The decoded fields the ledger stores beside the JWS (the ledger feed). */
function fieldsOf(p: { id: string; type: string; at: string; amount: number; currency: string; outcome: string; mode: string }) {
  return { id: p.id, type: p.type, at: p.at, amount: p.amount, currency: p.currency, outcome: p.outcome, mode: p.mode };
}
