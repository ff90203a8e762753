/**
 * The gateway's storage edge: what the ingest pipeline, enrollment and the status API
 * need from the store. `LevelEventStore` is the production implementation; the conformance suite
 * in test/gateway/event-store.conformance.ts describes the behaviour once.
 */
import type { ChainHead } from '../../protocol/chain.js';
import type { ForwardQueue } from '../forward-queue.js';
import type { RejectFields, RejectRecord, StoredEvent, TerminalKey, TerminalRecord } from './records.js';

export type StoreStatus = 'opening' | 'open' | 'closing' | 'closed';

/** One record of a group commit. */
export type CommitEntry =
  | {
      readonly kind: 'event';
      readonly terminal: string;
      readonly seq: number;
      /** Chain hash of seq-1 as the payload names it: checked against the head when written. */
      readonly prev: string;
      readonly jws: string;
      /** chainHash(jws), computed once by the pipeline and checked again when written. */
      readonly hash: string;
      /** The payload's `id`: indexed, unique in the store (DUPLICATE_ID). */
      readonly id: string;
      /** The payload's `type` and `outcome`: what the event means in money (store/money.ts). */
      readonly type: string;
      readonly outcome: string;
      readonly amount: number;
      readonly currency: string;
    }
  | ({ readonly kind: 'reject' } & RejectFields)
  | {
      readonly kind: 'enrollment';
      /** The whole new registry record of the terminal. */
      readonly record: TerminalRecord;
      /**
       * The key entry this enrollment added, or re-sent with a new endorsement (goes to the forward
       * queue), or null for a password reset.
       */
      readonly newKey: TerminalKey | null;
    };

export interface EventIdOwner {
  readonly terminal: string;
  readonly seq: number;
}

export interface StoreStats {
  readonly eventsStored: number;
  readonly rejectsByCode: Readonly<Record<string, number>>;
  readonly terminals: number;
}

export interface EventStore {
  readonly status: StoreStatus;
  /** The forward queue over the same data (the forwarder's view). */
  readonly queue: ForwardQueue;
  /** Durable head of a terminal's chain (EMPTY_HEAD when none). */
  head(terminal: string): ChainHead;
  terminal(terminal: string): TerminalRecord | undefined;
  terminalIds(): readonly string[];
  /** A stored event, or undefined (never stored, or pruned by retention). */
  getEvent(terminal: string, seq: number): Promise<StoredEvent | undefined>;
  /**
   * Where an event `id` is stored (terminal and seq), or undefined. Covers events stored since the
   * id index exists and not yet pruned by retention.
   */
  eventIdOwner(id: string): Promise<EventIdOwner | undefined>;
  stats(): StoreStats;
  /** Newest reject records first. */
  recentRejects(limit: number): Promise<RejectRecord[]>;
  /**
   * Writes all entries in ONE batch with `{ sync: true }` (DESIGN §5.1), assigning queue positions
   * in entry order. Events must continue their terminal's chain (assertion: the pipeline checked).
   */
  commit(entries: readonly CommitEntry[], nowMs: number): Promise<void>;
  close(): Promise<void>;
}
