/**
 * A cloud with a day's worth of lifecycle in it, for the dashboard tests: two stores, payments
 * authorised after short and long waits, a refusal after an optimistic charge, a payment
 * reconciliation found inconsistent, payments still waiting for the PSP, and notifications whose
 * terminal event has not arrived (pending).
 */
import { chainHash } from '../../../protocol/chain.js';
import { signEvent } from '../../../protocol/jws.js';
import { samplePayload, signChain, testSigner } from '../../support/events.js';
import type { FakeClock } from '../../support/fake-clock.js';
import { enrollmentOf, GW1, GW2, ingestBody, postIngest } from '../helpers.js';
import type { FakePspClient, TestLifecycleCloud } from './lifecycle-cloud.js';
import { postWebhook } from './lifecycle-cloud.js';
import { adyenItem, paymentId } from './support.js';

/** Waits of the PSP per payment of store s-1, seconds (most short, a long tail). */
const WAITS_S = [1, 1, 2, 2, 2, 3, 4, 6, 9, 25, 240, 1_100];

export async function fillDashboard(cloud: TestLifecycleCloud, clock: FakeClock, psp: FakePspClient): Promise<void> {
  const signer = testSigner('dashboard');
  const s1 = await signChain(signer, GW1.store, 't-01', WAITS_S.length + 4);
  const s2 = await signChain(signer, GW2.store, 't-07', 3);
  const ok = async (res: Promise<Response>) => {
    const r = await res;
    if (r.status !== 200) throw new Error(`answered ${r.status}`);
  };
  // Each event reaches the cloud about a second after its terminal showed success.
  for (const [i, e] of s1.entries()) {
    clock.set(Math.max(clock.now(), Date.parse(e.payload.at) + 800 + (i % 3) * 300));
    await ok(postIngest(cloud.app, ingestBody(GW1, [e.jws], [enrollmentOf('t-01', signer)]), GW1.token));
  }
  for (const e of s2) {
    clock.set(Math.max(clock.now(), Date.parse(e.payload.at) + 1_500));
    await ok(postIngest(cloud.app, ingestBody(GW2, [e.jws], [enrollmentOf('t-07', signer, GW2.store)]), GW2.token));
  }
  await cloud.lifecycle.catchUp();
  const start = clock.now();
  const notes = WAITS_S.map((w, i) => ({ at: start + w * 1_000, item: adyenItem({ merchantReference: s1[i]!.payload.id, pspReference: `PSPDASH${String(i).padStart(9, '0')}`, amount: { value: s1[i]!.payload.amount, currency: 'EUR' } }) }));
  // One refusal after the optimistic charge, for store s-2's first payment.
  notes.push({ at: start + 30_000, item: adyenItem({ merchantReference: s2[0]!.payload.id, success: 'false', pspReference: 'PSPDASHREFUSED01', amount: { value: s2[0]!.payload.amount, currency: 'EUR' } }) });
  notes.push({ at: start + 50_000, item: adyenItem({ merchantReference: s2[1]!.payload.id, pspReference: 'PSPDASHS2AUTH001', amount: { value: s2[1]!.payload.amount, currency: 'EUR' } }) });
  // Notifications for payments whose terminal events have not reached the cloud (store link down).
  for (let i = 0; i < 2; i++) notes.push({ at: start + 60_000 + i, item: adyenItem({ merchantReference: paymentId(`pending-${i}`), pspReference: `PSPDASHPEND0000${i}` }) });
  notes.sort((a, b) => a.at - b.at);
  for (const n of notes) {
    clock.set(n.at);
    await ok(postWebhook(cloud.app, [n.item]));
    await cloud.lifecycle.catchUp();
  }
  // Twenty minutes on: reconciliation asks about what is still captured; the PSP confirms one.
  clock.set(start + 1_201_000);
  psp.statuses.set(s1[WAITS_S.length + 1]!.payload.id, 'authorised');
  psp.statuses.set(s1[WAITS_S.length + 2]!.payload.id, 'refused');
  await cloud.lifecycle.reconcileNow();
  // Two more payments since, still within their wait.
  let prev = s1.at(-1)!.hash;
  for (let n = 1; n <= 2; n++) {
    const payload = samplePayload(GW1.store, 't-01', s1.length + n, prev, { at: new Date(clock.now() - 1_000).toISOString() });
    const jws = await signEvent(payload, signer);
    prev = chainHash(jws);
    await ok(postIngest(cloud.app, ingestBody(GW1, [jws]), GW1.token));
    clock.advance(20_000);
  }
  await cloud.lifecycle.catchUp();
  clock.advance(95_000);
}
