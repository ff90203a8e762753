/** Builders for the lifecycle tests: payment ids, facts, signals, payments, Adyen items. */
import { createHash } from 'node:crypto';
import { notificationRequestItemSchema, signAdyenItem, type NotificationRequestItem, type NotificationRequestItemInput } from '../../../protocol/adyen.js';
import { emptyPayment, step, type EventFact, type MachineConfig, type Payment, type PspFact, type Signal } from '../../../cloud-bridge/lifecycle/machine.js';
import { inboxKey } from '../../../cloud-bridge/lifecycle/webhook-inbox.js';

export const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
export const OPTIMISTIC: MachineConfig = { optimisticCharge: true };
/** A test HMAC key (hex, 32 bytes). */
export const HMAC_KEY = createHash('sha256').update('tillgate-test-hmac-key').digest('hex').toUpperCase();

/** A deterministic UUID v7-shaped payment id per name. */
export function paymentId(name: string | number): string {
  const h = createHash('sha256').update(`payment:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function eventFact(over: Partial<EventFact> = {}): EventFact {
  return { store: 's-1', terminal: 't-1', seq: 1, amount: 1250, currency: 'EUR', mode: 'online', at: new Date(T0 - 2_000).toISOString(), capturedAtMs: T0, position: 1, ...over };
}

export function pspFact(eventCode: string, success: boolean, receivedAtMs: number, over: Partial<PspFact> = {}): PspFact {
  const pspReference = over.pspReference ?? 'PSP0000000000001';
  return { key: `${pspReference}|${eventCode}|${success}`, pspReference, originalReference: null, eventCode, success, amount: 1250, currency: 'EUR', action: null, receivedAtMs, ...over };
}

export const eventSignal = (over: Partial<EventFact> = {}): Signal => ({ kind: 'event', fact: eventFact(over) });
export const pspSignal = (eventCode: string, success: boolean, atMs: number, over: Partial<PspFact> = {}): Signal => ({ kind: 'psp', fact: pspFact(eventCode, success, atMs, over) });

/** A payment after the given signals. */
export function paymentAfter(id: string, signals: readonly Signal[], config: MachineConfig = OPTIMISTIC): Payment {
  return signals.reduce((p, s) => step(p, s, config), emptyPayment(id));
}

/** A signed Adyen item (validated, as the webhook route hands it on). */
export function adyenItem(over: Partial<NotificationRequestItemInput> & { merchantReference: string }, key = HMAC_KEY): NotificationRequestItem {
  const base: NotificationRequestItemInput = {
    eventCode: 'AUTHORISATION',
    success: 'true',
    pspReference: 'PSP0000000000001',
    merchantAccountCode: 'TillgateTest',
    amount: { value: 1250, currency: 'EUR' },
    eventDate: new Date(T0).toISOString(),
    ...over,
  };
  const item = notificationRequestItemSchema.parse(base);
  return notificationRequestItemSchema.parse({ ...item, additionalData: { ...item.additionalData, hmacSignature: signAdyenItem(item, key) } });
}

export { inboxKey };
