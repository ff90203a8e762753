/**
 * The webhook inbox (DESIGN §3.6): every PSP notification the cloud answers `[accepted]` for is in
 * here first, durably, once per `(pspReference, eventCode, success)`. It is a log: each stored item
 * gets a position, and the lifecycle follows it with a durable cursor (PaymentStore cursor `inbox`),
 * so a notification made durable just before a crash is applied after the restart. Unknown event
 * codes are stored like any other (an open set) and ignored by the state machine.
 * Every implementation passes `test/cloud-bridge/lifecycle/webhook-inbox-conformance.ts`.
 * In SQL: a table with a unique key on the three fields and positions assigned in commit order.
 */
import type { NotificationRequestItem } from '../../protocol/adyen.js';
import type { LifecycleStoreState } from './payment-store.js';

/** Most items one `accept` may store: one webhook request's worth, bounded by the route. */
export const MAX_INBOX_ACCEPT = 1_000;
/** Largest page of the inbox log a follower may read. */
export const MAX_INBOX_READ = 1_000;
/** Largest stored item (its JSON): Adyen items are ~1–3 KiB; the webhook body bound keeps them smaller. */
export const MAX_INBOX_ITEM_BYTES = 16 * 1024;

export interface InboxEntry {
  readonly position: number;
  /** `pspReference|eventCode|success`. */
  readonly key: string;
  /** When the inbox made it durable (ms since the epoch): the notification's time in the lifecycle. */
  readonly receivedAtMs: number;
  readonly live: boolean;
  /** The item as validated (HMAC checked) by the webhook route. */
  readonly item: NotificationRequestItem;
}

export type AcceptOutcome = 'stored' | 'duplicate';

export interface WebhookInbox {
  readonly state: LifecycleStoreState;
  /**
   * Stores the items in one atomic, synced write and resolves after it (DESIGN §3.6: durable before
   * `[accepted]`). One outcome per item, in order; an item whose key is already stored, or appeared
   * earlier in the same call, is a duplicate and changes nothing.
   */
  accept(items: readonly NotificationRequestItem[], live: boolean, receivedAtMs: number): Promise<AcceptOutcome[]>;
  /** Entries with position > afterPosition, in position order, at most `limit`. */
  read(afterPosition: number, limit: number): Promise<InboxEntry[]>;
  /** Highest position stored (0 when empty). */
  head(): Promise<number>;
  close(): Promise<void>;
}

/** The dedup key of DESIGN §3.6. */
export function inboxKey(item: Pick<NotificationRequestItem, 'pspReference' | 'eventCode' | 'success'>): string {
  return `${item.pspReference}|${item.eventCode}|${item.success}`;
}
