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

/**
 * What the outbox keeps per idempotency key (the payment app's retry token): enough to answer a
 * retry with the original result, and to refuse a retry that is not the same payment.
 */
export interface IdempotencyRecord {
  /** The key the payment app sent (validated by the recorder: `IDEMPOTENCY_KEY_PATTERN`). */
  readonly key: string;
  /** Event id and seq of the event recorded under this key. */
  readonly id: string;
  readonly seq: number;
  readonly offline: boolean;
  readonly type: string;
  readonly amount: number;
  readonly currency: string;
  /** When it was recorded, agent clock (ms since epoch): what `idempotencyKeyTtlS` is measured from. */
  readonly recordedAtMs: number;
}

/** Which idempotency keys `pruneIdempotencyKeys` removes, oldest (lowest seq) first. */
export interface IdempotencyPrunePolicy {
  /** Keys recorded before this instant (ms since epoch) go. */
  readonly olderThanMs: number;
  /** After that, the oldest keys beyond this many go too. */
  readonly maxKeys: number;
  /** At most this many keys are deleted per call (one bounded batch). */
  readonly limit: number;
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
  /**
   * Appends durably (fsync'd) before resolving. With `idempotency` (whose `id`/`seq` must be the
   * record's), the key is stored in the SAME synced write as the event: after a crash either both
   * are there or neither is, so a retry can never record the payment twice. A key that is already
   * stored fails with `OUTBOX_SEQUENCE` (the recorder looks it up first: a bug, never bad input).
   */
  append(record: OutboxRecord, idempotency?: IdempotencyRecord): Promise<void>;
  /** The record stored under an idempotency key, or undefined (never stored, or pruned). */
  idempotencyRecord(key: string): Promise<IdempotencyRecord | undefined>;
  /** How many idempotency keys are stored. */
  idempotencyKeyCount(): number;
  /**
   * Deletes idempotency keys per `policy` in one write of at most `policy.limit` deletes (not
   * fsync'd: a prune lost to a power cut is only done again). Returns how many went; call again
   * while it returns `policy.limit`. Keys are independent of acks: acking an event keeps its key.
   */
  pruneIdempotencyKeys(policy: IdempotencyPrunePolicy): Promise<number>;
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

/** The idempotency record names the event it is appended with (STYLE 10; a recorder bug otherwise). */
export function assertKeyFor(record: OutboxRecord, idem: IdempotencyRecord): void {
  if (idem.seq !== record.seq || idem.id !== record.id) throw new TypeError('idempotency record does not name the appended event');
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
