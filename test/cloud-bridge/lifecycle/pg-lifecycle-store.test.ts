/**
 * The PaymentStore and WebhookInbox conformance suites on PostgreSQL (a fresh migrated database
 * per test, on the run's real server), plus a damaged row read back as LIFECYCLE_CORRUPT.
 */
import { afterEach, expect, it } from 'vitest';
import pg from 'pg';
import { PgLifecycleStore } from '../../../cloud-bridge/lifecycle/pg-lifecycle-store.js';
import { describePg, freshDatabase } from '../../support/postgres/test-database.js';
import { codeOfAsync } from '../../support/codes.js';
import { describePaymentStoreConformance } from './payment-store-conformance.js';
import { describeWebhookInboxConformance } from './webhook-inbox-conformance.js';
import { adyenItem, eventSignal, paymentAfter, paymentId } from './support.js';

const policy = { retryMax: 8, random: Math.random };

async function pgHarness() {
  const db = await freshDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 6 });
  pool.on('error', () => undefined);
  return {
    open: async (o?: { updatesKeepPerStore?: number }) => new PgLifecycleStore(pool, policy, o),
    destroy: async () => {
      await pool.end();
      await db.drop();
    },
  };
}

describePg('PostgreSQL lifecycle store', () => {
  describePaymentStoreConformance('PostgreSQL', pgHarness);
  describeWebhookInboxConformance('PostgreSQL', pgHarness);

  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('pg lifecycle - a damaged payment, counter or inbox row is LIFECYCLE_CORRUPT, never served', async () => {
    const db = await freshDatabase();
    cleanups.push(() => db.drop());
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    cleanups.push(() => pool.end());
    const store = new PgLifecycleStore(pool, policy);
    const a = paymentAfter(paymentId(1), [eventSignal()]);
    await store.apply({ ids: [a.id] }, () => [a]);
    await store.accept([adyenItem({ merchantReference: a.id })], false, 1);
    await db.query(`UPDATE lifecycle_payments SET record = jsonb_set(record, '{state}', '"flying"')`);
    await db.query(`UPDATE lifecycle_stores SET counters = '{"nope":1}'`);
    await db.query(`UPDATE lifecycle_inbox SET key = 'other|AUTHORISATION|true'`);
    expect(await codeOfAsync(store.get(a.id))).toBe('LIFECYCLE_CORRUPT');
    expect(await codeOfAsync(store.counters())).toBe('LIFECYCLE_CORRUPT');
    expect(await codeOfAsync(store.read(0, 10))).toBe('LIFECYCLE_CORRUPT');
  });
});
