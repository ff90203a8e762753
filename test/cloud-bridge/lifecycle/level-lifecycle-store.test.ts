import { defaultDataKeys } from '../../../lib/at-rest/options.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openLevelLifecycleStore } from '../../../cloud-bridge/lifecycle/level-lifecycle-store.js';
import { makeTempDir, removeDir } from '../../support/temp.js';
import { codeOfAsync } from '../../support/codes.js';
import { describePaymentStoreConformance } from './payment-store-conformance.js';
import { describeWebhookInboxConformance } from './webhook-inbox-conformance.js';
import { adyenItem, eventSignal, paymentAfter, paymentId } from './support.js';

describePaymentStoreConformance('LevelDB', async () => {
  const dir = await makeTempDir('tillgate-lifecycle-');
  return {
    open: (options) => openLevelLifecycleStore({ dataDir: dir, keys: defaultDataKeys(dir), ...options }),
    destroy: () => removeDir(dir),
  };
});

describeWebhookInboxConformance('LevelDB', async () => {
  const dir = await makeTempDir('tillgate-inbox-');
  return {
    open: () => openLevelLifecycleStore({ dataDir: dir, keys: defaultDataKeys(dir) }),
    destroy: () => removeDir(dir),
  };
});

describe('LevelDB lifecycle store', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('level lifecycle - a second open of the same directory fails with LIFECYCLE_LOCKED', async () => {
    const dir = await makeTempDir('tillgate-lifecycle-');
    cleanups.push(() => removeDir(dir));
    const first = await openLevelLifecycleStore({ dataDir: dir, keys: defaultDataKeys(dir) });
    cleanups.push(() => first.close());
    expect(await codeOfAsync(openLevelLifecycleStore({ dataDir: dir, keys: defaultDataKeys(dir) }))).toBe('LIFECYCLE_LOCKED');
  });

  it('level lifecycle - the inbox cursor and the payments it changed are one write', async () => {
    const dir = await makeTempDir('tillgate-lifecycle-');
    cleanups.push(() => removeDir(dir));
    const store = await openLevelLifecycleStore({ dataDir: dir, keys: defaultDataKeys(dir) });
    await store.accept([adyenItem({ merchantReference: paymentId(1) })], false, 1);
    const p = paymentAfter(paymentId(1), [eventSignal()]);
    await store.apply({ ids: [p.id], cursor: { name: 'inbox', from: 0, to: 1 } }, () => [p]);
    await store.close();
    const again = await openLevelLifecycleStore({ dataDir: dir, keys: defaultDataKeys(dir) });
    cleanups.push(() => again.close());
    expect([await again.cursor('inbox'), await again.head(), (await again.get(p.id))?.state]).toEqual([1, 1, 'captured']);
  });
});
