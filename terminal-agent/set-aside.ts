/**
 * The set-aside list as an operator reads it (local API `GET /set-aside`, `tillgate terminal
 * set-aside`): every event the gateway refused for good, with its code, the event's content and
 * its signed bytes, so a payment can be reconciled or resubmitted by other means. An event that
 * holds what looks like a card number (PAN_DETECTED, DESIGN §3.2) is exported without its JWS and
 * with those values replaced: card numbers never leave the device through an export.
 */
import { containsPan, valueContainsPan } from '../protocol/pan.js';
import type { SetAsideRecord } from './outbox/outbox.js';
import { payloadOf } from './resequence.js';

export const CARD_NUMBER_REMOVED = '[card number removed]';

export interface SetAsideExport {
  /** The seq the event had when it was refused (a later event may hold that seq now). */
  readonly seq: number;
  readonly id: string;
  /** The gateway's reject code (an open set: possibly one this agent does not know). */
  readonly code: string;
  readonly message: string;
  readonly recordedAt: string;
  readonly refusedAt: string;
  /** The event payload, card-number-like values replaced. */
  readonly event: unknown;
  /** The signed event as it was sent, or null when it holds what looks like a card number. */
  readonly jws: string | null;
}

export function exportSetAside(r: SetAsideRecord): SetAsideExport {
  const payload = payloadOf(r.jws);
  const hasPan = containsPan(r.jws) || valueContainsPan(payload);
  return {
    seq: r.seq,
    id: r.id,
    code: r.code,
    message: containsPan(r.message) ? CARD_NUMBER_REMOVED : r.message,
    recordedAt: new Date(r.recordedAtMs).toISOString(),
    refusedAt: new Date(r.rejectedAtMs).toISOString(),
    event: hasPan ? withoutCardNumbers(payload) : payload,
    jws: hasPan ? null : r.jws,
  };
}

/** Replaces every key, string or number that looks like a card number (bounded depth). */
export function withoutCardNumbers(value: unknown, depth = 0): unknown {
  if (depth > 32) return CARD_NUMBER_REMOVED;
  if (typeof value === 'string') return containsPan(value) ? CARD_NUMBER_REMOVED : value;
  if (typeof value === 'number') return valueContainsPan(value) ? CARD_NUMBER_REMOVED : value;
  if (Array.isArray(value)) return value.map((v) => withoutCardNumbers(v, depth + 1));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    let removed = 0;
    for (const [k, v] of Object.entries(value)) out[containsPan(k) ? `${CARD_NUMBER_REMOVED} ${++removed}` : k] = withoutCardNumbers(v, depth + 1);
    return out;
  }
  return value;
}
