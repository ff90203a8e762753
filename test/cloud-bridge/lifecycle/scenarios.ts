/**
 * The payment lifecycle end to end through the cloud's HTTP API (DESIGN §3.6), written once and run
 * on every ledger: signed terminal events through `POST /v1/ingest`, signed Adyen notifications
 * through `POST /v1/psp/adyen/webhooks`, state read back through `GET /v1/payments/{id}`. Webhook
 * before event, event before webhook, duplicates, reordering, refusal after an optimistic charge,
 * cancellation, refund, reconciliation to `inconsistent`, and the updates back to the store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signEvent } from '../../../protocol/jws.js';
import { latencyReportSchema, updatesPageSchema } from '../../../protocol/payments.js';
import { FakeClock } from '../../support/fake-clock.js';
import { samplePayload, signChain, testSigner, type SignedChainEvent } from '../../support/events.js';
import { ADMIN, GW1, GW2 } from '../helpers.js';
import { FakePspClient, getJson, ingest, payment, postWebhook, type LifecycleCloudHarness, type TestLifecycleCloud } from './lifecycle-cloud.js';
import { adyenItem, HMAC_KEY } from './support.js';

const signer = testSigner('lifecycle-scenarios');
const T = 't-1';

/**
 * `captureClock`: whose clock stamps an event's capture time — the test's fake clock (LevelDB), or
 * the database's (PostgreSQL: `receivedAt` is the server's `clock_timestamp()`). The fake clock
 * starts at the real time, so reconciliation waits are the same on both; timing figures that
 * depend on the capture moment are checked exactly on the fake clock and from what is read back
 * on the database's.
 */
export function describeLifecycleScenarios(name: string, makeHarness: () => Promise<LifecycleCloudHarness>, captureClock: 'fake' | 'database'): void {
  describe(`payment lifecycle scenarios (${name})`, () => {
    let harness: LifecycleCloudHarness;
    let clock: FakeClock;
    let psp: FakePspClient;
    let cloud: TestLifecycleCloud;
    let chain: SignedChainEvent[];

    const open = async (optimisticCharge = true, extra: Record<string, unknown> = {}) => {
      await cloud?.close();
      cloud = await harness.open({ optimisticCharge, clock, psp, extra });
    };
    const idOf = (n: number) => chain[n - 1]!.payload.id;
    const auth = (n: number, over: Partial<Parameters<typeof adyenItem>[0]> = {}) =>
      adyenItem({ merchantReference: idOf(n), pspReference: `PSP${String(n).padStart(13, '0')}`, amount: { value: chain[n - 1]!.payload.amount, currency: 'EUR' }, ...over });
    const events = (...ns: number[]) => ingest(cloud, signer, T, ns.map((n) => chain[n - 1]!.jws));
    const accepted = async (items: Parameters<typeof postWebhook>[1]) => {
      const res = await postWebhook(cloud.app, items);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('[accepted]');
    };

    beforeEach(async () => {
      harness = await makeHarness();
      clock = new FakeClock(Date.now());
      psp = new FakePspClient();
      chain = await signChain(signer, GW1.store, T, 8);
      cloud = undefined as unknown as TestLifecycleCloud;
      await open();
    });
    afterEach(async () => {
      await cloud.close();
      await harness.destroy();
    });

    it('lifecycle - event before webhook: captured and charged optimistically, then authorised', async () => {
      await events(1);
      await cloud.lifecycle.catchUp();
      expect(await payment(cloud.app, idOf(1))).toMatchObject({ state: 'captured', charged: true, chargedBy: 'optimistic', store: GW1.store, terminal: T, seq: 1, mode: 'online' });
      clock.advance(5_000);
      const webhookAt = clock.now();
      await accepted([auth(1)]);
      await cloud.lifecycle.catchUp();
      const p = await payment(cloud.app, idOf(1));
      expect(p).toMatchObject({ state: 'authorised', charged: true, chargedBy: 'optimistic', contradicted: false });
      expect(p.history.map((h) => [h.state, h.source])).toEqual([['captured', 'terminal'], ['authorised', 'psp:AUTHORISATION']]);
      // A notification's time is when the inbox made it durable.
      expect(Date.parse(p.authorisedAt!)).toBe(webhookAt);
      if (captureClock === 'fake') expect(Date.parse(p.authorisedAt!) - Date.parse(p.capturedAt!)).toBe(5_000);
      // The same, as Prometheus histograms and counters.
      const metrics = await (await cloud.app.request('/metrics')).text();
      expect(metrics).toMatch(/tillgate_cloud_payment_success_to_charged_seconds_count\{charged_by="optimistic"\} 1\b/);
      expect(metrics).toMatch(/tillgate_cloud_payment_success_to_authorised_seconds_count 1\b/);
      expect(metrics).toMatch(/tillgate_cloud_payment_transitions_total\{state="authorised"\} 1\b/);
      expect(metrics).toMatch(/tillgate_cloud_webhook_items_total\{result="stored"\} 1\b/);
    });

    it('lifecycle - webhook before event (store link down): pending, then joined when the event arrives', async () => {
      await accepted([auth(2)]);
      await cloud.lifecycle.catchUp();
      expect(await payment(cloud.app, idOf(2))).toMatchObject({ state: 'pending', store: null, charged: false });
      expect(((await getJson(cloud.app, '/v1/payments/pending')).body as { payments: Array<{ id: string }> }).payments.map((p) => p.id)).toEqual([idOf(2)]);
      clock.advance(60_000);
      await events(1, 2);
      await cloud.lifecycle.catchUp();
      expect(await payment(cloud.app, idOf(2))).toMatchObject({ state: 'authorised', store: GW1.store, charged: true, chargedBy: 'authorisation' });
      expect(((await getJson(cloud.app, '/v1/payments/pending')).body as { payments: unknown[] }).payments).toEqual([]);
    });

    it('lifecycle - duplicates of notifications and events change nothing', async () => {
      await events(1);
      await accepted([auth(1)]);
      await cloud.lifecycle.catchUp();
      const once = await payment(cloud.app, idOf(1));
      const head = await cloud.inbox.head();
      clock.advance(1_000);
      await accepted([auth(1), auth(1)]);
      expect(await events(1)).toEqual(['duplicate']);
      await cloud.lifecycle.catchUp();
      expect(await cloud.inbox.head()).toBe(head);
      expect(await payment(cloud.app, idOf(1))).toEqual(once);
    });

    it('lifecycle - reordered events and notifications end where the same signals in order end', async () => {
      // Notifications for 8 payments arrive in reverse, interleaved with the events arriving in batches.
      await accepted([auth(8), auth(7, { success: 'false' })]);
      await events(1, 2, 3);
      await cloud.lifecycle.catchUp();
      await accepted([auth(6), auth(5), auth(4, { success: 'false' })]);
      await events(4, 5, 6, 7, 8);
      await accepted([auth(3), auth(2), auth(1)]);
      await cloud.lifecycle.catchUp();
      const states = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(async (n) => (await payment(cloud.app, idOf(n))).state));
      expect(states).toEqual(['authorised', 'authorised', 'authorised', 'refused', 'authorised', 'authorised', 'refused', 'authorised']);
      // 4 was charged on its event and then refused: contradicted. 7 was refused before its event: never charged.
      expect(await payment(cloud.app, idOf(4))).toMatchObject({ charged: true, chargedBy: 'optimistic', contradicted: true });
      expect(await payment(cloud.app, idOf(7))).toMatchObject({ charged: false, contradicted: false });
    });

    it('lifecycle - a refusal after an optimistic charge contradicts it: alarm and counted rate', async () => {
      await events(1, 2);
      await cloud.lifecycle.catchUp();
      await accepted([auth(1), auth(2, { success: 'false' })]);
      await cloud.lifecycle.catchUp();
      expect(await payment(cloud.app, idOf(2))).toMatchObject({ state: 'refused', charged: true, chargedBy: 'optimistic', contradicted: true });
      const latency = latencyReportSchema.parse((await getJson(cloud.app, '/v1/payments/latency')).body);
      expect(latency.optimistic).toEqual({ charged: 2, contradicted: 1, rate: 0.5 });
      expect(cloud.logs.some((l) => l.includes('optimistic charge was contradicted') && l.includes(idOf(2)))).toBe(true);
    });

    it('lifecycle - without the flag nothing is charged before authorisation and nothing is contradicted', async () => {
      await open(false);
      await events(1, 2);
      await cloud.lifecycle.catchUp();
      expect(await payment(cloud.app, idOf(1))).toMatchObject({ state: 'captured', charged: false });
      await accepted([auth(1), auth(2, { success: 'false' })]);
      await cloud.lifecycle.catchUp();
      expect(await payment(cloud.app, idOf(1))).toMatchObject({ state: 'authorised', charged: true, chargedBy: 'authorisation' });
      expect(await payment(cloud.app, idOf(2))).toMatchObject({ state: 'refused', charged: false, contradicted: false });
    });

    it('lifecycle - offline-mode payments are charged only at authorisation', async () => {
      const payload = samplePayload(GW1.store, 't-off', 1, '', { mode: 'offline' });
      const jws = await signEvent(payload, signer);
      await ingest(cloud, signer, 't-off', [jws]);
      await cloud.lifecycle.catchUp();
      expect(await payment(cloud.app, payload.id)).toMatchObject({ state: 'captured', charged: false, mode: 'offline' });
      await accepted([adyenItem({ merchantReference: payload.id, pspReference: 'PSPOFF0000000001' })]);
      await cloud.lifecycle.catchUp();
      expect(await payment(cloud.app, payload.id)).toMatchObject({ state: 'authorised', charged: true, chargedBy: 'authorisation' });
    });

    it('lifecycle - cancellation after authorisation cancels the payment', async () => {
      await events(1);
      await accepted([auth(1)]);
      await accepted([adyenItem({ merchantReference: idOf(1), eventCode: 'CANCELLATION', pspReference: 'CANCEL0000000001', originalReference: auth(1).pspReference })]);
      await cloud.lifecycle.catchUp();
      expect(await payment(cloud.app, idOf(1))).toMatchObject({ state: 'cancelled', charged: true, contradicted: true });
    });

    it('lifecycle - a refund is recorded without moving the state', async () => {
      await events(1);
      await accepted([auth(1)]);
      await accepted([adyenItem({ merchantReference: idOf(1), eventCode: 'REFUND', pspReference: 'REFUND0000000001', amount: { value: 50, currency: 'EUR' } })]);
      await cloud.lifecycle.catchUp();
      const p = await payment(cloud.app, idOf(1));
      expect(p).toMatchObject({ state: 'authorised', contradicted: false, refunds: [{ pspReference: 'REFUND0000000001', amount: 50, currency: 'EUR' }] });
    });

    it('lifecycle - reconciliation marks a payment the PSP does not confirm inconsistent, after reconcileAfterS', async () => {
      await events(1, 2, 3);
      await accepted([auth(3)]);
      await cloud.lifecycle.catchUp();
      psp.statuses.set(idOf(2), 'authorised');
      clock.advance(1_199_000);
      expect(await cloud.lifecycle.reconcileNow()).toMatchObject({ checked: 0 });
      expect(psp.asked).toEqual([]);
      clock.advance(60_000);
      expect(await cloud.lifecycle.reconcileNow()).toMatchObject({ checked: 2, confirmed: 1, inconsistent: 1, bounded: false });
      expect(psp.asked.sort()).toEqual([idOf(1), idOf(2)].sort());
      expect(await payment(cloud.app, idOf(1))).toMatchObject({ state: 'inconsistent', charged: true, contradicted: true });
      expect((await payment(cloud.app, idOf(1))).history.at(-1)).toMatchObject({ state: 'inconsistent', source: 'reconciliation' });
      expect(await payment(cloud.app, idOf(2))).toMatchObject({ state: 'authorised', contradicted: false });
      // Nothing captured is left: the next run asks nobody.
      psp.asked.length = 0;
      expect(await cloud.lifecycle.reconcileNow()).toMatchObject({ checked: 0 });
      expect(psp.asked).toEqual([]);
    });

    it('lifecycle - a PSP that does not answer is asked again at the next run; nothing changes meanwhile', async () => {
      await events(1);
      await cloud.lifecycle.catchUp();
      clock.advance(1_300_000);
      psp.failing = true;
      expect(await cloud.lifecycle.reconcileNow()).toMatchObject({ checked: 0, errors: 1 });
      expect((await payment(cloud.app, idOf(1))).state).toBe('captured');
      psp.failing = false;
      expect(await cloud.lifecycle.reconcileNow()).toMatchObject({ checked: 1, inconsistent: 1 });
    });

    it('lifecycle - a clock with fractional milliseconds breaks neither the webhook route nor reconciliation', async () => {
      await events(1);
      await cloud.lifecycle.catchUp();
      clock.advance(0.6);
      await accepted([auth(1, { success: 'false' })]);
      clock.advance(1_300_000.4);
      await cloud.lifecycle.catchUp();
      expect((await payment(cloud.app, idOf(1))).state).toBe('refused');
      await events(2);
      await cloud.lifecycle.catchUp();
      clock.advance(1_300_000.3);
      expect(await cloud.lifecycle.reconcileNow()).toMatchObject({ checked: 1, inconsistent: 1 });
    });

    it('lifecycle - a bad signature is 401 BAD_HMAC and stores nothing, even beside good items', async () => {
      const good = auth(1);
      const forged = { ...auth(2), amount: { value: 1, currency: 'EUR' } };
      const res = await postWebhook(cloud.app, [good, forged]);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_HMAC');
      const otherKey = adyenItem({ merchantReference: idOf(3) }, HMAC_KEY.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
      expect((await postWebhook(cloud.app, [otherKey])).status).toBe(401);
      expect(await cloud.inbox.head()).toBe(0);
    });

    it('lifecycle - malformed, oversized and overfull webhook bodies are refused with codes and store nothing', async () => {
      const code = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];
      expect(await code(await cloud.app.request('/v1/psp/adyen/webhooks', { method: 'POST', body: 'not json' }))).toEqual([400, 'MALFORMED']);
      expect(await code(await postWebhook(cloud.app, { live: 'false', notificationItems: [{ NotificationRequestItem: { eventCode: 'AUTHORISATION' } }] }))).toEqual([400, 'MALFORMED']);
      expect(await code(await postWebhook(cloud.app, Array.from({ length: 101 }, () => auth(1))))).toEqual([413, 'TOO_MANY_ITEMS']);
      const huge = JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: { ...auth(1), reason: 'x'.repeat(600_000) } }] });
      expect(await code(await cloud.app.request('/v1/psp/adyen/webhooks', { method: 'POST', body: huge }))).toEqual([413, 'TOO_LARGE']);
      expect(await cloud.inbox.head()).toBe(0);
    });

    it('lifecycle - unknown event codes are stored and leave the state alone; foreign references too', async () => {
      await events(1);
      await accepted([adyenItem({ merchantReference: idOf(1), eventCode: 'SOMETHING_NEW_2030', pspReference: 'NEW0000000000001' })]);
      await accepted([adyenItem({ merchantReference: 'order-12345', pspReference: 'FOREIGN000000001' })]);
      await cloud.lifecycle.catchUp();
      expect(await cloud.inbox.head()).toBe(2);
      expect(await payment(cloud.app, idOf(1))).toMatchObject({ state: 'captured' });
    });

    it('lifecycle - the store\'s gateway reads every change on its updates feed with its own token only', async () => {
      await events(1, 2);
      await cloud.lifecycle.catchUp();
      await accepted([auth(1), auth(2, { success: 'false' })]);
      await cloud.lifecycle.catchUp();
      const first = await getJson(cloud.app, `/v1/stores/${GW1.store}/updates?after=0&limit=3`, GW1.token);
      expect(first.status).toBe(200);
      const page = updatesPageSchema.parse(first.body);
      expect(page.updates).toEqual([
        { terminal: T, id: idOf(1), seq: 1, state: 'captured', charged: true, contradicted: false },
        { terminal: T, id: idOf(2), seq: 2, state: 'captured', charged: true, contradicted: false },
        { terminal: T, id: idOf(1), seq: 1, state: 'authorised', charged: true, contradicted: false },
      ]);
      const rest = updatesPageSchema.parse((await getJson(cloud.app, `/v1/stores/${GW1.store}/updates?after=${page.cursor}`, GW1.token)).body);
      expect(rest.updates).toEqual([{ terminal: T, id: idOf(2), seq: 2, state: 'refused', charged: true, contradicted: true }]);
      const done = updatesPageSchema.parse((await getJson(cloud.app, `/v1/stores/${GW1.store}/updates?after=${rest.cursor}`, GW1.token)).body);
      expect(done).toEqual({ cursor: rest.cursor, updates: [] });
      expect((await getJson(cloud.app, `/v1/stores/${GW1.store}/updates?after=0`, GW2.token)).status).toBe(403);
      expect((await getJson(cloud.app, `/v1/stores/${GW1.store}/updates?after=0`, null)).status).toBe(401);
      expect((await getJson(cloud.app, `/v1/stores/${GW1.store}/updates?after=0`, ADMIN)).status).toBe(200);
      expect((await getJson(cloud.app, `/v1/stores/${GW1.store}/updates?after=-1`, GW1.token)).status).toBe(400);
    });

    it('lifecycle - latency percentiles: success to charged and to authorised, in seconds', async () => {
      // The sample events say the terminal showed success 1 s apart from 09:00:01; on the fake clock the cloud captures them 3 s after the first.
      if (captureClock === 'fake') clock.set(Date.parse(chain[0]!.payload.at) + 3_000);
      await events(1, 2, 3, 4);
      await cloud.lifecycle.catchUp();
      for (const n of [1, 2, 3, 4]) {
        clock.advance(10_000);
        await accepted([auth(n)]);
      }
      await cloud.lifecycle.catchUp();
      const body = latencyReportSchema.parse((await getJson(cloud.app, '/v1/payments/latency')).body);
      if (captureClock === 'fake') {
        // Optimistic: charged at capture, 3, 2, 1, 0 s after the terminal's success.
        expect(body.segments.success_to_charged).toEqual({ count: 4, p50: 1, p90: 3, p95: 3, p99: 3 });
        // Authorised 10, 20, 30, 40 s after capture: 13, 22, 31, 40 s after success.
        expect(body.segments.success_to_authorised).toEqual({ count: 4, p50: 22, p90: 40, p95: 40, p99: 40 });
      } else {
        // The same figures, from what each payment says of itself (the capture time is the database's).
        const views = await Promise.all([1, 2, 3, 4].map((n) => payment(cloud.app, idOf(n))));
        const seconds = (end: string | null, v: (typeof views)[number]) => {
          const success = Math.min(Date.parse(v.at!), Date.parse(v.capturedAt!));
          return Math.round(Math.max(0, Date.parse(end!) - success)) / 1000;
        };
        const nearest = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.ceil(q * xs.length) - 1];
        const charged = views.map((v) => seconds(v.chargedAt, v));
        const authorised = views.map((v) => seconds(v.authorisedAt, v));
        expect(body.segments.success_to_charged).toEqual({ count: 4, p50: nearest(charged, 0.5), p90: nearest(charged, 0.9), p95: nearest(charged, 0.95), p99: nearest(charged, 0.99) });
        expect(body.segments.success_to_authorised).toEqual({ count: 4, p50: nearest(authorised, 0.5), p90: nearest(authorised, 0.9), p95: nearest(authorised, 0.95), p99: nearest(authorised, 0.99) });
      }
      expect((await getJson(cloud.app, '/v1/payments/latency', null)).status).toBe(401);
    });

    it('lifecycle - the store list pages by id and filters by state', async () => {
      await events(1, 2, 3);
      await accepted([auth(2)]);
      await cloud.lifecycle.catchUp();
      const all = (await getJson(cloud.app, `/v1/stores/${GW1.store}/payments?limit=2`)).body as { payments: Array<{ id: string }>; next: string };
      expect(all.payments).toHaveLength(2);
      const more = (await getJson(cloud.app, `/v1/stores/${GW1.store}/payments?after=${all.next}`)).body as { payments: Array<{ id: string }> };
      expect([...all.payments, ...more.payments].map((p) => p.id).sort()).toEqual([idOf(1), idOf(2), idOf(3)].sort());
      const authorised = (await getJson(cloud.app, `/v1/stores/${GW1.store}/payments?state=authorised`)).body as { payments: Array<{ id: string }> };
      expect(authorised.payments.map((p) => p.id)).toEqual([idOf(2)]);
      expect((await getJson(cloud.app, `/v1/stores/${GW1.store}/payments?state=flying`)).status).toBe(400);
      expect((await getJson(cloud.app, `/v1/payments/${idOf(7)}`)).status).toBe(404);
    });

    it('lifecycle - what was applied survives a restart, and a restart applies what it had not yet', async () => {
      await events(1);
      await cloud.lifecycle.catchUp();
      await accepted([auth(1)]);
      // Closed before the follower applied the notification: it is in the inbox, not in the payment.
      await open();
      await events(2);
      await cloud.lifecycle.catchUp();
      expect(await payment(cloud.app, idOf(1))).toMatchObject({ state: 'authorised' });
      expect(await payment(cloud.app, idOf(2))).toMatchObject({ state: 'captured' });
    });
  });
}
