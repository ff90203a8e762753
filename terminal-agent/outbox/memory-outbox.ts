/**
 * An in-memory outbox: NOT durable, for unit tests of the publisher and simulator logic only. It
 * passes the same conformance suite as the LevelDB outbox (test/terminal-agent/outbox-conformance.ts).
 */
import { EMPTY_HEAD, type ChainHead } from '../../protocol/chain.js';
import { TillgateError } from '../../protocol/errors.js';
import { AGENT_ERROR_CODES } from '../errors.js';
import {
  assertKeyFor, PendingIndex, type IdempotencyPrunePolicy, type IdempotencyRecord, type Outbox, type OutboxRecord, type OutboxState, type OutboxStats, type RejectedRecord,
} from './outbox.js';

export class MemoryOutbox implements Outbox {
  #state: OutboxState = 'new';
  #head: ChainHead = EMPTY_HEAD;
  #acked: ChainHead = EMPTY_HEAD;
  #synced = false;
  readonly #events = new Map<number, OutboxRecord>();
  readonly #rejects = new Map<number, RejectedRecord>();
  readonly #pending = new PendingIndex();
  /** Insertion order is seq order (appends are in seq order), so the first entries are the oldest. */
  readonly #keys = new Map<string, IdempotencyRecord>();

  get state(): OutboxState {
    return this.#state;
  }
  async open(): Promise<void> {
    if (this.#state !== 'new' && this.#state !== 'closed') throw closed(this.#state);
    this.#state = 'open';
  }
  async close(): Promise<void> {
    this.#state = 'closed';
  }
  head(): ChainHead {
    this.#assertOpen();
    return this.#head;
  }
  acked(): ChainHead {
    this.#assertOpen();
    return this.#acked;
  }
  synced(): boolean {
    this.#assertOpen();
    return this.#synced;
  }
  stats(): OutboxStats {
    this.#assertOpen();
    return this.#pending.stats(this.#rejects.size);
  }
  async append(record: OutboxRecord, idempotency?: IdempotencyRecord): Promise<void> {
    this.#assertOpen();
    if (record.seq !== this.#head.seq + 1) throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_SEQUENCE, `append seq ${record.seq} after head ${this.#head.seq}`);
    if (idempotency !== undefined) {
      assertKeyFor(record, idempotency);
      if (this.#keys.has(idempotency.key)) throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_SEQUENCE, 'idempotency key is already stored');
      this.#keys.set(idempotency.key, { ...idempotency });
    }
    this.#events.set(record.seq, { ...record });
    this.#pending.add(record);
    this.#head = { seq: record.seq, hash: record.hash };
  }
  async idempotencyRecord(key: string): Promise<IdempotencyRecord | undefined> {
    this.#assertOpen();
    const r = this.#keys.get(key);
    return r === undefined ? undefined : { ...r };
  }
  idempotencyKeyCount(): number {
    this.#assertOpen();
    return this.#keys.size;
  }
  async pruneIdempotencyKeys(policy: IdempotencyPrunePolicy): Promise<number> {
    this.#assertOpen();
    let n = 0;
    for (const [key, r] of this.#keys) {
      if (n >= policy.limit || (this.#keys.size <= policy.maxKeys && r.recordedAtMs >= policy.olderThanMs)) break;
      this.#keys.delete(key);
      n++;
    }
    return n;
  }
  async read(fromSeq: number, limit: number): Promise<OutboxRecord[]> {
    this.#assertOpen();
    return [...this.#events.values()].filter((r) => r.seq >= fromSeq).sort((a, b) => a.seq - b.seq).slice(0, limit);
  }
  async acknowledge(ack: ChainHead): Promise<number> {
    this.#assertOpen();
    if (ack.seq <= this.#acked.seq || ack.seq > this.#head.seq) return 0;
    const pruned = this.#pending.pruneUpTo(ack.seq);
    for (const seq of pruned) this.#events.delete(seq);
    this.#acked = { ...ack };
    this.#synced = true;
    return pruned.length;
  }
  async adoptBase(base: ChainHead): Promise<void> {
    this.#assertOpen();
    if (base.seq > this.#head.seq && this.#events.size === 0) {
      this.#head = { ...base };
      this.#acked = { ...base };
    }
    this.#synced = true;
  }
  async setAside(seq: number, code: string, message: string, atMs: number): Promise<boolean> {
    this.#assertOpen();
    const r = this.#events.get(seq);
    if (r === undefined) return false;
    this.#events.delete(seq);
    this.#pending.remove(seq);
    this.#rejects.set(seq, { ...r, code, message: message.slice(0, 512), rejectedAtMs: atMs });
    return true;
  }
  async rejected(limit: number): Promise<RejectedRecord[]> {
    this.#assertOpen();
    return [...this.#rejects.values()].sort((a, b) => a.seq - b.seq).slice(0, limit);
  }
  #assertOpen(): void {
    if (this.#state !== 'open') throw closed(this.#state);
  }
}

function closed(state: OutboxState): TillgateError {
  return new TillgateError(AGENT_ERROR_CODES.OUTBOX_CLOSED, `outbox is ${state}`);
}
