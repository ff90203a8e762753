/**
 * The LevelDB outbox (classic-level). Keyspaces (sublevels): `e` pending events by zero-padded seq,
 * `r` set-aside events by `seq:id` (a seq can be refused twice across re-sequences), `m` meta
 * (head, acked, synced), `k` idempotency records by key and `i` their age index by
 * `recordedAtMs:key` (so pruning reads the oldest first, never scans; seqs change when events are
 * re-sequenced, times do not). Outboxes written before keep their `r` and `i` entries keyed by seq:
 * those sort first and read the same. Every write is one batch; appends (with their idempotency
 * key), re-sequences and the reset base use `{ sync: true }`, so they survive a power cut, not
 * only a `kill -9`. Writes are serialized.
 * Every value is sealed at rest (AES-256-GCM, lib/at-rest) with the terminal's data key.
 */
import { ClassicLevel } from 'classic-level';
import { AtRestKeeper, SealCodec, sealedUtf8, WriteGate, type AtRestOptions, type AtRestStatus, type KeyProvider } from '../../lib/at-rest/index.js';
import { z } from 'zod';
import { EMPTY_HEAD, type ChainHead } from '../../protocol/chain.js';
import { TillgateError } from '../../protocol/errors.js';
import { AGENT_ERROR_CODES } from '../errors.js';
import {
  applyPrune, assertKeyFor, checkPlan, headAfter, judgeAck, PendingIndex, planPrune, prunedVerdict, rewindTargetOf, UNBOUNDED_RETENTION,
  type AckInput, type AckVerdict, type IdempotencyPrunePolicy, type IdempotencyRecord, type Outbox, type OutboxRecord, type OutboxState, type OutboxStats,
  type ResequencePlan, type RetentionPolicy, type SetAsidePage, type SetAsideRecord,
} from './outbox.js';

const headSchema = z.object({ seq: z.number().int().min(0), hash: z.string().max(64) });
/** `base` (the highest event deleted after an ack) is absent in outboxes written before retention: it is `acked` then. */
const metaSchema = z.object({ head: headSchema, acked: headSchema, base: headSchema.optional(), synced: z.boolean() });
type Meta = z.infer<typeof metaSchema> & { readonly base: ChainHead };
const recordSchema = z.object({
  seq: z.number().int().min(1),
  id: z.string().max(64),
  jws: z.string().max(16 * 1024),
  hash: z.string().max(64),
  exposureMinor: z.number().int().min(0),
  recordedAtMs: z.number(),
  idempotencyKey: z.string().min(1).max(128).optional(),
});
const rejectedSchema = recordSchema.extend({ code: z.string().max(64), message: z.string().max(512), rejectedAtMs: z.number() });
const idempotencySchema = z.object({
  key: z.string().min(1).max(128),
  id: z.string().max(64),
  seq: z.number().int().min(1),
  offline: z.boolean(),
  type: z.string().max(64),
  amount: z.number().int(),
  currency: z.string().max(16),
  recordedAtMs: z.number(),
  refusedCode: z.string().max(64).optional(),
});
const ageEntrySchema = z.object({ key: z.string().min(1).max(128), recordedAtMs: z.number() });

const META_KEY = 'meta';
const key = (seq: number): string => String(seq).padStart(16, '0');
/** Age index entry: time first (oldest first), the key after it (unique, as keys are). */
const ageKey = (recordedAtMs: number, k: string): string => `${key(Math.max(0, Math.floor(recordedAtMs)))}:${k}`;
/** Set-aside entry: seq first (listing order), the event id after it (unique). */
const asideKey = (seq: number, id: string): string => `${key(seq)}:${id}`;
/** Longest set-aside cursor accepted (a `seq:id` key). */
const MAX_CURSOR_CHARS = 128;

export class LevelOutbox implements Outbox {
  #state: OutboxState = 'new';
  readonly #db: ClassicLevel<string, string>;
  readonly #events;
  readonly #rejects;
  readonly #meta;
  readonly #keys;
  readonly #keyAges;
  #keyCount = 0;
  #m: Meta = { head: EMPTY_HEAD, acked: EMPTY_HEAD, base: EMPTY_HEAD, synced: false };
  readonly #pending = new PendingIndex();
  /** Acknowledged events kept until the cloud has them (seq <= acked). */
  readonly #retained = new PendingIndex();
  #rejectedCount = 0;
  /** Writes run one at a time, so each computes its meta from the one the previous write left. */
  #tail: Promise<unknown> = Promise.resolve();
  readonly #codec: SealCodec;
  readonly #gate = new WriteGate();
  readonly #atRestOptions: AtRestOptions;
  #atRest: AtRestKeeper | undefined;

  /** `keys`: the terminal's data keys for encryption at rest (a key file in its directory by default). */
  constructor(readonly location: string, keys: KeyProvider, atRest: AtRestOptions = {}) {
    this.#codec = new SealCodec(keys);
    this.#atRestOptions = atRest;
    this.#db = new ClassicLevel<string, string>(location, { valueEncoding: 'utf8' });
    const sealed = sealedUtf8(this.#codec);
    this.#events = this.#db.sublevel<string, string>('e', { valueEncoding: sealed });
    this.#rejects = this.#db.sublevel<string, string>('r', { valueEncoding: sealed });
    this.#meta = this.#db.sublevel<string, string>('m', { valueEncoding: sealed });
    this.#keys = this.#db.sublevel<string, string>('k', { valueEncoding: sealed });
    this.#keyAges = this.#db.sublevel<string, string>('i', { valueEncoding: sealed });
  }

  /** Encryption at rest: keys in use and the background re-encryption; undefined until open. */
  atRestStatus(): AtRestStatus | undefined {
    return this.#atRest?.status();
  }

  get state(): OutboxState {
    return this.#state;
  }

  async open(): Promise<void> {
    if (this.#state !== 'new' && this.#state !== 'closed') throw closedError(this.#state);
    this.#state = 'opening';
    try {
      await this.#db.open();
      // Before anything is read: every key the stored values need is at hand.
      this.#atRest = await AtRestKeeper.open(this.#db, this.#codec, this.#gate, this.#atRestOptions);
      const raw = await this.#meta.get(META_KEY);
      if (raw !== undefined) {
        const m = metaSchema.parse(JSON.parse(raw));
        this.#m = { ...m, base: m.base ?? m.acked };
      }
      // One scan of what is kept (bounded by maxOutboxEvents) rebuilds the exposure index: events
      // above the acked seq are pending, those at or below it retained for the cloud's sake.
      for await (const value of this.#events.values()) {
        const r = recordSchema.parse(JSON.parse(value));
        (r.seq <= this.#m.acked.seq ? this.#retained : this.#pending).add(r);
      }
      for await (const _ of this.#rejects.keys()) this.#rejectedCount++;
      // Bounded by maxIdempotencyKeys (100,000 by default: ~250 ms here, once per start).
      for await (const _ of this.#keyAges.keys()) this.#keyCount++;
    } catch (cause) {
      this.#state = 'closed';
      await this.#db.close().catch(() => undefined);
      if (cause instanceof TillgateError && cause.code.startsWith('AT_REST_')) throw cause;
      throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_IO, `cannot open outbox at ${this.location}`, { cause });
    }
    this.#state = 'open';
    // Re-seal values of an older key (or of a release before encryption at rest) in the background.
    void this.#atRest.start();
  }

  async close(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    await this.#atRest?.close();
    await this.#db.close();
    this.#state = 'closed';
  }

  head(): ChainHead {
    this.#assertOpen();
    return this.#m.head;
  }

  acked(): ChainHead {
    this.#assertOpen();
    return this.#m.acked;
  }

  base(): ChainHead {
    this.#assertOpen();
    return this.#m.base;
  }

  synced(): boolean {
    this.#assertOpen();
    return this.#m.synced;
  }

  stats(): OutboxStats {
    this.#assertOpen();
    return this.#pending.stats(this.#rejectedCount, this.#retained.size);
  }

  append(record: OutboxRecord, idempotency?: IdempotencyRecord): Promise<void> {
    return this.#serial(() => this.#append(record, idempotency));
  }

  async #append(record: OutboxRecord, idempotency: IdempotencyRecord | undefined): Promise<void> {
    this.#assertOpen();
    if (record.seq !== this.#m.head.seq + 1) {
      throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_SEQUENCE, `append seq ${record.seq} after head ${this.#m.head.seq}`);
    }
    const idem = idempotency === undefined ? undefined : idempotencySchema.parse(idempotency);
    // Checked before it is written. The record names its key, so a re-sequence can move it.
    const valid = recordSchema.parse(idem === undefined ? record : { ...record, idempotencyKey: idem.key });
    if (idem !== undefined) {
      assertKeyFor(valid, idem);
      if ((await this.#keys.get(idem.key)) !== undefined) {
        throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_SEQUENCE, 'idempotency key is already stored');
      }
    }
    const next: Meta = { ...this.#m, head: { seq: valid.seq, hash: valid.hash } };
    // One synced batch: the event and its idempotency key are durable together or not at all.
    await this.#write(true, (b) => {
      b.put(key(valid.seq), JSON.stringify(valid), { sublevel: this.#events });
      b.put(META_KEY, JSON.stringify(next), { sublevel: this.#meta });
      if (idem !== undefined) {
        b.put(idem.key, JSON.stringify(idem), { sublevel: this.#keys });
        b.put(ageKey(idem.recordedAtMs, idem.key), JSON.stringify({ key: idem.key, recordedAtMs: idem.recordedAtMs }), { sublevel: this.#keyAges });
      }
    });
    this.#m = next;
    this.#pending.add(valid);
    if (idem !== undefined) this.#keyCount++;
  }

  async idempotencyRecord(k: string): Promise<IdempotencyRecord | undefined> {
    this.#assertOpen();
    const raw = await this.#keys.get(k);
    return raw === undefined ? undefined : idempotencySchema.parse(JSON.parse(raw)); // checked as read back
  }

  idempotencyKeyCount(): number {
    this.#assertOpen();
    return this.#keyCount;
  }

  pruneIdempotencyKeys(policy: IdempotencyPrunePolicy): Promise<number> {
    return this.#serial(() => this.#pruneIdempotencyKeys(policy));
  }

  async #pruneIdempotencyKeys(policy: IdempotencyPrunePolicy): Promise<number> {
    this.#assertOpen();
    const doomed: { ageEntry: string; key: string }[] = [];
    for await (const [ageEntry, value] of this.#keyAges.iterator({ limit: policy.limit })) {
      const age = ageEntrySchema.parse(JSON.parse(value));
      const overCount = this.#keyCount - doomed.length > policy.maxKeys;
      // Key order is recording order: past the first young key the rest are younger (a clock stepped
      // back only keeps a few keys longer).
      if (!overCount && age.recordedAtMs >= policy.olderThanMs) break;
      doomed.push({ ageEntry, key: age.key });
    }
    if (doomed.length === 0) return 0;
    await this.#write(false, (b) => {
      for (const d of doomed) {
        b.del(d.ageEntry, { sublevel: this.#keyAges });
        b.del(d.key, { sublevel: this.#keys });
      }
    });
    this.#keyCount -= doomed.length;
    return doomed.length;
  }

  async read(fromSeq: number, limit: number): Promise<OutboxRecord[]> {
    this.#assertOpen();
    const out: OutboxRecord[] = [];
    for await (const value of this.#events.values({ gte: key(Math.max(1, fromSeq)), limit })) {
      out.push(recordSchema.parse(JSON.parse(value))); // ...and after it is read back
    }
    return out;
  }

  acknowledge(ack: AckInput, policy: RetentionPolicy = UNBOUNDED_RETENTION): Promise<AckVerdict> {
    return this.#serial(() => this.#acknowledge(ack, policy));
  }

  async #acknowledge(ack: AckInput, policy: RetentionPolicy): Promise<AckVerdict> {
    this.#assertOpen();
    const kept = { base: this.#m.base, retained: this.#retained };
    const verdict = judgeAck(ack, this.#m, this.#pending, kept);
    if (verdict === 'behind') return { kind: 'behind', to: { seq: ack.seq, hash: ack.hash } };
    if (verdict !== 'prune') return { kind: verdict };
    const plan = planPrune(ack, this.#m, this.#pending, kept, policy);
    if (plan.remove.length === 0 && plan.acked.seq === this.#m.acked.seq && this.#m.synced) return prunedVerdict(plan);
    const next: Meta = { ...this.#m, acked: plan.acked, base: plan.base, synced: true };
    // No fsync for an ack: losing the prune mark to a power cut only means resending events the
    // gateway answers as duplicates (DESIGN §3.3), and an fsync per ack would halve drain speed.
    await this.#write(false, (b) => {
      for (const s of plan.remove) b.del(key(s), { sublevel: this.#events });
      b.put(META_KEY, JSON.stringify(next), { sublevel: this.#meta });
    });
    this.#m = next;
    applyPrune(plan, this.#pending, this.#retained);
    return prunedVerdict(plan);
  }

  rewindTarget(seq: number): ChainHead | undefined {
    this.#assertOpen();
    return seq < this.#m.acked.seq ? rewindTargetOf(seq, { base: this.#m.base, retained: this.#retained }) : undefined;
  }

  rewind(to: ChainHead): Promise<number> {
    return this.#serial(() => this.#rewind(to));
  }

  async #rewind(to: ChainHead): Promise<number> {
    this.#assertOpen();
    const target = this.rewindTarget(to.seq);
    if (target === undefined || target.hash !== to.hash) {
      throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_SEQUENCE, `cannot rewind to seq ${to.seq}: not a retained event of this outbox`);
    }
    const next: Meta = { ...this.#m, acked: target };
    // Synced: after a power cut the outbox must still say these events are not acknowledged.
    await this.#write(true, (b) => b.put(META_KEY, JSON.stringify(next), { sublevel: this.#meta }));
    this.#m = next;
    const again = this.#retained.removeAbove(target.seq);
    this.#pending.reset([...again, ...this.#pending.items()]);
    return again.length;
  }

  adoptBase(base: ChainHead): Promise<void> {
    return this.#serial(() => this.#adoptBase(base));
  }

  async #adoptBase(base: ChainHead): Promise<void> {
    this.#assertOpen();
    const next: Meta =
      base.seq > this.#m.head.seq && this.#pending.stats(0).depth === 0
        ? { head: { ...base }, acked: { ...base }, base: this.#retained.size === 0 ? { ...base } : this.#m.base, synced: true }
        : { ...this.#m, synced: true };
    await this.#write(true, (b) => b.put(META_KEY, JSON.stringify(next), { sublevel: this.#meta }));
    this.#m = next;
  }

  resequence(plan: ResequencePlan): Promise<void> {
    return this.#serial(() => this.#resequence(plan));
  }

  async #resequence(plan: ResequencePlan): Promise<void> {
    this.#assertOpen();
    checkPlan(plan, this.#m, this.#pending);
    const moved = plan.moved.map((m) => ({ fromSeq: m.fromSeq, record: recordSchema.parse(m.record) })); // checked as read back
    // Delivered records are acknowledged now: kept as retained until the cloud has them, like any
    // acknowledged record (the next ack deletes what the cloud holds).
    const refused = plan.refused;
    let aside: SetAsideRecord | undefined;
    let refusedKey: IdempotencyRecord | undefined;
    if (refused !== undefined) {
      const raw = await this.#events.get(key(refused.seq));
      if (raw === undefined) throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_SEQUENCE, `refused seq ${refused.seq} is not stored`);
      const rec = recordSchema.parse(JSON.parse(raw));
      if (refused.outcome === 'set-aside') {
        aside = rejectedSchema.parse({ ...rec, code: refused.code, message: refused.message.slice(0, 512), rejectedAtMs: refused.atMs });
        const idem = await this.#keyRecordOf(rec.idempotencyKey, refused.seq, rec.id);
        if (idem !== undefined) refusedKey = { ...idem, refusedCode: refused.code };
      }
    }
    // Every moved payment's idempotency key follows it to its new seq (same id: DESIGN §3.2).
    // Read in two getMany calls, not one get per record: a move can carry maxOutboxEvents records.
    const idems = await this.#keyRecordsOf(moved.map((m) => ({ named: m.record.idempotencyKey ?? this.#pending.at(m.fromSeq)?.idempotencyKey, seq: m.fromSeq, id: m.record.id })));
    const keyed: IdempotencyRecord[] = [];
    const records: OutboxRecord[] = moved.map((m, i) => {
      const idem = idems[i];
      if (idem === undefined) return m.record;
      keyed.push({ ...idem, seq: m.record.seq });
      return { ...m.record, idempotencyKey: idem.key };
    });
    const next: Meta = { head: headAfter(plan), acked: { seq: plan.base.seq, hash: plan.base.hash }, base: this.#m.base, synced: true };
    // ONE synced batch: a kill -9 or power cut leaves the old chain or the new one, never a mix.
    await this.#write(true, (b) => {
      if (refused !== undefined) b.del(key(refused.seq), { sublevel: this.#events });
      for (const m of moved) b.del(key(m.fromSeq), { sublevel: this.#events });
      // Puts after every delete: a new seq may be an old one (LevelDB applies a batch in order).
      for (const r of records) b.put(key(r.seq), JSON.stringify(r), { sublevel: this.#events });
      if (aside !== undefined) b.put(asideKey(aside.seq, aside.id), JSON.stringify(aside), { sublevel: this.#rejects });
      if (refusedKey !== undefined) b.put(refusedKey.key, JSON.stringify(refusedKey), { sublevel: this.#keys });
      for (const k of keyed) b.put(k.key, JSON.stringify(k), { sublevel: this.#keys });
      b.put(META_KEY, JSON.stringify(next), { sublevel: this.#meta });
    });
    this.#m = next;
    for (const r of this.#pending.removeUpTo(plan.deliveredUpTo)) this.#retained.add(r);
    this.#pending.reset(records);
    if (aside !== undefined) this.#rejectedCount++;
  }

  /**
   * The idempotency record of an event: by the key the record names, or for a record appended by an
   * older agent (no key in it) by the age index entry it wrote under the event's seq.
   */
  async #keyRecordOf(named: string | undefined, seq: number, id: string): Promise<IdempotencyRecord | undefined> {
    return (await this.#keyRecordsOf([{ named, seq, id }]))[0];
  }

  async #keyRecordsOf(events: readonly { named: string | undefined; seq: number; id: string }[]): Promise<(IdempotencyRecord | undefined)[]> {
    const legacy = events.filter((e) => e.named === undefined);
    const legacyAges = legacy.length === 0 ? [] : await this.#keyAges.getMany(legacy.map((e) => key(e.seq)));
    const legacyKey = new Map(legacy.map((e, i) => [e.seq, legacyAges[i]]));
    const names = events.map((e) => {
      if (e.named !== undefined) return e.named;
      const age = legacyKey.get(e.seq);
      return age === undefined ? undefined : ageEntrySchema.parse(JSON.parse(age)).key;
    });
    const wanted = names.filter((k): k is string => k !== undefined);
    const raws = wanted.length === 0 ? [] : await this.#keys.getMany(wanted);
    const byKey = new Map(wanted.map((k, i) => [k, raws[i]]));
    return events.map((e, i) => {
      const k = names[i];
      const raw = k === undefined ? undefined : byKey.get(k);
      if (raw === undefined) return undefined;
      const idem = idempotencySchema.parse(JSON.parse(raw)); // checked as read back
      return idem.id === e.id ? idem : undefined;
    });
  }

  async listSetAside(limit: number, after?: string): Promise<SetAsidePage> {
    this.#assertOpen();
    if (after !== undefined && after.length > MAX_CURSOR_CHARS) throw new TypeError('set-aside cursor too long');
    const out: SetAsideRecord[] = [];
    const keys: string[] = [];
    for await (const [k, value] of this.#rejects.iterator({ ...(after === undefined ? {} : { gt: after }), limit: limit + 1 })) {
      keys.push(k);
      out.push(rejectedSchema.parse(JSON.parse(value)));
    }
    if (out.length <= limit) return { records: out };
    out.pop();
    return { records: out, next: keys[limit - 1]! };
  }

  async setAsideAbove(seq: number, limit: number): Promise<number> {
    this.#assertOpen();
    let n = 0;
    for await (const _ of this.#rejects.keys({ gte: key(seq + 1), limit })) n++;
    return n;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #write(sync: boolean, fill: (b: ReturnType<ClassicLevel<string, string>['batch']>) => void): Promise<void> {
    const batch = this.#db.batch();
    fill(batch);
    try {
      await this.#gate.shared(() => batch.write({ sync }));
    } catch (cause) {
      throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_IO, 'outbox write failed', { cause });
    }
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw closedError(this.#state);
  }
}

function closedError(state: OutboxState): TillgateError {
  return new TillgateError(AGENT_ERROR_CODES.OUTBOX_CLOSED, `outbox is ${state}`);
}
