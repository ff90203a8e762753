/**
 * The terminal's durable outbox (DESIGN §4 "durable before acknowledged", first hop): every signed
 * event is appended here before `record()` returns, and stays until the gateway's retained `ack`
 * covers it (and names our own event there) and, when the ack says how far the cloud has this
 * terminal's chain (`cloud`), until the cloud has it too: acknowledged events above `cloud` are
 * *retained*, so a gateway restored from an older backup can be refilled (`rewind`). Events the
 * gateway refused for good are set aside with their code, never resent and never lost; the rest are
 * re-sequenced onto the gateway's head.
 * One interface, several implementations, one conformance suite.
 */
import type { ChainHead } from '../../protocol/chain.js';
import { TillgateError } from '../../protocol/errors.js';
import { AGENT_ERROR_CODES } from '../errors.js';

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
  /** The payment app's idempotency key, when it sent one: a re-sequence updates the key's seq. */
  readonly idempotencyKey?: string;
}

/** An event the gateway refused for good, kept aside with its code: never resent, never deleted. */
export interface SetAsideRecord extends OutboxRecord {
  readonly code: string;
  readonly message: string;
  readonly rejectedAtMs: number;
}
/** The earlier name of SetAsideRecord. */
export type RejectedRecord = SetAsideRecord;

/**
 * What the outbox keeps per idempotency key (the payment app's retry token): enough to answer a
 * retry with the original result, and to refuse a retry that is not the same payment.
 */
export interface IdempotencyRecord {
  /** The key the payment app sent (validated by the recorder: `IDEMPOTENCY_KEY_PATTERN`). */
  readonly key: string;
  /** Event id and seq of the event recorded under this key (the seq follows re-sequencing). */
  readonly id: string;
  readonly seq: number;
  readonly offline: boolean;
  readonly type: string;
  readonly amount: number;
  readonly currency: string;
  /** When it was recorded, agent clock (ms since epoch): what `idempotencyKeyTtlS` is measured from. */
  readonly recordedAtMs: number;
  /** Set when the gateway refused the event for good and it was set aside: a retry is told so. */
  readonly refusedCode?: string;
}

/** Which idempotency keys `pruneIdempotencyKeys` removes, oldest first. */
export interface IdempotencyPrunePolicy {
  /** Keys recorded before this instant (ms since epoch) go. */
  readonly olderThanMs: number;
  /** After that, the oldest keys beyond this many go too. */
  readonly maxKeys: number;
  /** At most this many keys are deleted per call (one bounded batch). */
  readonly limit: number;
}

export interface OutboxStats {
  /** Events waiting for the gateway's ack (set-aside and retained ones not included). */
  readonly depth: number;
  readonly oldestRecordedAtMs: number | null;
  /** Pending events with a non-zero exposure, and the sum of it: what offline limits bound. */
  readonly exposureCount: number;
  readonly exposureMinor: number;
  /** Events set aside (refused for good by the gateway). */
  readonly rejected: number;
  /**
   * Events the gateway acknowledged that the cloud does not have yet, kept in case the gateway is
   * restored from an older backup: not exposure (the gateway holds them), but outbox space.
   */
  readonly retained: number;
}

/** A gateway ack as the outbox applies it: the head, and how far the cloud holds the chain (if said). */
export interface AckInput extends ChainHead {
  /** Every event with seq ≤ `cloud` is accepted by the cloud; absent from an older gateway. */
  readonly cloud?: number;
}

/** How many acknowledged events the outbox may keep for the cloud's sake. */
export interface RetentionPolicy {
  /** Past this many retained events the oldest are deleted (the gateway holds them durably anyway). */
  readonly maxRetained: number;
}

/** No bound: an outbox that is told nothing keeps everything the cloud does not have yet. */
export const UNBOUNDED_RETENTION: RetentionPolicy = Object.freeze({ maxRetained: Number.MAX_SAFE_INTEGER });

/**
 * What a retained ack means for this outbox (DESIGN §3.3 `ack`). Only an ack that names the
 * outbox's OWN event at its seq (same chain hash) prunes anything: a terminal restored from a
 * backup, or one whose chain the gateway does not share, must never delete payments because the
 * gateway holds other events at those seqs.
 */
export type AckVerdict =
  /**
   * The ack names our own event (or our acked base): everything up to it is acknowledged (`count`
   * pending events became acknowledged); deleted are those the cloud has (all of them when the ack
   * says nothing about the cloud) and, past `maxRetained`, the oldest retained ones (`dropped`,
   * only present when not 0).
   */
  | { readonly kind: 'pruned'; readonly count: number; readonly dropped?: number }
  /** Below what is already acked and not one of our retained events: nothing to learn. */
  | { readonly kind: 'old' }
  /**
   * The gateway's head went back to one of our retained events (or our pruned base): it was restored
   * from an older backup. `rewind(to)` makes the retained events after it pending again, to resend.
   */
  | { readonly kind: 'behind'; readonly to: ChainHead }
  /** The gateway holds more of this terminal's chain than the outbox does. */
  | { readonly kind: 'ahead' }
  /** The gateway's event at that seq is not ours: the chains differ. */
  | { readonly kind: 'diverged' };

/**
 * A re-sequence (DESIGN §3.3 "no terminal stays stuck"): the pending records the gateway never
 * took are re-signed onto the gateway's head, keeping each event id. Applied as ONE synced write,
 * so a crash at any instant leaves either the old chain or the new one, never a mix.
 */
export interface ResequencePlan {
  /** Pending records with seq <= this are at the gateway: they leave the outbox as an ack would. */
  readonly deliveredUpTo: number;
  /** The gateway's head: it becomes the acked base, and the first moved record follows it. */
  readonly base: ChainHead;
  /** The refused record that leaves the chain: set aside with its code, or delivered (the gateway has its id). */
  readonly refused?: {
    readonly seq: number;
    readonly id: string;
    readonly outcome: 'set-aside' | 'delivered';
    readonly code: string;
    readonly message: string;
    readonly atMs: number;
  };
  /** Every other pending record above `deliveredUpTo`, in order, re-signed onto `base` (same id). */
  readonly moved: readonly { readonly fromSeq: number; readonly record: OutboxRecord }[];
}

/** A page of the set-aside list; `next` continues it (absent on the last page). */
export interface SetAsidePage {
  readonly records: SetAsideRecord[];
  readonly next?: string;
}

export const OUTBOX_STATES = ['new', 'opening', 'open', 'closing', 'closed'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/**
 * Every call on an outbox that is not `open` fails with `OUTBOX_CLOSED` (sync calls throw, async
 * ones reject). Storage failures fail with `OUTBOX_IO`; an append that is not `head.seq + 1`, or a
 * re-sequence plan that does not account for every pending record, with `OUTBOX_SEQUENCE`.
 */
export interface Outbox {
  readonly state: OutboxState;
  open(): Promise<void>;
  close(): Promise<void>;
  /** The last recorded event (seq, chain hash), or the adopted base after a reset. */
  head(): ChainHead;
  /** The highest gateway ack applied. */
  acked(): ChainHead;
  /**
   * The highest event deleted after an ack (the cloud has it, or it went over `maxRetained`):
   * every retained event is above it. Equals `acked()` when nothing is retained.
   */
  base(): ChainHead;
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
  /**
   * Applies a gateway ack. Acknowledges every pending record with seq <= ack.seq ONLY when the ack's
   * hash is the chain hash of the outbox's own event at ack.seq (or of its acked base); otherwise
   * changes nothing and says why. Of the acknowledged records it deletes those with seq <=
   * min(ack.seq, ack.cloud) (all up to ack.seq without `cloud`) and keeps the rest as retained,
   * at most `policy.maxRetained` (default: no bound), oldest deleted first.
   */
  acknowledge(ack: AckInput, policy?: RetentionPolicy): Promise<AckVerdict>;
  /**
   * The gateway's head went back to `to` (verdict `behind`, or a SEQ_GAP below the acked seq):
   * `to` must be the base or a retained event (same hash). The retained events after it become
   * pending again, to be resent in order; the acked head becomes `to`. Returns how many. Fails with
   * OUTBOX_SEQUENCE, changing nothing, when `to` is neither.
   */
  rewind(to: ChainHead): Promise<number>;
  /** The head to rewind to so that `seq + 1` is resent: the base or the retained event at `seq`, if any. */
  rewindTarget(seq: number): ChainHead | undefined;
  /**
   * After a device reset (nothing recorded yet) the chain continues from the gateway's retained ack
   * (DESIGN §3.3): head = acked = base, synced. Marks an outbox synced without changing a head it
   * already has when `base.seq` is not ahead of it.
   */
  adoptBase(base: ChainHead): Promise<void>;
  /**
   * Applies a re-sequence plan in one synced write: prunes what is delivered, sets the refused
   * record aside (or drops it as delivered), replaces the moved records by their re-signed
   * versions, points their idempotency keys at the new seqs, and makes `base` the acked base.
   * Fails with `OUTBOX_SEQUENCE`, changing nothing, unless the plan accounts for every pending
   * record above `deliveredUpTo` exactly once, under its own id, renumbered from `base.seq + 1`.
   */
  resequence(plan: ResequencePlan): Promise<void>;
  /** Set-aside records in the order they are kept (seq, then id), at most `limit`, after `after`. */
  listSetAside(limit: number, after?: string): Promise<SetAsidePage>;
  /** How many set-aside records have seq > `seq` (refusals since the gateway last acknowledged), counting at most `limit`. */
  setAsideAbove(seq: number, limit: number): Promise<number>;
}

/** The idempotency record names the event it is appended with (a recorder bug otherwise). */
export function assertKeyFor(record: OutboxRecord, idem: IdempotencyRecord): void {
  if (idem.seq !== record.seq || idem.id !== record.id) throw new TypeError('idempotency record does not name the appended event');
}

/** What the in-memory index keeps of each pending record. */
export type PendingItem = Pick<OutboxRecord, 'seq' | 'id' | 'hash' | 'exposureMinor' | 'recordedAtMs' | 'idempotencyKey'>;

/**
 * In-memory index of the pending records (seq, id, hash, exposure, time) that implementations keep
 * so that `stats()` is O(1) for the offline-limit check on every `record()`, and an ack can be
 * checked against the outbox's own chain hash without a read.
 */
export class PendingIndex {
  /** In seq order (appends are in seq order). */
  #items: PendingItem[] = [];
  #exposureCount = 0;
  #exposureMinor = 0;

  add(r: PendingItem): void {
    const item: PendingItem = { seq: r.seq, id: r.id, hash: r.hash, exposureMinor: r.exposureMinor, recordedAtMs: r.recordedAtMs };
    this.#items.push(r.idempotencyKey === undefined ? item : { ...item, idempotencyKey: r.idempotencyKey });
    if (r.exposureMinor > 0) {
      this.#exposureCount++;
      this.#exposureMinor += r.exposureMinor;
    }
  }

  /** The seqs a prune up to `upTo` removes. */
  seqsUpTo(upTo: number): number[] {
    const out: number[] = [];
    for (const r of this.#items) {
      if (r.seq > upTo) break;
      out.push(r.seq);
    }
    return out;
  }

  /** How many records the index holds. */
  get size(): number {
    return this.#items.length;
  }

  /** The records in seq order (a copy). */
  items(): PendingItem[] {
    return [...this.#items];
  }

  /** The records with seq <= upTo, in order (not removed). */
  upTo(upTo: number): PendingItem[] {
    const out: PendingItem[] = [];
    for (const r of this.#items) {
      if (r.seq > upTo) break;
      out.push(r);
    }
    return out;
  }

  /** Removes every seq <= upTo; returns the removed records. */
  removeUpTo(upTo: number): PendingItem[] {
    let k = 0;
    while (k < this.#items.length && this.#items[k]!.seq <= upTo) k++;
    return this.#removeFirst(k);
  }

  /** Removes the `n` lowest seqs; returns them. */
  removeFirst(n: number): PendingItem[] {
    return this.#removeFirst(Math.max(0, Math.min(n, this.#items.length)));
  }

  /** Removes every seq > seq; returns the removed records. */
  removeAbove(seq: number): PendingItem[] {
    const keep = this.#items.filter((r) => r.seq <= seq);
    const removed = this.#items.filter((r) => r.seq > seq);
    this.reset(keep);
    return removed;
  }

  #removeFirst(k: number): PendingItem[] {
    const removed = this.#items.splice(0, k);
    for (const r of removed) this.#forget(r.exposureMinor);
    return removed;
  }

  /** Removes every seq <= upTo; returns the removed seqs. */
  pruneUpTo(upTo: number): number[] {
    let k = 0;
    while (k < this.#items.length && this.#items[k]!.seq <= upTo) k++;
    const removed = this.#items.splice(0, k);
    for (const r of removed) this.#forget(r.exposureMinor);
    return removed.map((r) => r.seq);
  }

  has(seq: number): boolean {
    return this.at(seq) !== undefined;
  }

  /** The pending record at `seq` (binary search: seqs ascend, with holes only in older outboxes). */
  at(seq: number): PendingItem | undefined {
    let lo = 0;
    let hi = this.#items.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const item = this.#items[mid]!;
      if (item.seq === seq) return item;
      if (item.seq < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Pending records with seq > `seq`, in order. */
  above(seq: number): PendingItem[] {
    return this.#items.filter((r) => r.seq > seq);
  }

  /** Replaces the whole index (after a re-sequence, the moved records are all that is pending). */
  reset(items: readonly PendingItem[]): void {
    this.#items = [];
    this.#exposureCount = 0;
    this.#exposureMinor = 0;
    for (const r of items) this.add(r);
  }

  stats(rejected: number, retained = 0): OutboxStats {
    return {
      depth: this.#items.length,
      oldestRecordedAtMs: this.#items[0]?.recordedAtMs ?? null,
      exposureCount: this.#exposureCount,
      exposureMinor: this.#exposureMinor,
      rejected,
      retained,
    };
  }

  #forget(exposureMinor: number): void {
    if (exposureMinor > 0) {
      this.#exposureCount--;
      this.#exposureMinor -= exposureMinor;
    }
  }
}

/** The outbox's chain position, as every implementation keeps it. */
export interface ChainMeta {
  readonly head: ChainHead;
  readonly acked: ChainHead;
}

/** What the outbox keeps of acknowledged events: the retained ones, and the highest deleted. */
export interface RetainedView {
  readonly base: ChainHead;
  readonly retained: PendingIndex;
}

/**
 * Judges a gateway ack against the outbox (item: an ack never deletes what is not the gateway's
 * own copy of OUR event). An ack below the acked seq that names one of our retained events (or
 * the base) means the gateway went back (`behind`); any other ack below it is old news.
 */
export function judgeAck(ack: ChainHead, meta: ChainMeta, pending: PendingIndex, kept?: RetainedView): Exclude<AckVerdict['kind'], 'pruned' | 'behind'> | 'prune' | 'behind' {
  if (ack.seq < meta.acked.seq) return kept !== undefined && rewindTargetOf(ack.seq, kept)?.hash === ack.hash ? 'behind' : 'old';
  if (ack.seq === meta.acked.seq) return ack.hash === meta.acked.hash ? 'prune' : 'diverged';
  if (ack.seq > meta.head.seq) return 'ahead';
  // A seq that is not pending is a hole an older agent left when it set an event aside: the
  // gateway's event there is not one we hold, so it cannot be ours.
  const own = pending.at(ack.seq);
  return own !== undefined && own.hash === ack.hash ? 'prune' : 'diverged';
}

/** The base, or the retained event at `seq`: a head the outbox can rewind to. */
export function rewindTargetOf(seq: number, kept: RetainedView): ChainHead | undefined {
  if (seq === kept.base.seq) return { seq: kept.base.seq, hash: kept.base.hash };
  const r = kept.retained.at(seq);
  return r === undefined ? undefined : { seq: r.seq, hash: r.hash };
}

/** What an ack that names our own event does to the outbox (computed before any write). */
export interface PrunePlan {
  /** Seqs deleted from storage, in order: retained ones the cloud has, then any over the bound. */
  readonly remove: readonly number[];
  readonly acked: ChainHead;
  readonly base: ChainHead;
  /** Pending records that became acknowledged. */
  readonly count: number;
  /** Records deleted only because of `maxRetained`. */
  readonly dropped: number;
}

export function planPrune(ack: AckInput, meta: ChainMeta, pending: PendingIndex, kept: RetainedView, policy: RetentionPolicy): PrunePlan {
  const newlyAcked = ack.seq > meta.acked.seq ? pending.upTo(ack.seq) : [];
  const all = [...kept.retained.items(), ...newlyAcked];
  const cloudUpTo = ack.cloud === undefined ? ack.seq : Math.min(ack.seq, ack.cloud);
  let removeCount = 0;
  while (removeCount < all.length && all[removeCount]!.seq <= cloudUpTo) removeCount++;
  const overBound = Math.max(0, all.length - removeCount - Math.max(0, policy.maxRetained));
  removeCount += overBound;
  const removed = all.slice(0, removeCount);
  const last = removed[removed.length - 1];
  return {
    remove: removed.map((r) => r.seq),
    acked: ack.seq >= meta.acked.seq ? { seq: ack.seq, hash: ack.hash } : meta.acked,
    base: last === undefined ? kept.base : { seq: last.seq, hash: last.hash },
    count: newlyAcked.length,
    dropped: overBound,
  };
}

/** Moves the indexes as `plan` says (after its write succeeded). */
export function applyPrune(plan: PrunePlan, pending: PendingIndex, retained: PendingIndex): void {
  const acked = pending.removeUpTo(plan.acked.seq);
  for (const r of acked) retained.add(r);
  retained.removeFirst(plan.remove.length);
}

/** The verdict of an applied prune plan. */
export function prunedVerdict(plan: PrunePlan): AckVerdict {
  return plan.dropped > 0 ? { kind: 'pruned', count: plan.count, dropped: plan.dropped } : { kind: 'pruned', count: plan.count };
}

/**
 * Checks a re-sequence plan against the pending records before anything is written:
 * it must account for every pending record above `deliveredUpTo` exactly once, under its own id,
 * renumbered from `base.seq + 1`. A plan that would drop a payment is a bug: `OUTBOX_SEQUENCE`.
 */
export function checkPlan(plan: ResequencePlan, meta: ChainMeta, pending: PendingIndex): void {
  const fail = (why: string): never => {
    throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_SEQUENCE, `re-sequence plan refused: ${why}`);
  };
  if (plan.deliveredUpTo < meta.acked.seq) fail(`deliveredUpTo ${plan.deliveredUpTo} is below the acked seq ${meta.acked.seq}`);
  if (plan.deliveredUpTo > meta.head.seq) fail(`deliveredUpTo ${plan.deliveredUpTo} is beyond the head ${meta.head.seq}`);
  if (plan.base.seq < plan.deliveredUpTo) fail(`base ${plan.base.seq} is below deliveredUpTo ${plan.deliveredUpTo}`);
  const rest = pending.above(plan.deliveredUpTo);
  let m = 0;
  for (const item of rest) {
    if (plan.refused !== undefined && item.seq === plan.refused.seq) {
      if (item.id !== plan.refused.id) fail(`refused seq ${item.seq} has another id`);
      continue;
    }
    const move = plan.moved[m];
    if (move === undefined || move.fromSeq !== item.seq) fail(`pending seq ${item.seq} is not moved`);
    if (move!.record.id !== item.id) fail(`moved seq ${item.seq} changes its id`);
    if (move!.record.seq !== plan.base.seq + 1 + m) fail(`moved seq ${item.seq} is not renumbered from the base`);
    m++;
  }
  if (m !== plan.moved.length) fail('the plan moves records that are not pending');
  if (plan.refused !== undefined && !rest.some((r) => r.seq === plan.refused!.seq)) fail(`refused seq ${plan.refused.seq} is not pending`);
}

/** The chain position after a plan: the last moved record, or the base when nothing moved. */
export function headAfter(plan: ResequencePlan): ChainHead {
  const last = plan.moved[plan.moved.length - 1];
  return last === undefined ? { seq: plan.base.seq, hash: plan.base.hash } : { seq: last.record.seq, hash: last.record.hash };
}
