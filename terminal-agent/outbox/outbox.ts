/**
 * The terminal's durable outbox (DESIGN §4 "durable before acknowledged", first hop): every signed
 * event is appended here before `record()` returns, and stays until the gateway's retained `ack`
 * covers it. Rejected events are moved aside with their code, never resent and never lost.
 * One interface, several implementations, one conformance suite (STYLE 4).
 */
import type { ChainHead } from '../../protocol/chain.js';

export interface OutboxRecord {
  readonly seq: number;
  /** The event id (UUID v7): the idempotency key. */
  readonly id: string;
  /** The compact JWS, byte for byte as it is sent (resends must be identical: DESIGN §3.3). */
  readonly jws: string;
  /** Chain hash of `jws`. */
  readonly hash: string;
  /** Amount in minor units counted as exposure: the amount of an approved event, else 0. */
  readonly exposureMinor: number;
  /** When the agent recorded it, on the agent's clock (ms since epoch). */
  readonly recordedAtMs: number;
}

export interface RejectedRecord extends OutboxRecord {
  readonly code: string;
  readonly message: string;
  readonly rejectedAtMs: number;
}

export interface OutboxStats {
  /** Events waiting for the gateway's ack (rejected ones not included). */
  readonly depth: number;
  readonly oldestRecordedAtMs: number | null;
  /** Pending events with a non-zero exposure, and the sum of it: what offline limits bound. */
  readonly exposureCount: number;
  readonly exposureMinor: number;
  readonly rejected: number;
}

export const OUTBOX_STATES = ['new', 'opening', 'open', 'closing', 'closed'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/**
 * Every call on an outbox that is not `open` fails with `OUTBOX_CLOSED` (sync calls throw, async
 * ones reject). Storage failures fail with `OUTBOX_IO`; an append that is not `head.seq + 1` with
 * `OUTBOX_SEQUENCE`.
 */
export interface Outbox {
  readonly state: OutboxState;
  open(): Promise<void>;
  close(): Promise<void>;
  /** The last recorded event (seq, chain hash), or the adopted base after a reset. */
  head(): ChainHead;
  /** The highest gateway ack applied. */
  acked(): ChainHead;
  /** False until the outbox learned where the gateway's chain stands (adoptBase or an ack). */
  synced(): boolean;
  stats(): OutboxStats;
  /** Appends durably (fsync'd) before resolving. */
  append(record: OutboxRecord): Promise<void>;
  /** Pending records with seq >= fromSeq, in seq order, at most `limit`. */
  read(fromSeq: number, limit: number): Promise<OutboxRecord[]>;
  /** Applies a gateway ack: prunes every pending record with seq <= ack.seq; returns how many. */
  acknowledge(ack: ChainHead): Promise<number>;
  /**
   * After a device reset (nothing recorded yet) the chain continues from the gateway's retained ack
   * (DESIGN §3.3): head = acked = base, synced. Marks an outbox synced without changing a head it
   * already has when `base.seq` is not ahead of it.
   */
  adoptBase(base: ChainHead): Promise<void>;
  /**
   * Moves the pending record `seq` aside with the gateway's reject code (durably). Resolves false
   * when `seq` is not pending (already acked, or already aside): a stale reject changes nothing.
   */
  setAside(seq: number, code: string, message: string, atMs: number): Promise<boolean>;
  /** Rejected records in seq order, at most `limit`. */
  rejected(limit: number): Promise<RejectedRecord[]>;
}

/**
 * In-memory index of the pending records (seq, exposure, time) that implementations keep so that
 * `stats()` is O(1) for the offline-limit check on every `record()`.
 */
export class PendingIndex {
  #items: { seq: number; exposureMinor: number; recordedAtMs: number }[] = [];
  #exposureCount = 0;
  #exposureMinor = 0;

  add(r: Pick<OutboxRecord, 'seq' | 'exposureMinor' | 'recordedAtMs'>): void {
    this.#items.push({ seq: r.seq, exposureMinor: r.exposureMinor, recordedAtMs: r.recordedAtMs });
    if (r.exposureMinor > 0) {
      this.#exposureCount++;
      this.#exposureMinor += r.exposureMinor;
    }
  }

  /** Removes every seq <= upTo; returns the removed seqs. */
  pruneUpTo(upTo: number): number[] {
    let k = 0;
    while (k < this.#items.length && this.#items[k]!.seq <= upTo) k++;
    const removed = this.#items.splice(0, k);
    for (const r of removed) this.#forget(r.exposureMinor);
    return removed.map((r) => r.seq);
  }

  remove(seq: number): boolean {
    const i = this.#items.findIndex((r) => r.seq === seq);
    if (i === -1) return false;
    this.#forget(this.#items[i]!.exposureMinor);
    this.#items.splice(i, 1);
    return true;
  }

  has(seq: number): boolean {
    return this.#items.some((r) => r.seq === seq);
  }

  stats(rejected: number): OutboxStats {
    return {
      depth: this.#items.length,
      oldestRecordedAtMs: this.#items[0]?.recordedAtMs ?? null,
      exposureCount: this.#exposureCount,
      exposureMinor: this.#exposureMinor,
      rejected,
    };
  }

  #forget(exposureMinor: number): void {
    if (exposureMinor > 0) {
      this.#exposureCount--;
      this.#exposureMinor -= exposureMinor;
    }
  }
}
