/**
 * The payment state machine of DESIGN §3.6 as a pure function, in the shape of the house example
 * `gateway/forwarder/settle.ts`: `step(payment, signal, config) → payment`, no I/O, no clock. Thin
 * adapters turn ledger-feed entries, PSP notifications and reconciliation answers into signals.
 *
 * The state is order-free and forward-only: a signal is folded in as a *fact* (the terminal's
 * event, one PSP notification keyed by `(pspReference, eventCode, success)`, one reconciliation
 * verdict), facts are deduplicated and kept in a canonical order, and the state is the highest
 * rank any fact reaches (`pending` < `captured` < `authorised` < `refused` < `cancelled` <
 * `inconsistent`) — a function of the set of facts alone, so every order and every duplication of
 * the same signals ends in the same state, and it never moves back. Times are the signals' own
 * (when the ledger or the webhook inbox made them durable), never the time they are applied.
 *
 * The charge is an act, not a derivation: it happens once, when the first success signal is
 * applied, and is never taken back. With optimistic charging on, an online payment is charged the
 * moment its terminal event is applied while nothing else is known of it (state `captured`);
 * otherwise, and always for offline payments, the moment it becomes `authorised` with its event
 * known. A payment the PSP has already refused or cancelled is never charged optimistically. An
 * optimistic charge whose payment then reaches `refused`, `cancelled` or `inconsistent` is
 * `contradicted` — and since those are the highest ranks, a contradiction is never withdrawn.
 *
 * The one rule that needs order: a CANCEL_OR_REFUND that does not say whether it cancelled or
 * refunded (`additionalData["modification.action"]`) is a cancellation when no authorisation was
 * received before it, else a refund. It is decided by receipt times; it could only look like a
 * step back if an authorisation were applied after a later CANCEL_OR_REFUND, which the webhook
 * inbox never does (it applies notifications in the order it received them).
 */
import { CONTRADICTING_STATES, type ChargedBy, type KnownPaymentState } from '../../protocol/payments.js';

export type PaymentState = KnownPaymentState;

/** Forward order of the states (DESIGN §3.6: states move forward only). */
export const STATE_RANK: Readonly<Record<PaymentState, number>> = Object.freeze({
  pending: 0,
  captured: 1,
  authorised: 2,
  refused: 3,
  cancelled: 4,
  inconsistent: 5,
});

/** PSP notifications folded into one payment; more is not a real payment (counted, kept in the inbox). */
export const MAX_PSP_FACTS = 32;
/** History entries kept per payment: a payment changes state a handful of times. */
export const MAX_HISTORY_ENTRIES = 32;

/** The terminal's event, from the ledger feed: the first success signal. */
export interface EventFact {
  readonly store: string;
  readonly terminal: string;
  readonly seq: number;
  readonly amount: number;
  readonly currency: string;
  /** `online`, `offline` or a newer mode (an open set: only `online` is charged optimistically). */
  readonly mode: string;
  /** The terminal's time of success (RFC 3339, the terminal's clock). */
  readonly at: string;
  /** When the cloud's ledger made the event durable (ms since the epoch). */
  readonly capturedAtMs: number;
  /** Feed position (the ledger's global order). */
  readonly position: number;
}

/** What one PSP notification means for the payment. */
export type PspEffect = 'authorised' | 'refused' | 'cancelled' | 'refund' | 'none';

export interface PspFact {
  /** `pspReference|eventCode|success`: the dedup key of DESIGN §3.6. */
  readonly key: string;
  readonly pspReference: string;
  readonly originalReference: string | null;
  /** Adyen's event code, any value (an open set: unknown codes have effect `none`). */
  readonly eventCode: string;
  readonly success: boolean;
  readonly amount: number;
  readonly currency: string;
  /** CANCEL_OR_REFUND only: what the PSP says it did, when it says it. */
  readonly action: 'cancel' | 'refund' | null;
  /** When the webhook inbox made it durable (ms since the epoch). */
  readonly receivedAtMs: number;
}

/** What the reconciliation job concluded from the PSP's status API. */
export type ReconcileVerdict = 'authorised' | 'refused' | 'cancelled' | 'inconsistent';

export interface ReconcileFact {
  readonly verdict: ReconcileVerdict;
  /** The status the PSP answered (an open set), or `unknown` for a 404. */
  readonly status: string;
  readonly atMs: number;
}

export type Signal =
  | { readonly kind: 'event'; readonly fact: EventFact }
  | { readonly kind: 'psp'; readonly fact: PspFact }
  | { readonly kind: 'reconcile'; readonly fact: ReconcileFact };

export interface HistoryEntry {
  readonly atMs: number;
  readonly state: PaymentState;
  /** `terminal`, `psp:<EVENT_CODE>` or `reconciliation`. */
  readonly source: string;
}

export interface Refund {
  readonly pspReference: string;
  readonly amount: number;
  readonly currency: string;
  readonly atMs: number;
}

export interface Payment {
  readonly id: string;
  readonly event: EventFact | null;
  /** Sorted by key; at most MAX_PSP_FACTS. */
  readonly psp: readonly PspFact[];
  /** One per verdict (the earliest), sorted by verdict. */
  readonly reconciliations: readonly ReconcileFact[];
  /** PSP facts that did not fit (MAX_PSP_FACTS): an alarm, never silently. */
  readonly overflow: number;
  /**
   * Other terminal events that claimed this id (the first one applied is kept). The ledger refuses
   * a reused event id (DUPLICATE_ID), so this stays 0 unless that check is missing somewhere.
   */
  readonly eventConflicts: number;
  // Derived from the facts above (derive()): the same for every order of the same facts.
  readonly state: PaymentState;
  readonly authorisedAtMs: number | null;
  readonly refunds: readonly Refund[];
  // The charge: decided once, when it happens, and kept (see the file comment).
  readonly charged: boolean;
  readonly chargedBy: ChargedBy | null;
  readonly chargedAtMs: number | null;
  readonly contradicted: boolean;
  /** Applied order of state changes (the record of what happened when). */
  readonly history: readonly HistoryEntry[];
}

export interface MachineConfig {
  /** DESIGN §3.6: online payments are charged on their first success signal. */
  readonly optimisticCharge: boolean;
}

/** A payment nothing is known about yet. */
export function emptyPayment(id: string): Payment {
  return {
    id, event: null, psp: [], reconciliations: [], overflow: 0, eventConflicts: 0,
    state: 'pending', authorisedAtMs: null, refunds: [], charged: false, chargedBy: null, chargedAtMs: null, contradicted: false, history: [],
  };
}

/** Folds one signal into the payment. Pure; returns the same object when nothing changed. */
export function step(payment: Payment, signal: Signal, config: MachineConfig): Payment {
  const facts = addFact(payment, signal);
  if (facts === null) return payment;
  const derived = derive(facts);
  const charge = payment.chargedBy !== null
    ? { chargedBy: payment.chargedBy, chargedAtMs: payment.chargedAtMs }
    : chargeOf(facts.event, derived, config);
  const contradicted = charge.chargedBy === 'optimistic' && (CONTRADICTING_STATES as readonly string[]).includes(derived.state);
  const history = derived.state !== payment.state || payment.history.length === 0
    ? appendHistory(payment.history, { atMs: timeOf(signal), state: derived.state, source: sourceOf(signal) })
    : payment.history;
  return { id: payment.id, ...facts, ...derived, charged: charge.chargedBy !== null, ...charge, contradicted, history };
}

type Facts = Pick<Payment, 'event' | 'psp' | 'reconciliations' | 'overflow' | 'eventConflicts'>;
type Derived = Pick<Payment, 'state' | 'authorisedAtMs' | 'refunds'>;

/**
 * DESIGN §3.6 charging, for a payment not charged yet, given the state after this signal.
 * Optimistic: flag on, online, and nothing but the terminal's event known (state `captured`).
 * Offline payments carry the merchant's decline risk and are charged only at authorisation.
 */
function chargeOf(event: EventFact | null, d: Derived, config: MachineConfig): Pick<Payment, 'chargedBy' | 'chargedAtMs'> {
  if (event === null) return { chargedBy: null, chargedAtMs: null };
  if (d.state === 'captured' && config.optimisticCharge && event.mode === 'online') return { chargedBy: 'optimistic', chargedAtMs: event.capturedAtMs };
  if (d.state === 'authorised' && d.authorisedAtMs !== null) return { chargedBy: 'authorisation', chargedAtMs: Math.max(event.capturedAtMs, d.authorisedAtMs) };
  return { chargedBy: null, chargedAtMs: null };
}

/** The facts with the signal's fact added, or null when it adds nothing (a duplicate). */
function addFact(p: Payment, signal: Signal): Facts | null {
  const base: Facts = { event: p.event, psp: p.psp, reconciliations: p.reconciliations, overflow: p.overflow, eventConflicts: p.eventConflicts };
  switch (signal.kind) {
    case 'event': {
      const f = signal.fact;
      if (p.event === null) return { ...base, event: f };
      // The same ledger entry again changes nothing; another event under this id is counted.
      return sameEvent(p.event, f) ? null : { ...base, eventConflicts: p.eventConflicts + 1 };
    }
    case 'psp': {
      const f = signal.fact;
      const i = p.psp.findIndex((x) => x.key === f.key);
      if (i >= 0) {
        // The same notification again: keep the earliest receipt (min is order-free).
        if ((p.psp[i] as PspFact).receivedAtMs <= f.receivedAtMs) return null;
        return { ...base, psp: p.psp.map((x, j) => (j === i ? f : x)) };
      }
      if (p.psp.length >= MAX_PSP_FACTS) return { ...base, overflow: p.overflow + 1 };
      return { ...base, psp: [...p.psp, f].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
    }
    case 'reconcile': {
      const f = signal.fact;
      const same = p.reconciliations.find((x) => x.verdict === f.verdict);
      if (same !== undefined && same.atMs <= f.atMs) return null;
      const rest = p.reconciliations.filter((x) => x.verdict !== f.verdict);
      return { ...base, reconciliations: [...rest, f].sort((a, b) => (a.verdict < b.verdict ? -1 : 1)) };
    }
  }
}

/** The state, authorisation time and refunds, from the facts alone. */
export function derive(facts: Facts): Derived {
  const authTimes: number[] = [];
  let rank = STATE_RANK.captured;
  const refunds: Refund[] = [];
  for (const f of facts.psp) {
    const effect = pspEffect(f, facts.psp);
    if (effect === 'authorised') authTimes.push(f.receivedAtMs);
    if (effect === 'refund') refunds.push({ pspReference: f.pspReference, amount: f.amount, currency: f.currency, atMs: f.receivedAtMs });
    if (effect === 'authorised' || effect === 'refused' || effect === 'cancelled') rank = Math.max(rank, STATE_RANK[effect]);
  }
  for (const r of facts.reconciliations) {
    if (r.verdict === 'authorised') authTimes.push(r.atMs);
    rank = Math.max(rank, STATE_RANK[r.verdict]);
  }
  const authorisedAtMs = authTimes.length === 0 ? null : Math.min(...authTimes);
  const state: PaymentState = facts.event === null ? 'pending' : stateOfRank(rank);
  refunds.sort((a, b) => (a.pspReference < b.pspReference ? -1 : a.pspReference > b.pspReference ? 1 : 0));
  return { state, authorisedAtMs, refunds };
}

function sameEvent(a: EventFact, b: EventFact): boolean {
  return a.position === b.position && a.store === b.store && a.terminal === b.terminal && a.seq === b.seq;
}

/** DESIGN §3.6: what one notification does. Unsuccessful modifications change nothing. */
export function pspEffect(f: PspFact, all: readonly PspFact[]): PspEffect {
  switch (f.eventCode) {
    case 'AUTHORISATION':
      return f.success ? 'authorised' : 'refused';
    case 'CANCELLATION':
      return f.success ? 'cancelled' : 'none';
    case 'REFUND':
      return f.success ? 'refund' : 'none';
    case 'CANCEL_OR_REFUND': {
      if (!f.success) return 'none';
      if (f.action !== null) return f.action === 'cancel' ? 'cancelled' : 'refund';
      // Without the PSP's word: a cancellation before authorisation, a refund after it.
      const authorisedBefore = all.some((a) => a.eventCode === 'AUTHORISATION' && a.success && a.receivedAtMs < f.receivedAtMs);
      return authorisedBefore ? 'refund' : 'cancelled';
    }
    default:
      // CAPTURE and any code this version does not know: stored, no effect on the state.
      return 'none';
  }
}

function stateOfRank(rank: number): PaymentState {
  const found = (Object.entries(STATE_RANK) as [PaymentState, number][]).find(([, r]) => r === rank);
  if (found === undefined) throw new TypeError(`no state of rank ${rank}`);
  return found[0];
}

function timeOf(signal: Signal): number {
  switch (signal.kind) {
    case 'event':
      return signal.fact.capturedAtMs;
    case 'psp':
      return signal.fact.receivedAtMs;
    case 'reconcile':
      return signal.fact.atMs;
  }
}

function sourceOf(signal: Signal): string {
  switch (signal.kind) {
    case 'event':
      return 'terminal';
    case 'psp':
      return `psp:${signal.fact.eventCode}`;
    case 'reconcile':
      return 'reconciliation';
  }
}

function appendHistory(history: readonly HistoryEntry[], entry: HistoryEntry): readonly HistoryEntry[] {
  const next = [...history, entry];
  // Keep the first entry (how it began) and the most recent ones.
  return next.length <= MAX_HISTORY_ENTRIES ? next : [next[0] as HistoryEntry, ...next.slice(next.length - MAX_HISTORY_ENTRIES + 1)];
}

/** The success moment for latency figures: the terminal's `at`, never later than capture (skew). */
export function successAtMs(event: Pick<EventFact, 'at' | 'capturedAtMs'>): { atMs: number; clamped: boolean } {
  const at = Date.parse(event.at);
  if (Number.isNaN(at) || at > event.capturedAtMs) return { atMs: event.capturedAtMs, clamped: true };
  return { atMs: at, clamped: false };
}
