/**
 * Proves DESIGN §3.6 "the cloud answers `[accepted]` only after the notification is durable" with a
 * real `tillgate cloud` process: notifications go through a TCP proxy that lets each request reach
 * the cloud and swallows the answer, so the PSP never sees `[accepted]`; the cloud is then killed
 * with SIGKILL and restarted on the same storage (LevelDB directory, or PostgreSQL database). Every notification it answered is there
 * (the payments are pending with its PSP reference, then joined when the terminal events arrive);
 * the PSP's resends are answered `[accepted]` and change nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { notificationRequestItemSchema, signAdyenItem, type NotificationRequestItem } from '../../protocol/adyen.js';
import { paymentViewSchema } from '../../protocol/payments.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { signChain, testSigner } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { describePg, freshDatabase } from '../support/postgres/test-database.js';
import { ADMIN, enrollmentOf, GW1, ingestBody } from '../cloud-bridge/helpers.js';
import { spawnCloud, type CloudProcess } from '../cloud-bridge/cloud-process.js';
import { HMAC_KEY } from '../cloud-bridge/lifecycle/support.js';

const NOTIFICATIONS = 12;

function signed(merchantReference: string, n: number): NotificationRequestItem {
  const item = notificationRequestItemSchema.parse({
    eventCode: 'AUTHORISATION', success: 'true', pspReference: `KILL${String(n).padStart(12, '0')}`, merchantAccountCode: 'KillTest',
    merchantReference, amount: { value: 100 + n, currency: 'EUR' }, eventDate: '2026-11-22T09:00:00Z',
  });
  return { ...item, additionalData: { hmacSignature: signAdyenItem(item, HMAC_KEY) } };
}
const body = (item: NotificationRequestItem) => JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: item }] });

describe('cloud kill -9 around a webhook (LevelDB)', () => killAroundWebhook(async (cleanups) => {
  const dir = await makeTempDir('tillgate-webhook-kill-');
  cleanups.push(() => removeDir(dir));
  return ['--data-dir', dir];
}));

describePg('cloud kill -9 around a webhook (PostgreSQL)', () => killAroundWebhook(async (cleanups) => {
  const db = await freshDatabase();
  cleanups.push(() => db.drop());
  return ['--database-url', db.url];
}));

function killAroundWebhook(storage: (cleanups: Array<() => Promise<unknown>>) => Promise<string[]>): void {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('webhook kill -9 - a notification stored before the crash is kept though [accepted] never reached the PSP; resends change nothing', async () => {
    const args = [
      ...(await storage(cleanups)), '--gateways', `${GW1.id}:${GW1.store}:${GW1.token}`, '--admin-token', ADMIN, '--provisioning-keys', TEST_PROVISIONING_PUBLIC_KEY,
      '--psp-hmac-key', HMAC_KEY, '--optimistic-charge', '--lifecycle-poll-interval-ms', '50',
    ];
    let cloud: CloudProcess = await spawnCloud(args);
    cleanups.push(() => cloud.kill9().catch(() => undefined));
    const proxy = await TcpProxy.start(cloud.httpPort);
    cleanups.push(() => proxy.close());

    const signer = testSigner('webhook-kill');
    const chain = await signChain(signer, GW1.store, 't-1', NOTIFICATIONS);
    const items = chain.map((e, i) => signed(e.payload.id, i));
    // Each request reaches the cloud, which stores it and answers; the answer is swallowed.
    proxy.setMode('drop-responses');
    const sent = await Promise.allSettled(items.map((item) => fetch(`${proxy.url}/v1/psp/adyen/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(item) })));
    expect(sent.every((s) => s.status === 'rejected')).toBe(true);
    expect(proxy.stats.droppedResponses).toBe(NOTIFICATIONS);
    await cloud.kill9();

    cloud = await spawnCloud(args);
    const admin = { authorization: `Bearer ${ADMIN}` };
    const view = async (id: string) => paymentViewSchema.parse(await (await fetch(`${cloud.url}/v1/payments/${id}`, { headers: admin })).json());
    // Every notification survived: its payment is pending (the terminal event is not in yet) with its reference.
    await waitFor(async () => (await fetch(`${cloud.url}/v1/payments/${chain.at(-1)!.payload.id}`, { headers: admin })).status === 200, { timeoutMs: 10_000, what: 'the inbox applied after the restart' });
    for (const [i, e] of chain.entries()) expect(await view(e.payload.id)).toMatchObject({ state: 'pending', pspReferences: [items[i]!.pspReference] });

    // The terminal events arrive; the payments join their authorisations.
    const ingest = await fetch(`${cloud.url}/v1/ingest`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${GW1.token}` },
      body: JSON.stringify(ingestBody(GW1, chain.map((e) => e.jws), [enrollmentOf('t-1', signer)])),
    });
    expect(ingest.status).toBe(200);
    await waitFor(async () => (await view(chain.at(-1)!.payload.id)).state === 'authorised', { timeoutMs: 10_000, what: 'the payments joined' });
    const before = await Promise.all(chain.map((e) => view(e.payload.id)));
    expect(before.every((p) => p.state === 'authorised' && p.chargedBy === 'authorisation')).toBe(true);

    // The PSP never got [accepted], so it sends them all again.
    for (const item of items) {
      const res = await fetch(`${cloud.url}/v1/psp/adyen/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(item) });
      expect([res.status, await res.text()]).toEqual([200, '[accepted]']);
    }
    const metrics = await (await fetch(`${cloud.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`tillgate_cloud_webhook_items_total\\{result="duplicate"\\} ${NOTIFICATIONS}\\b`));
    expect(metrics).not.toMatch(/tillgate_cloud_webhook_items_total\{result="stored"\}/);
    expect(await Promise.all(chain.map((e) => view(e.payload.id)))).toEqual(before);
  });
}
