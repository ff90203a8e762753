/**
 * An in-memory outbox: NOT durable, for unit tests of the publisher and simulator logic only. It
 * passes the same conformance suite as the LevelDB outbox (test/terminal-agent/outbox-conformance.ts).
 */
import { EMPTY_HEAD, type ChainHead } from '../../protocol/chain.js';
import { TillgateError } from '../../protocol/errors.js';
import { AGENT_ERROR_CODES } from '../errors.js';
import {
  applyPrune, assertKeyFor, checkPlan, headAfter, judgeAck, PendingIndex, planPrune, prunedVerdict, rewindTargetOf, UNBOUNDED_RETENTION,
  type AckInput, type AckVerdict, type IdempotencyPrunePolicy, type IdempotencyRecord, type Outbox, type OutboxRecord, type OutboxState, type OutboxStats,
  type ResequencePlan, type RetentionPolicy, type SetAsidePage, type SetAsideRecord,
} from './outbox.js';

/** Same order as the LevelDB outbox's set-aside keys: seq, then id. */
const asideKey = (seq: number, id: string): string => `${String(seq).padStart(16, '0')}:${id}`;

export class MemoryOutbox implements Outbox {
  #state: OutboxState = 'new';
  #head: ChainHead = EMPTY_HEAD;
  #acked: ChainHead = EMPTY_HEAD;
  #base: ChainHead = EMPTY_HEAD;
  #synced = false;
  readonly #events = new Map<number, OutboxRecord>();
  readonly #aside = new Map<string, SetAsideRecord>();
  readonly #pending = new PendingIndex();
  readonly #retained = new PendingIndex();
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
  base(): ChainHead {
    this.#assertOpen();
    return this.#base;
  }
  synced(): boolean {
    this.#assertOpen();
    return this.#synced;
  }
  stats(): OutboxStats {
    this.#assertOpen();
    return this.#pending.stats(this.#aside.size, this.#retained.size);
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
  async acknowledge(ack: AckInput, policy: RetentionPolicy = UNBOUNDED_RETENTION): Promise<AckVerdict> {
    this.#assertOpen();
    const meta = { head: this.#head, acked: this.#acked };
    const kept = { base: this.#base, retained: this.#retained };
    const verdict = judgeAck(ack, meta, this.#pending, kept);
    if (verdict === 'behind') return { kind: 'behind', to: { seq: ack.seq, hash: ack.hash } };
    if (verdict !== 'prune') return { kind: verdict };
    const plan = planPrune(ack, meta, this.#pending, kept, policy);
    for (const seq of plan.remove) this.#events.delete(seq);
    this.#acked = plan.acked;
    this.#base = plan.base;
    this.#synced = true;
    applyPrune(plan, this.#pending, this.#retained);
    return prunedVerdict(plan);
  }
  rewindTarget(seq: number): ChainHead | undefined {
    this.#assertOpen();
    return seq < this.#acked.seq ? rewindTargetOf(seq, { base: this.#base, retained: this.#retained }) : undefined;
  }
  async rewind(to: ChainHead): Promise<number> {
    this.#assertOpen();
    const target = this.rewindTarget(to.seq);
    if (target === undefined || target.hash !== to.hash) {
      throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_SEQUENCE, `cannot rewind to seq ${to.seq}: not a retained event of this outbox`);
    }
    this.#acked = target;
    const again = this.#retained.removeAbove(target.seq);
    this.#pending.reset([...again, ...this.#pending.items()]);
    return again.length;
  }
  async adoptBase(base: ChainHead): Promise<void> {
    this.#assertOpen();
    if (base.seq > this.#head.seq && this.#pending.size === 0) {
      this.#head = { ...base };
      this.#acked = { ...base };
      if (this.#retained.size === 0) this.#base = { ...base };
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
    for (const item of this.#pending.items()) if (item.seq > plan.deliveredUpTo) this.#events.delete(item.seq);
    for (const r of records) this.#events.set(r.seq, r);
    // Delivered records are acknowledged now: retained until the cloud has them.
    for (const r of this.#pending.removeUpTo(plan.deliveredUpTo)) this.#retained.add(r);
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
