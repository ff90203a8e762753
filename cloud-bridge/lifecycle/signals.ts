/**
 * The thin adapters in front of the state machine: a ledger-feed entry, a webhook-inbox entry or a
 * PSP status answer becomes a signal for one payment id — or nothing, when it is not about a
 * payment (DESIGN §3.6: a payment is a terminal event of type `payment` with outcome `approved`).
 */
import { UUID_PATTERN } from '../../protocol/ids.js';
import type { FeedEntry } from '../feed.js';
import type { ReconcileVerdict, Signal } from './machine.js';
import type { InboxEntry } from './webhook-inbox.js';

export interface PaymentSignal {
  readonly id: string;
  readonly signal: Signal;
}

/** Payment ids are event ids (UUIDs); the PSP echoes them as merchantReference, maybe upper-cased. */
export function paymentIdOf(reference: string): string | null {
  return UUID_PATTERN.test(reference) ? reference.toLowerCase() : null;
}

/** The terminal's event, when it is a payment: the first success signal. */
export function signalOfFeedEntry(entry: FeedEntry): PaymentSignal | null {
  const e = entry.event;
  if (e.type !== 'payment' || e.outcome !== 'approved') return null;
  const id = paymentIdOf(e.id);
  const capturedAtMs = Date.parse(entry.receivedAt);
  if (id === null || Number.isNaN(capturedAtMs)) return null;
  return {
    id,
    signal: {
      kind: 'event',
      fact: { store: entry.store, terminal: entry.terminal, seq: entry.seq, amount: e.amount, currency: e.currency, mode: e.mode, at: e.at, capturedAtMs, position: entry.position },
    },
  };
}

/** A stored PSP notification; null when its merchantReference is not one of our event ids. */
export function signalOfInboxEntry(entry: InboxEntry): PaymentSignal | null {
  const item = entry.item;
  const id = paymentIdOf(item.merchantReference);
  if (id === null) return null;
  const action = item.additionalData?.['modification.action']?.toLowerCase();
  return {
    id,
    signal: {
      kind: 'psp',
      fact: {
        key: entry.key,
        pspReference: item.pspReference,
        originalReference: item.originalReference ?? null,
        eventCode: item.eventCode,
        success: item.success === 'true',
        amount: item.amount.value,
        currency: item.amount.currency,
        action: action === 'cancel' || action === 'refund' ? action : null,
        receivedAtMs: entry.receivedAtMs,
      },
    },
  };
}

/**
 * What a status answer means (DESIGN §3.6): the PSP confirms (`authorised`), or says it refused or
 * cancelled; anything else — unknown (404), still pending after the wait, a status this version does
 * not know — does not confirm the payment: `inconsistent`.
 */
export function verdictOfStatus(status: string): ReconcileVerdict {
  return status === 'authorised' || status === 'refused' || status === 'cancelled' ? status : 'inconsistent';
}
