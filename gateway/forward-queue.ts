/**
 * The seam between the gateway's event store (which implements it) and the forwarder (which
 * consumes it). Everything here is durable: the forwarder keeps no state of its own in memory that
 * a restart could lose (DESIGN §5.1: "restart rebuilds nothing from a full scan").
 *
 * Positions (`pos`) are a gateway-wide sequence assigned when an entry is appended, starting at 1.
 * Enrollments are appended to the same queue, so an enrollment always comes before the events
 * signed with its key (DESIGN §3.4).
 */

import type { MoneyTotals } from './store/money.js';

export type ForwardEntry =
  | {
      readonly pos: number;
      readonly kind: 'enrollment';
      readonly terminal: string;
      readonly kid: string;
      /** base64url of the raw 32-byte Ed25519 key. */
      readonly publicKey: string;
      /** RFC 3339 time of the enrollment. */
      readonly at: string;
      /**
       * The operator's endorsement of the key (DESIGN §3.1), sent with the enrollment. Absent in
       * entries written by the previous release: they are still forwarded, and a cloud that checks
       * endorsements refuses them (the events they sign are answered UNKNOWN_KEY).
       */
      readonly endorsement?: string;
    }
  | {
      readonly pos: number;
      readonly kind: 'event';
      readonly terminal: string;
      readonly seq: number;
      /** The compact JWS exactly as the terminal sent it. */
      readonly jws: string;
      /** When the gateway made it durable (ms since epoch). */
      readonly storedAtMs: number;
      /** Copied from the payload so the status page can say how much money is waiting. */
      readonly amount: number;
      readonly currency: string;
    };

export interface DeadLetter {
  readonly pos: number;
  readonly terminal: string;
  readonly seq: number;
  readonly code: string;
  readonly message: string;
  readonly atMs: number;
}

export interface BacklogSummary {
  /** Events appended but not yet accepted by the cloud (dead letters excluded). */
  readonly events: number;
  /** storedAtMs of the oldest such event, or null when the backlog is empty. */
  readonly oldestStoredAtMs: number | null;
  /** Takings waiting (approved payments only), in minor units per ISO 4217 currency: `money.takings`. */
  readonly amountByCurrency: Readonly<Record<string, number>>;
  /** The waiting events by what they mean in money (store/money.ts): takings, refunds, voids, … */
  readonly money: MoneyTotals;
}

export interface ForwardQueue {
  /** Highest pos appended so far (0 when empty). */
  head(): number;
  /** Highest pos the cloud has accepted, durable (0 when none). */
  cursor(): number;
  /**
   * Entries with pos > afterPos in pos order: at most `maxEntries`, and stopping before the total
   * JWS bytes would pass `maxBytes` (always at least one entry when any exists).
   */
  readAfter(afterPos: number, maxEntries: number, maxBytes: number): Promise<ForwardEntry[]>;
  /** One terminal's stored events from `fromSeq` up, in seq order (SEQ_GAP repair). */
  readTerminalEvents(terminal: string, fromSeq: number, maxEntries: number): Promise<Extract<ForwardEntry, { kind: 'event' }>[]>;
  /** Durably moves the cursor forward to `pos` (never backward) in one synced write. */
  advanceCursor(pos: number): Promise<void>;
  /** Durably records a dead letter (an event the cloud rejected) in the same write as a cursor advance. */
  advanceCursorWithDeadLetters(pos: number, deadLetters: readonly DeadLetter[]): Promise<void>;
  listDeadLetters(limit: number): Promise<DeadLetter[]>;
  /**
   * The cloud now holds these dead letters (a retry delivered them): removes them as dead letters
   * and starts their retention clock now. Returns the removed ones.
   */
  takeDeadLetters(positions: readonly number[]): Promise<DeadLetter[]>;
  deadLetterCount(): number;
  /**
   * Highest seq of `terminal` the cloud has accepted (or answered as a duplicate), 0 when none is
   * known: every event of the terminal with seq ≤ it is in the cloud, because the cloud keeps each
   * chain gapless (DESIGN §3.4). Durable, moved in the same write as the cursor; never a dead letter.
   */
  cloudSeq(terminal: string): number;
  /** Called with the terminals whose `cloudSeq` moved, after the write that moved it is durable. */
  onCloudAdvance(listener: (terminals: readonly string[]) => void): () => void;
  /** What is waiting for the cloud (kept up to date incrementally, no scan). */
  backlog(): BacklogSummary;
  /** Called after each append that made new entries durable. Returns an unsubscribe function. */
  onAppend(listener: () => void): () => void;
  /**
   * Retention: deletes events (and their queue entries) the cloud accepted before `olderThanMs`,
   * at most `maxEntries` per call. Age counts from the cloud's acceptance, never from storage. Never
   * touches anything past the cursor, and never a dead letter: a dead letter becomes eligible only
   * once a retry delivered it (`takeDeadLetters`), counting from then.
   */
  pruneAccepted(olderThanMs: number, maxEntries: number): Promise<number>;
}
