/**
 * The payment state machine (DESIGN §3.6) by properties: the same set of signals ends in the same
 * state whatever the order and however often each arrives; no state moves back; a charge is decided
 * once and never un-charges; `contradicted` is set exactly when an optimistic charge is followed by
 * refused, cancelled or inconsistent, and never withdrawn; applied in the order the cloud received
 * them, the charge is the one the signals' own times call for. Plus the cases §3.6 names, one by one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  derive,
  emptyPayment,
  MAX_PSP_FACTS,
  STATE_RANK,
  step,
  type EventFact,
  type MachineConfig,
  type Payment,
  type PspFact,
  type ReconcileFact,
  type Signal,
} from '../../../cloud-bridge/lifecycle/machine.js';

const ID = '0190b3a0-0000-7000-8000-000000000001';
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const ON: MachineConfig = { optimisticCharge: true };
const OFF: MachineConfig = { optimisticCharge: false };

function eventFact(over: Partial<EventFact> = {}): EventFact {
  return { store: 's-1', terminal: 't-1', seq: 7, amount: 1250, currency: 'EUR', mode: 'online', at: new Date(T0 - 2_000).toISOString(), capturedAtMs: T0, position: 1, ...over };
}
function psp(eventCode: string, success: boolean, receivedAtMs: number, over: Partial<PspFact> = {}): PspFact {
  const pspReference = over.pspReference ?? 'PSP0001';
  return { key: `${pspReference}|${eventCode}|${success}`, pspReference, originalReference: null, eventCode, success, amount: 1250, currency: 'EUR', action: null, receivedAtMs, ...over };
}
const ev = (over: Partial<EventFact> = {}): Signal => ({ kind: 'event', fact: eventFact(over) });
const note = (eventCode: string, success: boolean, atMs: number, over: Partial<PspFact> = {}): Signal => ({ kind: 'psp', fact: psp(eventCode, success, atMs, over) });
const rec = (verdict: ReconcileFact['verdict'], atMs: number): Signal => ({ kind: 'reconcile', fact: { verdict, status: verdict === 'inconsistent' ? 'unknown' : verdict, atMs } });

const run = (signals: readonly Signal[], config: MachineConfig): Payment[] => {
  const trail: Payment[] = [];
  let p = emptyPayment(ID);
  for (const s of signals) {
    p = step(p, s, config);
    trail.push(p);
  }
  return trail;
};
const final = (signals: readonly Signal[], config: MachineConfig): Payment => run(signals, config).at(-1) ?? emptyPayment(ID);
const withoutHistory = ({ history: _h, ...rest }: Payment) => rest;
/** What is a function of the set of signals: everything but the charge (an act) and the history. */
const setDetermined = ({ history: _h, charged: _c, chargedBy: _b, chargedAtMs: _a, contradicted: _x, ...rest }: Payment) => rest;
const timeOf = (s: Signal) => (s.kind === 'event' ? s.fact.capturedAtMs : s.kind === 'psp' ? s.fact.receivedAtMs : s.fact.atMs);

// ---- generators ------------------------------------------------------------------------------

const timeArb = fc.integer({ min: 0, max: 3_600_000 }).map((d) => T0 + d);
const eventArb = fc.record({ mode: fc.constantFrom('online', 'online', 'offline', 'future-mode'), capturedAtMs: timeArb, position: fc.integer({ min: 1, max: 5 }) })
  .map((o): Signal => ev(o));
/**
 * A notification. Its content follows from its dedup key `(pspReference, eventCode, success)`, as
 * with a real PSP: a resend of the same notification differs only in when it was received.
 */
const ACTIONS: Record<string, 'cancel' | 'refund' | null> = { PSPA: 'cancel', PSPB: 'refund', PSPC: null };
const pspArb = (withAction: boolean) =>
  fc.record({
    eventCode: fc.constantFrom('AUTHORISATION', 'AUTHORISATION', 'CANCELLATION', 'CANCEL_OR_REFUND', 'REFUND', 'CAPTURE', 'SOMETHING_NEW'),
    success: fc.boolean(),
    ref: withAction ? fc.constantFrom('PSPA', 'PSPB') : fc.constantFrom('PSPA', 'PSPB', 'PSPC'),
    at: timeArb,
  }).map((o): Signal => note(o.eventCode, o.success, o.at, { pspReference: o.ref, action: o.eventCode === 'CANCEL_OR_REFUND' ? (ACTIONS[o.ref] ?? null) : null }));
const reconcileArb = fc.record({ verdict: fc.constantFrom<ReconcileFact['verdict']>('authorised', 'refused', 'cancelled', 'inconsistent'), at: timeArb })
  .map((o): Signal => rec(o.verdict, o.at));

/**
 * A set of signals for one payment: its terminal event or not (one: the ledger refuses a reused
 * event id), PSP notifications, reconciliation verdicts.
 */
const signalSetArb = (withAction: boolean) =>
  fc.tuple(fc.option(eventArb, { nil: undefined }), fc.array(pspArb(withAction), { maxLength: 7 }), fc.array(reconcileArb, { maxLength: 2 }))
    .map(([e, p, r]) => [...(e === undefined ? [] : [e]), ...p, ...r]);

/** The set, some of it duplicated, in any order. */
const deliveryOf = (set: Signal[]) =>
  fc.array(fc.boolean(), { minLength: set.length, maxLength: set.length })
    .chain((dup) => {
      const items = [...set, ...set.filter((_, i) => dup[i])];
      return fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length });
    });

/**
 * Deliveries as the cloud makes them: the webhook inbox applies notifications in the order it
 * received them (receipt time); the terminal's event and reconciliation verdicts land anywhere.
 */
const inboxOrderedDeliveryOf = (set: Signal[]) =>
  deliveryOf(set).map((order) => {
    const notes = order.filter((s) => s.kind === 'psp').sort((a, b) => timeOf(a) - timeOf(b));
    let i = 0;
    return order.map((s) => (s.kind === 'psp' ? (notes[i++] as Signal) : s));
  });

const configArb = fc.constantFrom(ON, OFF);
/** Runs per property; `TILLGATE_PROPERTY_RUNS=20000` for a soak. */
const NUM_RUNS = Number(process.env.TILLGATE_PROPERTY_RUNS ?? 400);

// ---- properties --------------------------------------------------------------------------------

describe('payment state machine - properties', () => {
  it('machine - every order and every duplication of the same signals ends in the same state', () => {
    fc.assert(
      fc.property(configArb, signalSetArb(false).chain((set) => fc.tuple(fc.constant(set), deliveryOf(set), deliveryOf(set))), (config, [set, a, b]) => {
        const reference = setDetermined(final([...set].sort((x, y) => timeOf(x) - timeOf(y)), config));
        expect(setDetermined(final(a, config))).toEqual(reference);
        expect(setDetermined(final(b, config))).toEqual(reference);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('machine - no state moves back and a contradiction is never withdrawn, in the order the inbox applies notifications', () => {
    fc.assert(
      fc.property(configArb, signalSetArb(false).chain(inboxOrderedDeliveryOf), (config, order) => {
        let before = emptyPayment(ID);
        for (const after of run(order, config)) {
          expect(STATE_RANK[after.state]).toBeGreaterThanOrEqual(STATE_RANK[before.state]);
          if (before.contradicted) expect(after.contradicted).toBe(true);
          before = after;
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('machine - in any order at all a charge, once made, never changes; with the PSP saying what it did no state moves back', () => {
    fc.assert(
      fc.property(configArb, signalSetArb(true).chain(deliveryOf), (config, order) => {
        let before = emptyPayment(ID);
        for (const after of run(order, config)) {
          expect(STATE_RANK[after.state]).toBeGreaterThanOrEqual(STATE_RANK[before.state]);
          if (before.charged) {
            expect(after.charged).toBe(true);
            expect([after.chargedBy, after.chargedAtMs]).toEqual([before.chargedBy, before.chargedAtMs]);
          }
          before = after;
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('machine - contradicted is set exactly when an optimistic charge meets refused, cancelled or inconsistent', () => {
    fc.assert(
      fc.property(configArb, signalSetArb(false).chain(deliveryOf), (config, order) => {
        let before = emptyPayment(ID);
        for (const p of run(order, config)) {
          expect(p.contradicted).toBe(p.chargedBy === 'optimistic' && ['refused', 'cancelled', 'inconsistent'].includes(p.state));
          expect(p.charged).toBe(p.chargedBy !== null);
          if (p.chargedBy === 'optimistic' && before.chargedBy === null) {
            // Optimism acts on the first success signal only: flag on, online, nothing else known.
            expect(config.optimisticCharge).toBe(true);
            expect(p.event?.mode).toBe('online');
            expect(p.state).toBe('captured');
            expect(p.chargedAtMs).toBe(p.event!.capturedAtMs);
          }
          if (p.chargedBy === 'authorisation') expect(['authorised', ...(before.charged ? ['refused', 'cancelled', 'inconsistent'] : [])]).toContain(p.state);
          if (p.event === null) expect([p.state, p.charged]).toEqual(['pending', false]);
          if (p.chargedAtMs !== null) expect(p.chargedAtMs).toBeGreaterThanOrEqual(p.event!.capturedAtMs);
          before = p;
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('machine - applied in the order the cloud received the signals, the charge is the one their times call for', () => {
    // Distinct times, so "the order received" is one order.
    const distinct = signalSetArb(false).filter((set) => new Set(set.map(timeOf)).size === set.length);
    fc.assert(
      fc.property(configArb, distinct, (config, set) => {
        const sorted = [...set].sort((x, y) => timeOf(x) - timeOf(y));
        const p = final(sorted, config);
        const event = set.find((s): s is Extract<Signal, { kind: 'event' }> => s.kind === 'event')?.fact;
        if (event === undefined) {
          expect(p.charged).toBe(false);
          return;
        }
        // The state the cloud knew when the event arrived, from the signals received before it.
        const known = derive({
          event, overflow: 0, eventConflicts: 0,
          psp: set.flatMap((s) => (s.kind === 'psp' && s.fact.receivedAtMs < event.capturedAtMs ? [s.fact] : [])).sort((a, b) => (a.key < b.key ? -1 : 1)),
          reconciliations: set.flatMap((s) => (s.kind === 'reconcile' && s.fact.atMs < event.capturedAtMs ? [s.fact] : [])),
        });
        const optimistic = config.optimisticCharge && event.mode === 'online' && known.state === 'captured';
        expect(p.chargedBy === 'optimistic').toBe(optimistic);
        if (!optimistic && p.charged) expect(p.chargedBy).toBe('authorisation');
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

// ---- the cases of DESIGN §3.6 -----------------------------------------------------------------

describe('payment state machine - DESIGN §3.6 cases', () => {
  it('machine - event then authorisation: captured, then authorised; optimism charges at capture', () => {
    const [captured, authorised] = run([ev(), note('AUTHORISATION', true, T0 + 5_000)], ON);
    expect(captured).toMatchObject({ state: 'captured', charged: true, chargedBy: 'optimistic', chargedAtMs: T0, contradicted: false });
    expect(authorised).toMatchObject({ state: 'authorised', charged: true, chargedBy: 'optimistic', chargedAtMs: T0, authorisedAtMs: T0 + 5_000 });
    expect(authorised!.history.map((h) => [h.state, h.source])).toEqual([['captured', 'terminal'], ['authorised', 'psp:AUTHORISATION']]);
  });

  it('machine - without optimism the charge waits for the authorisation', () => {
    const [captured, authorised] = run([ev(), note('AUTHORISATION', true, T0 + 5_000)], OFF);
    expect(captured).toMatchObject({ state: 'captured', charged: false, chargedBy: null });
    expect(authorised).toMatchObject({ state: 'authorised', charged: true, chargedBy: 'authorisation', chargedAtMs: T0 + 5_000 });
  });

  it('machine - offline-mode payments are charged only at authorisation, even with optimism on', () => {
    const [captured, authorised] = run([ev({ mode: 'offline' }), note('AUTHORISATION', true, T0 + 5_000)], ON);
    expect(captured).toMatchObject({ state: 'captured', charged: false });
    expect(authorised).toMatchObject({ charged: true, chargedBy: 'authorisation' });
  });

  it('machine - a notification before the event is pending, and joined when the event arrives', () => {
    const [pending, joined] = run([note('AUTHORISATION', true, T0 - 60_000), ev()], ON);
    expect(pending).toMatchObject({ state: 'pending', charged: false, event: null });
    expect(joined).toMatchObject({ state: 'authorised', charged: true, chargedBy: 'authorisation', chargedAtMs: T0 });
    expect(joined!.history.map((h) => h.state)).toEqual(['pending', 'authorised']);
  });

  it('machine - a refusal after an optimistic charge contradicts it; the charge stays', () => {
    const p = final([ev(), note('AUTHORISATION', false, T0 + 5_000)], ON);
    expect(p).toMatchObject({ state: 'refused', charged: true, chargedBy: 'optimistic', contradicted: true });
    expect(final([ev(), note('AUTHORISATION', false, T0 + 5_000)], OFF)).toMatchObject({ state: 'refused', charged: false, contradicted: false });
  });

  it('machine - a payment the PSP refused before its event arrived is never charged optimistically', () => {
    const p = final([note('AUTHORISATION', false, T0 - 60_000), ev()], ON);
    expect(p).toMatchObject({ state: 'refused', charged: false, chargedBy: null, contradicted: false });
  });

  it('machine - a second terminal event under the same id is counted, not applied', () => {
    const first = final([ev()], ON);
    const again = step(first, ev(), ON);
    expect(again).toBe(first);
    const other = step(first, ev({ terminal: 't-2', seq: 1, position: 9, amount: 99 }), ON);
    expect(other).toMatchObject({ eventConflicts: 1, event: first.event, state: 'captured' });
  });

  it('machine - cancellation after authorisation cancels; contradicts an optimistic charge only', () => {
    const signals = [ev(), note('AUTHORISATION', true, T0 + 1_000), note('CANCELLATION', true, T0 + 9_000, { pspReference: 'PSP0002' })];
    expect(final(signals, ON)).toMatchObject({ state: 'cancelled', chargedBy: 'optimistic', contradicted: true });
    expect(final(signals, OFF)).toMatchObject({ state: 'cancelled', chargedBy: 'authorisation', contradicted: false });
    // An unsuccessful cancellation changes nothing.
    expect(final([ev(), note('CANCELLATION', false, T0 + 9_000)], ON)).toMatchObject({ state: 'captured' });
  });

  it('machine - CANCEL_OR_REFUND before authorisation cancels, after it is a refund that keeps the state', () => {
    expect(final([ev(), note('CANCEL_OR_REFUND', true, T0 + 1_000, { pspReference: 'M1' })], OFF)).toMatchObject({ state: 'cancelled', refunds: [] });
    const refunded = final([ev(), note('AUTHORISATION', true, T0 + 1_000), note('CANCEL_OR_REFUND', true, T0 + 9_000, { pspReference: 'M2' })], OFF);
    expect(refunded).toMatchObject({ state: 'authorised', refunds: [{ pspReference: 'M2', amount: 1250, currency: 'EUR', atMs: T0 + 9_000 }] });
    // When the PSP says what it did, that decides.
    expect(final([ev(), note('AUTHORISATION', true, T0 + 1_000), note('CANCEL_OR_REFUND', true, T0 + 9_000, { pspReference: 'M3', action: 'cancel' })], OFF))
      .toMatchObject({ state: 'cancelled' });
  });

  it('machine - a refund is recorded without moving the state', () => {
    const p = final([ev(), note('AUTHORISATION', true, T0 + 1_000), note('REFUND', true, T0 + 60_000, { pspReference: 'R1', amount: 500 })], ON);
    expect(p).toMatchObject({ state: 'authorised', contradicted: false, refunds: [{ pspReference: 'R1', amount: 500 }] });
  });

  it('machine - reconciliation without a confirmation marks the payment inconsistent and contradicts optimism', () => {
    const p = final([ev(), rec('inconsistent', T0 + 1_200_000)], ON);
    expect(p).toMatchObject({ state: 'inconsistent', charged: true, contradicted: true });
    expect(p.history.at(-1)).toEqual({ atMs: T0 + 1_200_000, state: 'inconsistent', source: 'reconciliation' });
    // A PSP that confirms through its status API authorises the payment.
    expect(final([ev(), rec('authorised', T0 + 1_200_000)], OFF)).toMatchObject({ state: 'authorised', chargedBy: 'authorisation', authorisedAtMs: T0 + 1_200_000 });
  });

  it('machine - duplicates change nothing and unknown event codes are kept without effect', () => {
    const once = final([ev(), note('AUTHORISATION', true, T0 + 1_000)], ON);
    const again = step(once, note('AUTHORISATION', true, T0 + 1_000), ON);
    expect(again).toBe(once);
    const unknown = step(once, note('SOMETHING_NEW', true, T0 + 2_000), ON);
    expect(withoutHistory(unknown)).toMatchObject({ state: 'authorised' });
    expect(unknown.psp.map((f) => f.eventCode)).toEqual(['AUTHORISATION', 'SOMETHING_NEW']);
  });

  it('machine - at most MAX_PSP_FACTS notifications are folded in; the rest are counted', () => {
    let p = final([ev()], ON);
    for (let i = 0; i < MAX_PSP_FACTS + 3; i++) p = step(p, note('CAPTURE', true, T0 + i, { pspReference: `C${String(i).padStart(3, '0')}` }), ON);
    expect(p.psp).toHaveLength(MAX_PSP_FACTS);
    expect(p.overflow).toBe(3);
  });
});
