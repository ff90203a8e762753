/**
 * An in-memory outbox: NOT durable, for unit tests of the publisher and simulator logic only. It
 * passes the same conformance suite as the LevelDB outbox (test/terminal-agent/outbox-conformance.ts).
 */
import { EMPTY_HEAD, type ChainHead } from '../../protocol/chain.js';
import { TillgateError } from '../../protocol/errors.js';
import { AGENT_ERROR_CODES } from '../errors.js';
import {
  assertKeyFor, checkPlan, headAfter, judgeAck, PendingIndex, type AckVerdict, type IdempotencyPrunePolicy, type IdempotencyRecord, type Outbox, type OutboxRecord,
  type OutboxState, type OutboxStats, type ResequencePlan, type SetAsidePage, type SetAsideRecord,
} from './outbox.js';

/** Same order as the LevelDB outbox's set-aside keys: seq, then id. */
const asideKey = (seq: number, id: string): string => `${String(seq).padStart(16, '0')}:${id}`;

export class MemoryOutbox implements Outbox {
  #state: OutboxState = 'new';
  #head: ChainHead = EMPTY_HEAD;
  #acked: ChainHead = EMPTY_HEAD;
  #synced = false;
  readonly #events = new Map<number, OutboxRecord>();
  readonly #aside = new Map<string, SetAsideRecord>();
  readonly #pending = new PendingIndex();
  /** Insertion order is recording order, so the first entries are the oldest. */
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
    return this.#pending.stats(this.#aside.size);
  }
  async append(record: OutboxRecord, idempotency?: IdempotencyRecord): Promise<void> {
    this.#assertOpen();
    if (record.seq !== this.#head.seq + 1) throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_SEQUENCE, `append seq ${record.seq} after head ${this.#head.seq}`);
    if (idempotency !== undefined) {
      assertKeyFor(record, idempotency);
      if (this.#keys.has(idempotency.key)) throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_SEQUENCE, 'idempotency key is already stored');
      this.#keys.set(idempotency.key, { ...idempotency });
    }
    const stored = idempotency === undefined ? { ...record } : { ...record, idempotencyKey: idempotency.key };
    this.#events.set(record.seq, stored);
    this.#pending.add(stored);
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
  async acknowledge(ack: ChainHead): Promise<AckVerdict> {
    this.#assertOpen();
    const verdict = judgeAck(ack, { head: this.#head, acked: this.#acked }, this.#pending);
    if (verdict !== 'prune') return { kind: verdict };
    const pruned = this.#pending.pruneUpTo(ack.seq);
    for (const seq of pruned) this.#events.delete(seq);
    this.#acked = { ...ack };
    this.#synced = true;
    return { kind: 'pruned', count: pruned.length };
  }
  async adoptBase(base: ChainHead): Promise<void> {
    this.#assertOpen();
    if (base.seq > this.#head.seq && this.#events.size === 0) {
      this.#head = { ...base };
      this.#acked = { ...base };
    }
    this.#synced = true;
  }
  async resequence(plan: ResequencePlan): Promise<void> {
    this.#assertOpen();
    checkPlan(plan, { head: this.#head, acked: this.#acked }, this.#pending);
    const refused = plan.refused;
    if (refused !== undefined) {
      const rec = this.#events.get(refused.seq)!;
      if (refused.outcome === 'set-aside') {
        this.#aside.set(asideKey(rec.seq, rec.id), { ...rec, code: refused.code, message: refused.message.slice(0, 512), rejectedAtMs: refused.atMs });
        const idem = this.#keyOf(rec);
        if (idem !== undefined) this.#keys.set(idem.key, { ...idem, refusedCode: refused.code });
      }
    }
    const records = plan.moved.map((m) => {
      const old = this.#events.get(m.fromSeq)!;
      const key = m.record.idempotencyKey ?? old.idempotencyKey;
      return key === undefined ? { ...m.record } : { ...m.record, idempotencyKey: key };
    });
    for (const r of records) {
      const idem = this.#keyOf(r);
      if (idem !== undefined) this.#keys.set(idem.key, { ...idem, seq: r.seq });
    }
    this.#events.clear();
    for (const r of records) this.#events.set(r.seq, r);
    this.#pending.reset(records);
    this.#head = headAfter(plan);
    this.#acked = { seq: plan.base.seq, hash: plan.base.hash };
    this.#synced = true;
  }
  async listSetAside(limit: number, after?: string): Promise<SetAsidePage> {
    this.#assertOpen();
    const keys = [...this.#aside.keys()].sort().filter((k) => after === undefined || k > after);
    const page = keys.slice(0, limit);
    const records = page.map((k) => ({ ...this.#aside.get(k)! }));
    return keys.length > limit ? { records, next: page[page.length - 1]! } : { records };
  }
  async setAsideAbove(seq: number, limit: number): Promise<number> {
    this.#assertOpen();
    return Math.min(limit, [...this.#aside.values()].filter((r) => r.seq > seq).length);
  }
  #keyOf(r: OutboxRecord): IdempotencyRecord | undefined {
    const idem = r.idempotencyKey === undefined ? undefined : this.#keys.get(r.idempotencyKey);
    return idem !== undefined && idem.id === r.id ? idem : undefined;
  }
  #assertOpen(): void {
    if (this.#state !== 'open') throw closed(this.#state);
  }
}

function closed(state: OutboxState): TillgateError {
  return new TillgateError(AGENT_ERROR_CODES.OUTBOX_CLOSED, `outbox is ${state}`);
}
