/**
 * Proves exactly-once application across replicas (DESIGN §3.6, §5.4): two cloud-bridges — each
 * with its own connection pool, ledger and lifecycle followers — on ONE PostgreSQL database, ingest
 * and webhooks sent to both at once, both following the ledger feed and the webhook inbox at the
 * same time. Every payment ends in the state its signals call for with exactly one history (no
 * state entered twice), each change is on the store's updates feed once, and the replicas did race
 * (some of their applies found the cursor moved by the other).
 */
import { afterEach, expect, it } from 'vitest';
import { openPgLedger } from '../../cloud-bridge/pg/pg-ledger.js';
import { PgLifecycleStore } from '../../cloud-bridge/lifecycle/pg-lifecycle-store.js';
import { paymentViewSchema, updatesPageSchema } from '../../protocol/payments.js';
import { FakeClock } from '../support/fake-clock.js';
import { signChain, testSigner } from '../support/events.js';
import { describePg, freshDatabase } from '../support/postgres/test-database.js';
import { waitFor } from '../support/wait.js';
import { ADMIN, enrollmentOf, GW1, ingestBody, pgLedgerOptions, postIngest } from '../cloud-bridge/helpers.js';
import { buildLifecycleCloud, FakePspClient, postWebhook, type TestLifecycleCloud } from '../cloud-bridge/lifecycle/lifecycle-cloud.js';
import { adyenItem } from '../cloud-bridge/lifecycle/support.js';

const PAYMENTS = 80;

describePg('payment lifecycle replicas on one PostgreSQL', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('replicas - two cloud-bridges applying the feed and webhooks at once give each payment exactly one history', async () => {
    const db = await freshDatabase();
    cleanups.push(() => db.drop());
    const clock = new FakeClock(Date.now());
    const replicas: TestLifecycleCloud[] = [];
    for (let r = 0; r < 2; r++) {
      const ledger = await openPgLedger(pgLedgerOptions(db.url));
      const store = new PgLifecycleStore(ledger.pool, { retryMax: 20, random: Math.random });
      const cloud = buildLifecycleCloud(ledger, store, store, { optimisticCharge: true, clock, psp: new FakePspClient(), extra: { lifecyclePollIntervalMs: 10, lifecyclePageEntries: 7 } }, async () => {
        await store.close();
        await ledger.close();
      });
      cleanups.push(() => cloud.close());
      cloud.lifecycle.start();
      replicas.push(cloud);
    }
    const signer = testSigner('replicas');
    const chain = await signChain(signer, GW1.store, 't-1', PAYMENTS);
    const refused = (i: number) => i % 5 === 0;
    // Events (in chain order, each batch to one replica) and notifications (to the other) at once.
    const ingests = (async () => {
      for (let i = 0; i < PAYMENTS; i += 8) {
        const res = await postIngest(replicas[(i / 8) % 2]!.app, ingestBody(GW1, chain.slice(i, i + 8).map((e) => e.jws), [enrollmentOf('t-1', signer)]));
        expect(res.status).toBe(200);
      }
    })();
    const webhooks = Promise.all(chain.map(async (e, i) => {
      const res = await postWebhook(replicas[(i + 1) % 2]!.app, [adyenItem({ merchantReference: e.payload.id, pspReference: `REPL${String(i).padStart(12, '0')}`, success: refused(i) ? 'false' : 'true' })]);
      expect(res.status).toBe(200);
    }));
    await Promise.all([ingests, webhooks]);

    const view = async (r: number, id: string) => paymentViewSchema.parse(await (await replicas[r]!.app.request(`/v1/payments/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json());
    await waitFor(async () => {
      for (const [i, e] of chain.entries()) {
        const res = await replicas[i % 2]!.app.request(`/v1/payments/${e.payload.id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
        if (res.status !== 200 || ((await res.json()) as { state: string }).state !== (refused(i) ? 'refused' : 'authorised')) return false;
      }
      return true;
    }, { timeoutMs: 20_000, intervalMs: 50, what: 'every payment in its final state' });

    for (const [i, e] of chain.entries()) {
      const [a, b] = [await view(0, e.payload.id), await view(1, e.payload.id)];
      expect(a).toEqual(b);
      const states = a.history.map((h) => h.state);
      expect(new Set(states).size, `history of payment ${i}: ${states.join(' → ')}`).toBe(states.length);
      expect(a.contradicted).toBe(refused(i) && a.chargedBy === 'optimistic');
    }
    const updates = updatesPageSchema.parse(await (await replicas[0]!.app.request(`/v1/stores/${GW1.store}/updates?after=0&limit=1000`, { headers: { authorization: `Bearer ${GW1.token}` } })).json()).updates;
    const seen = new Set<string>();
    for (const u of updates) {
      const key = `${u.id}:${u.state}:${String(u.charged)}:${String(u.contradicted)}`;
      expect(seen.has(key), `update ${key} twice`).toBe(false);
      seen.add(key);
    }
    const stale = replicas.flatMap((r) => [r.lifecycle.feedFollower.staleApplies, r.lifecycle.inboxFollower.staleApplies]);
    expect(stale.reduce((a, b) => a + b, 0), `stale applies ${stale.join(',')}`).toBeGreaterThan(0);
  });
});
