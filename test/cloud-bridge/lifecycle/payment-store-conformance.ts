/**
 * The `PaymentStore` contract (cloud-bridge/lifecycle/payment-store.ts) written once,
 * run against every implementation (LevelDB; PostgreSQL). A harness reopens the same storage, so
 * restarts are part of the contract.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Payment } from '../../../cloud-bridge/lifecycle/machine.js';
import { MAX_APPLY_PAYMENTS, type PaymentStore } from '../../../cloud-bridge/lifecycle/payment-store.js';
import { codeOfAsync } from '../../support/codes.js';
import { eventSignal, paymentAfter, paymentId, pspSignal, T0 } from './support.js';

export interface PaymentStoreHarness {
  /** Opens the harness's storage (the same one every time). */
  open(options?: { updatesKeepPerStore?: number }): Promise<PaymentStore>;
  destroy(): Promise<void>;
}

const A = paymentId('a');
const B = paymentId('b');
const C = paymentId('c');

/** apply() without a cursor that writes the given payments. */
const put = (store: PaymentStore, ...payments: Payment[]) => store.apply({ ids: payments.map((p) => p.id) }, () => payments);

export function describePaymentStoreConformance(name: string, makeHarness: () => Promise<PaymentStoreHarness>): void {
  describe(`payment store conformance (${name})`, () => {
    let harness: PaymentStoreHarness;
    let store: PaymentStore;

    beforeEach(async () => {
      harness = await makeHarness();
      store = await harness.open();
    });
    afterEach(async () => {
      await store.close();
      await harness.destroy();
    });

    it('payment store - an empty store knows nothing and its cursors are at 0', async () => {
      expect(await store.cursor('feed')).toBe(0);
      expect(await store.cursor('inbox')).toBe(0);
      expect(await store.get(A)).toBeUndefined();
      expect(await store.listByStore('s-1', { limit: 10 })).toEqual([]);
      expect(await store.listPending('', 10)).toEqual([]);
      expect(await store.listCapturedBefore(T0 + 1e9, 10)).toEqual([]);
      expect(await store.readUpdates('s-1', 0, 10)).toEqual({ head: 0, updates: [] });
      expect(await store.counters()).toEqual([]);
      expect(await store.recentLatencies(10)).toEqual({ successToCharged: [], successToAuthorised: [] });
    });

    it('payment store - apply writes what decide returns and reports before and after', async () => {
      const a = paymentAfter(A, [eventSignal()]);
      const first = await put(store, a);
      expect(first).toEqual({ kind: 'applied', changes: [{ before: undefined, after: a }] });
      expect(await store.get(A)).toEqual(a);
      const a2 = paymentAfter(A, [eventSignal(), pspSignal('AUTHORISATION', true, T0 + 5_000)]);
      let seen: Payment | undefined;
      const second = await store.apply({ ids: [A] }, (current) => {
        seen = current.get(A);
        return [a2];
      });
      expect(seen).toEqual(a);
      expect(second).toEqual({ kind: 'applied', changes: [{ before: a, after: a2 }] });
    });

    it('payment store - a cursor moves with the payments, and a stretch applied once is stale the second time', async () => {
      const a = paymentAfter(A, [eventSignal()]);
      expect(await store.apply({ ids: [A], cursor: { name: 'feed', from: 0, to: 5 } }, () => [a])).toMatchObject({ kind: 'applied' });
      expect(await store.cursor('feed')).toBe(5);
      expect(await store.cursor('inbox')).toBe(0);
      let called = false;
      const again = await store.apply({ ids: [A], cursor: { name: 'feed', from: 0, to: 5 } }, () => {
        called = true;
        return [paymentAfter(A, [eventSignal({ amount: 1 })])];
      });
      expect(again).toEqual({ kind: 'stale', cursor: 5 });
      expect(called).toBe(false);
      expect(await store.get(A)).toEqual(a);
      // Only the cursor moves when decide changes nothing.
      expect(await store.apply({ ids: [], cursor: { name: 'feed', from: 5, to: 9 } }, () => [])).toEqual({ kind: 'applied', changes: [] });
      expect(await store.cursor('feed')).toBe(9);
    });

    it('payment store - of two racing applies of the same stretch exactly one is applied', async () => {
      const racers = Array.from({ length: 6 }, (_, i) =>
        store.apply({ ids: [A], cursor: { name: 'inbox', from: 0, to: 3 } }, (current) => [
          paymentAfter(A, [eventSignal({ seq: 1 + i }), ...(current.has(A) ? [pspSignal('AUTHORISATION', true, T0 + 1)] : [])]),
        ]),
      );
      const outcomes = await Promise.all(racers);
      expect(outcomes.filter((o) => o.kind === 'applied')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'stale')).toEqual(Array(5).fill({ kind: 'stale', cursor: 3 }));
      expect((await store.get(A))?.state).toBe('captured');
    });

    it('payment store - nothing is written when decide throws or returns a payment it was not asked about', async () => {
      const a = paymentAfter(A, [eventSignal()]);
      await expect(store.apply({ ids: [A], cursor: { name: 'feed', from: 0, to: 1 } }, () => {
        throw new Error('boom');
      })).rejects.toThrow('boom');
      await expect(store.apply({ ids: [A], cursor: { name: 'feed', from: 0, to: 1 } }, () => [a, paymentAfter(B, [eventSignal()])])).rejects.toThrow(TypeError);
      expect(await store.cursor('feed')).toBe(0);
      expect(await store.get(A)).toBeUndefined();
      expect(await store.get(B)).toBeUndefined();
    });

    it('payment store - lists a store\'s payments by state, pending ones, and captured ones due for reconciliation', async () => {
      const ids = [A, B, C].sort();
      await put(
        store,
        paymentAfter(ids[0]!, [eventSignal({ capturedAtMs: T0 + 30 })]),
        paymentAfter(ids[1]!, [eventSignal({ capturedAtMs: T0 + 10 }), pspSignal('AUTHORISATION', true, T0 + 40)]),
        paymentAfter(ids[2]!, [eventSignal({ capturedAtMs: T0 + 20 })]),
      );
      const pending = [paymentId('p1'), paymentId('p2')].sort();
      await put(store, ...pending.map((id) => paymentAfter(id, [pspSignal('AUTHORISATION', true, T0)])));
      await put(store, paymentAfter(paymentId('other-store'), [eventSignal({ store: 's-2', capturedAtMs: T0 + 1_000 })]));

      expect((await store.listByStore('s-1', { limit: 10 })).map((p) => p.id)).toEqual(ids);
      expect((await store.listByStore('s-1', { limit: 1, afterId: ids[0]! })).map((p) => p.id)).toEqual([ids[1]]);
      expect((await store.listByStore('s-1', { state: 'captured', limit: 10 })).map((p) => p.id)).toEqual([ids[0], ids[2]]);
      expect((await store.listByStore('s-1', { state: 'authorised', limit: 10 })).map((p) => p.id)).toEqual([ids[1]]);
      expect((await store.listByStore('s-2', { limit: 10 })).map((p) => p.id)).toEqual([paymentId('other-store')]);
      expect((await store.listPending('', 10)).map((p) => p.id)).toEqual(pending);
      expect((await store.listPending(pending[0]!, 10)).map((p) => p.id)).toEqual([pending[1]]);
      // Oldest capture first, only state `captured`, strictly before the bound.
      expect((await store.listCapturedBefore(T0 + 31, 10)).map((p) => p.id)).toEqual([ids[2], ids[0]]);
      expect((await store.listCapturedBefore(T0 + 30, 10)).map((p) => p.id)).toEqual([ids[2]]);
      expect((await store.listCapturedBefore(T0 + 31, 1)).map((p) => p.id)).toEqual([ids[2]]);
      // A payment that moves on leaves the lists it no longer belongs to.
      await put(store, paymentAfter(ids[2]!, [eventSignal({ capturedAtMs: T0 + 20 }), pspSignal('AUTHORISATION', false, T0 + 50)]));
      expect((await store.listCapturedBefore(T0 + 31, 10)).map((p) => p.id)).toEqual([ids[0]]);
      expect((await store.listByStore('s-1', { state: 'captured', limit: 10 })).map((p) => p.id)).toEqual([ids[0]]);
      await put(store, paymentAfter(pending[0]!, [pspSignal('AUTHORISATION', true, T0), eventSignal({ store: 's-2' })]));
      expect((await store.listPending('', 10)).map((p) => p.id)).toEqual([pending[1]]);
    });

    it('payment store - every change a store must hear of goes on its updates feed, in order', async () => {
      await put(store, paymentAfter(A, [pspSignal('AUTHORISATION', true, T0)])); // pending: no store, no update
      expect(await store.readUpdates('s-1', 0, 10)).toEqual({ head: 0, updates: [] });
      await put(store, paymentAfter(A, [pspSignal('AUTHORISATION', true, T0), eventSignal({ terminal: 't-9', seq: 4 })]));
      await put(store, paymentAfter(B, [eventSignal({ seq: 5 })]));
      await put(store, paymentAfter(B, [eventSignal({ seq: 5 }), pspSignal('AUTHORISATION', false, T0 + 9)]));
      // A refund is recorded on the payment but changes nothing the store is told.
      await put(store, paymentAfter(B, [eventSignal({ seq: 5 }), pspSignal('AUTHORISATION', false, T0 + 9), pspSignal('REFUND', true, T0 + 99, { pspReference: 'R1' })]));
      const { head, updates } = await store.readUpdates('s-1', 0, 10);
      expect(head).toBe(3);
      expect(updates).toEqual([
        { seq: 1, terminal: 't-9', id: A, terminalSeq: 4, state: 'authorised', charged: true, contradicted: false },
        { seq: 2, terminal: 't-1', id: B, terminalSeq: 5, state: 'captured', charged: true, contradicted: false },
        { seq: 3, terminal: 't-1', id: B, terminalSeq: 5, state: 'refused', charged: true, contradicted: true },
      ]);
      expect((await store.readUpdates('s-1', 1, 1)).updates.map((u) => u.seq)).toEqual([2]);
      expect(await store.readUpdates('s-2', 0, 10)).toEqual({ head: 0, updates: [] });
    });

    it('payment store - the updates of one apply follow the order decide returned them in', async () => {
      const [x, y, z] = [paymentId('x'), paymentId('y'), paymentId('z')].sort().reverse();
      await store.apply({ ids: [x!, y!, z!] }, () => [x!, y!, z!].map((id, i) => paymentAfter(id, [eventSignal({ seq: i + 1 })])));
      expect((await store.readUpdates('s-1', 0, 10)).updates.map((u) => u.id)).toEqual([x, y, z]);
    });

    it('payment store - a store keeps at most updatesKeepPerStore update records, the newest', async () => {
      await store.close();
      store = await harness.open({ updatesKeepPerStore: 3 });
      for (let i = 0; i < 5; i++) await put(store, paymentAfter(paymentId(`k${i}`), [eventSignal({ seq: i + 1 })]));
      const { head, updates } = await store.readUpdates('s-1', 0, 10);
      expect(head).toBe(5);
      expect(updates.map((u) => u.seq)).toEqual([3, 4, 5]);
    });

    it('payment store - counters follow every change, per store, with pending ones under ""', async () => {
      await put(store, paymentAfter(A, [eventSignal()]), paymentAfter(B, [eventSignal({ mode: 'offline' })]), paymentAfter(C, [pspSignal('AUTHORISATION', true, T0)]));
      await put(store, paymentAfter(A, [eventSignal(), pspSignal('CANCELLATION', true, T0 + 5)]));
      expect(await store.counters()).toEqual([
        { store: '', byState: { pending: 1 }, charged: 0, optimisticCharged: 0, contradicted: 0 },
        { store: 's-1', byState: { cancelled: 1, captured: 1 }, charged: 1, optimisticCharged: 1, contradicted: 1 },
      ]);
      await put(store, paymentAfter(C, [pspSignal('AUTHORISATION', true, T0), eventSignal({ store: 's-2' })]));
      expect(await store.counters()).toEqual([
        { store: '', byState: {}, charged: 0, optimisticCharged: 0, contradicted: 0 },
        { store: 's-1', byState: { cancelled: 1, captured: 1 }, charged: 1, optimisticCharged: 1, contradicted: 1 },
        { store: 's-2', byState: { authorised: 1 }, charged: 1, optimisticCharged: 0, contradicted: 0 },
      ]);
    });

    it('payment store - latency samples: success to charged and to authorised, newest first, skew clamped and said', async () => {
      const at = new Date(T0 - 4_000).toISOString();
      await put(store, paymentAfter(A, [eventSignal({ at, capturedAtMs: T0 }), pspSignal('AUTHORISATION', true, T0 + 60_000)]));
      // The terminal's clock ran 30 s ahead of the cloud: its `at` is clamped to the capture time.
      await put(store, paymentAfter(B, [eventSignal({ at: new Date(T0 + 40_000).toISOString(), capturedAtMs: T0 + 10_000 })]));
      const { successToCharged, successToAuthorised } = await store.recentLatencies(10);
      expect(successToCharged).toEqual([
        { id: B, store: 's-1', seconds: 0, clamped: true, chargedBy: 'optimistic' },
        { id: A, store: 's-1', seconds: 4, clamped: false, chargedBy: 'optimistic' },
      ]);
      expect(successToAuthorised).toEqual([{ id: A, store: 's-1', seconds: 64, clamped: false }]);
      expect((await store.recentLatencies(1)).successToCharged.map((s) => s.id)).toEqual([B]);
    });

    it('payment store - payments, cursors, counters and updates survive a reopen', async () => {
      const a = paymentAfter(A, [eventSignal(), pspSignal('AUTHORISATION', true, T0 + 1)]);
      await store.apply({ ids: [A], cursor: { name: 'inbox', from: 0, to: 7 } }, () => [a]);
      const before = { counters: await store.counters(), updates: await store.readUpdates('s-1', 0, 10), lat: await store.recentLatencies(5) };
      await store.close();
      store = await harness.open();
      expect(await store.get(A)).toEqual(a);
      expect(await store.cursor('inbox')).toBe(7);
      expect({ counters: await store.counters(), updates: await store.readUpdates('s-1', 0, 10), lat: await store.recentLatencies(5) }).toEqual(before);
      await put(store, paymentAfter(B, [eventSignal()]));
      expect((await store.readUpdates('s-1', 0, 10)).head).toBe(2);
    });

    it('payment store - programmer mistakes are TypeErrors', async () => {
      expect(() => store.apply({ ids: Array.from({ length: MAX_APPLY_PAYMENTS + 1 }, (_, i) => paymentId(i)) }, () => [])).toThrow(TypeError);
      expect(() => store.apply({ ids: [], cursor: { name: 'feed', from: 3, to: 3 } }, () => [])).toThrow(TypeError);
      expect(() => store.get('not-a-uuid')).toThrow(TypeError);
      expect(() => store.listByStore('s-1', { limit: 0 })).toThrow(TypeError);
    });

    it('payment store - on a closed store every call fails with LIFECYCLE_CLOSED', async () => {
      await store.close();
      expect(store.state).toBe('closed');
      for (const call of [
        () => store.cursor('feed'),
        () => store.get(A),
        () => put(store, paymentAfter(A, [eventSignal()])),
        () => store.listByStore('s-1', { limit: 1 }),
        () => store.listPending('', 1),
        () => store.listCapturedBefore(T0, 1),
        () => store.readUpdates('s-1', 0, 1),
        () => store.counters(),
        () => store.recentLatencies(1),
      ]) {
        expect(await codeOfAsync(call())).toBe('LIFECYCLE_CLOSED');
      }
    });
  });
}
