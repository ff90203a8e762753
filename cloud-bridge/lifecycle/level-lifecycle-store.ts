/**
 * The embedded cloud's lifecycle storage on LevelDB (classic-level): `PaymentStore` and
 * `WebhookInbox` over one database, so the inbox follower's cursor and the payments it changes go
 * in one synced batch.
 *
 * Its own directory, not sublevels of the ledger's database: the ledger holds its directory's LOCK
 * behind the `Ledger` interface (the PostgreSQL ledger shares no handle either), and nothing here
 * needs to be atomic with a ledger write — the lifecycle follows the ledger's feed with its own
 * cursor, and that cursor moves in the same batch as the payments it changed. A separate database
 * also keeps the lifecycle's fsyncs and compactions off the ingest path's database.
 *
 * Keyspaces: `pay` id → payment; `idx` the indexes below; `upd` store!seq → update record; `meta`
 * cursors, per-store counters and update sequences; `inbox` position → entry; `inboxKey` dedup key →
 * position. Index keys: `s!store!id` (a store's payments), `S!store!state!id`, `p!id` (pending),
 * `c!capturedAt!id` (state captured), `lc!chargedAt!id` and `la!authorisedAt!id` (latency samples).
 * Cursors, counters, update sequences and the inbox head are small and read once at open.
 */
import { createHash } from 'node:crypto';
import { ClassicLevel, type BatchOptions } from 'classic-level';
import type { AbstractBatchOperation, AbstractSublevel } from 'abstract-level';
import { z } from 'zod';
import { AtRestKeeper, SealCodec, sealedJson, WriteGate, type AtRestOptions, type AtRestStatus, type KeyProvider } from '../../lib/at-rest/index.js';
import { TillgateError, hasCode } from '../../protocol/errors.js';
import { notificationRequestItemSchema, type NotificationRequestItem } from '../../protocol/adyen.js';
import { KeyedLock } from '../keyed-lock.js';
import type { Payment, PaymentState } from './machine.js';
import {
  CURSOR_NAMES,
  DEFAULT_UPDATES_KEEP_PER_STORE,
  isNewsForStore,
  LIFECYCLE_ERROR_CODES as E,
  MAX_APPLY_PAYMENTS,
  samplesOf,
  storedPaymentSchema,
  updateOf,
  type ApplyOutcome,
  type ApplyRequest,
  type CursorName,
  type Decide,
  type LatencySample,
  type LifecycleStoreState,
  type PaymentChange,
  type PaymentStore,
  type StoreCounters,
  type StoredUpdate,
  CallerError,
  checkId,
  checkLimit,
  checkPayment,
} from './payment-store.js';
import { inboxKey, MAX_INBOX_ACCEPT, MAX_INBOX_ITEM_BYTES, MAX_INBOX_READ, type AcceptOutcome, type InboxEntry, type WebhookInbox } from './webhook-inbox.js';

type Db = ClassicLevel<string, unknown>;

/** Items one synced inbox write holds at most: a few MB of notifications. */
const MAX_INBOX_GROUP_ITEMS = 2_000;

interface PendingAccept {
  readonly items: readonly NotificationRequestItem[];
  readonly live: boolean;
  readonly receivedAtMs: number;
  readonly resolve: (outcomes: AcceptOutcome[]) => void;
  readonly reject: (err: unknown) => void;
}
type Sub = AbstractSublevel<Db, string | Buffer | Uint8Array, string, unknown>;
type Op = AbstractBatchOperation<Db, string, unknown>;
/** classic-level's own option type: the fsync cannot be dropped by a cast (DESIGN §4). */
const SYNCED: BatchOptions<string, unknown> = { sync: true };

const DIGITS = 16;
const pad = (n: number) => String(n).padStart(DIGITS, '0');
/** '"' sorts right after '!': `prefix!` … `prefix"` bounds every key under `prefix!`. */
const upper = (prefix: string) => `${prefix.slice(0, -1)}"`;

export interface LevelLifecycleOptions {
  /** Directory of the lifecycle's LevelDB; created if missing. One process per directory. */
  readonly dataDir: string;
  readonly updatesKeepPerStore?: number;
  /** Data keys for encryption at rest: every value is sealed (lib/at-rest), like the ledger's. */
  readonly keys: KeyProvider;
  /** Pace of the background re-encryption after a key rotation. */
  readonly atRest?: AtRestOptions;
}

/** Opens (creating if needed) the lifecycle database. LIFECYCLE_LOCKED when another process has it. */
export async function openLevelLifecycleStore(options: LevelLifecycleOptions): Promise<LevelLifecycleStore> {
  const db: Db = new ClassicLevel<string, unknown>(options.dataDir, { keyEncoding: 'utf8', valueEncoding: 'json' });
  try {
    await db.open();
  } catch (cause) {
    const locked = hasCode(cause, 'LEVEL_LOCKED') || hasCode((cause as { cause?: unknown }).cause, 'LEVEL_LOCKED');
    if (locked) throw new TillgateError(E.locked, `lifecycle directory ${options.dataDir} is held by another process`, { cause });
    throw new TillgateError(E.io, `cannot open the lifecycle store in ${options.dataDir}`, { cause });
  }
  try {
    const codec = new SealCodec(options.keys);
    const gate = new WriteGate();
    // Before anything is read: every key the stored values need is at hand.
    const atRest = await AtRestKeeper.open(db, codec, gate, options.atRest);
    const store = new LevelLifecycleStore(db, options.updatesKeepPerStore ?? DEFAULT_UPDATES_KEEP_PER_STORE, codec, gate, atRest);
    await store.load();
    void atRest.start();
    return store;
  } catch (err) {
    await db.close();
    throw err;
  }
}

const countersSchema = z.object({
  byState: z.record(z.string(), z.number().int().min(0)),
  charged: z.number().int().min(0),
  optimisticCharged: z.number().int().min(0),
  contradicted: z.number().int().min(0),
});
type Counters = { byState: Partial<Record<PaymentState, number>>; charged: number; optimisticCharged: number; contradicted: number };
const emptyCounters = (): Counters => ({ byState: {}, charged: 0, optimisticCharged: 0, contradicted: 0 });

const sampleSchema = z.object({ id: z.string(), store: z.string(), seconds: z.number().min(0), clamped: z.boolean(), chargedBy: z.enum(['optimistic', 'authorisation']).optional() });
const updateSchema = z.object({
  seq: z.number().int().min(1), terminal: z.string(), id: z.string(), terminalSeq: z.number().int().min(1),
  state: z.enum(['pending', 'captured', 'authorised', 'refused', 'cancelled', 'inconsistent']), charged: z.boolean(), contradicted: z.boolean(),
});
const inboxEntrySchema = z.object({
  position: z.number().int().min(1), key: z.string(), receivedAtMs: z.number().int().min(0), live: z.boolean(), item: notificationRequestItemSchema,
});

export class LevelLifecycleStore implements PaymentStore, WebhookInbox {
  #state: LifecycleStoreState = 'opening';
  #inflight = 0;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  readonly #db: Db;
  readonly #keep: number;
  readonly #pay: Sub;
  readonly #idx: Sub;
  readonly #upd: Sub;
  readonly #meta: Sub;
  readonly #inbox: Sub;
  readonly #inboxKeys: Sub;
  /** Writes of payments (and cursors, counters, updates) one at a time; the inbox has its own. */
  readonly #lock = new KeyedLock();
  readonly #cursors = new Map<CursorName, number>();
  readonly #counters = new Map<string, Counters>();
  readonly #updSeq = new Map<string, number>();
  #inboxHead = 0;
  readonly #accepts: PendingAccept[] = [];
  #writingAccepts = false;

  readonly #gate: WriteGate;
  readonly #atRest: AtRestKeeper;

  constructor(db: Db, keepPerStore: number, codec: SealCodec, gate: WriteGate, atRest: AtRestKeeper) {
    this.#db = db;
    this.#keep = keepPerStore;
    this.#gate = gate;
    this.#atRest = atRest;
    const sealed = sealedJson(codec);
    const sub = (name: string) => db.sublevel<string, unknown>(name, { valueEncoding: sealed });
    this.#pay = sub('pay');
    this.#idx = sub('idx');
    this.#upd = sub('upd');
    this.#meta = sub('meta');
    this.#inbox = sub('inbox');
    this.#inboxKeys = sub('inboxKey');
  }

  get state(): LifecycleStoreState {
    return this.#state;
  }

  /** Encryption at rest: keys in use and the background re-encryption. */
  atRestStatus(): AtRestStatus {
    return this.#atRest.status();
  }

  /** Reads the small keyspaces into memory (no scan of payments or the inbox). */
  async load(): Promise<void> {
    for (const name of CURSOR_NAMES) {
      const v = await this.#meta.get(`cursor!${name}`);
      this.#cursors.set(name, v === undefined ? 0 : checkInt(v, `cursor ${name}`));
    }
    for await (const [key, value] of this.#meta.iterator({ gte: 'counters!', lt: 'counters"' })) {
      const parsed = countersSchema.safeParse(value);
      if (!parsed.success) throw new TillgateError(E.corrupt, `stored counters ${key} are malformed`);
      this.#counters.set(key.slice('counters!'.length), parsed.data as Counters);
    }
    for await (const [key, value] of this.#meta.iterator({ gte: 'updseq!', lt: 'updseq"' })) {
      this.#updSeq.set(key.slice('updseq!'.length), checkInt(value, key));
    }
    for await (const [key] of this.#inbox.iterator({ reverse: true, limit: 1 })) this.#inboxHead = Number(key);
    this.#state = 'open';
  }

  // ---- PaymentStore ---------------------------------------------------------------------------

  cursor(name: CursorName): Promise<number> {
    return this.#run(async () => this.#cursors.get(name) ?? 0);
  }

  apply(request: ApplyRequest, decide: Decide): Promise<ApplyOutcome> {
    if (request.ids.length > MAX_APPLY_PAYMENTS) throw new TypeError(`at most ${MAX_APPLY_PAYMENTS} payments per apply`);
    for (const id of request.ids) checkId(id);
    const c = request.cursor;
    if (c !== undefined && (!Number.isSafeInteger(c.from) || !Number.isSafeInteger(c.to) || c.from < 0 || c.to <= c.from)) {
      throw new TypeError('a cursor only moves forward');
    }
    return this.#run(() => this.#lock.withKeys(['payments'], () => this.#applyLocked(request, decide)));
  }

  get(id: string): Promise<Payment | undefined> {
    checkId(id);
    return this.#run(async () => {
      const v = await this.#pay.get(id);
      return v === undefined ? undefined : checkPayment(v, id);
    });
  }

  listByStore(store: string, o: { state?: PaymentState; afterId?: string; limit: number }): Promise<Payment[]> {
    checkLimit(o.limit);
    const prefix = o.state === undefined ? `s!${store}!` : `S!${store}!${o.state}!`;
    return this.#run(() => this.#paymentsOfIndex(prefix, o.afterId ?? '', o.limit));
  }

  listPending(afterId: string, limit: number): Promise<Payment[]> {
    checkLimit(limit);
    return this.#run(() => this.#paymentsOfIndex('p!', afterId, limit));
  }

  listCapturedBefore(beforeMs: number, limit: number): Promise<Payment[]> {
    checkLimit(limit);
    return this.#run(async () => {
      const ids: string[] = [];
      for await (const key of this.#idx.keys({ gt: 'c!', lt: `c!${pad(Math.max(0, beforeMs))}`, limit })) ids.push(key.slice(key.lastIndexOf('!') + 1));
      return this.#getMany(ids);
    });
  }

  readUpdates(store: string, afterSeq: number, limit: number): Promise<{ head: number; updates: StoredUpdate[] }> {
    checkLimit(limit);
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new TypeError('afterSeq must be an integer >= 0');
    return this.#run(async () => {
      const head = this.#updSeq.get(store) ?? 0;
      const updates: StoredUpdate[] = [];
      for await (const [key, value] of this.#upd.iterator({ gt: `${store}!${pad(afterSeq)}`, lt: `${store}"`, limit })) {
        const parsed = updateSchema.safeParse(value);
        if (!parsed.success) throw new TillgateError(E.corrupt, `stored update ${key} is malformed`);
        updates.push(parsed.data);
      }
      return { head, updates };
    });
  }

  counters(): Promise<StoreCounters[]> {
    return this.#run(async () =>
      [...this.#counters.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([store, c]) => ({ store, byState: { ...c.byState }, charged: c.charged, optimisticCharged: c.optimisticCharged, contradicted: c.contradicted })),
    );
  }

  recentLatencies(limit: number): Promise<{ successToCharged: LatencySample[]; successToAuthorised: LatencySample[] }> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1_000_000) throw new TypeError('limit must be 1..1000000');
    return this.#run(async () => ({ successToCharged: await this.#samples('lc!', limit), successToAuthorised: await this.#samples('la!', limit) }));
  }

  // ---- WebhookInbox ---------------------------------------------------------------------------

  accept(items: readonly NotificationRequestItem[], live: boolean, receivedAtMs: number): Promise<AcceptOutcome[]> {
    if (items.length > MAX_INBOX_ACCEPT) throw new TypeError(`at most ${MAX_INBOX_ACCEPT} items per accept`);
    if (!Number.isSafeInteger(receivedAtMs) || receivedAtMs < 0) throw new TypeError('receivedAtMs must be ms since the epoch');
    for (const item of items) {
      if (Buffer.byteLength(JSON.stringify(item)) > MAX_INBOX_ITEM_BYTES) throw new TypeError(`an inbox item is larger than ${MAX_INBOX_ITEM_BYTES} bytes`);
    }
    if (items.length === 0) return this.#run(async () => []);
    return this.#run(() => new Promise<AcceptOutcome[]>((resolve, reject) => {
      this.#accepts.push({ items, live, receivedAtMs, resolve, reject });
      void this.#writeAccepts();
    }));
  }

  /**
   * Group commit of the inbox: accepts that arrive while a write is in progress go together into
   * the next synced batch (at most MAX_INBOX_GROUP_ITEMS items), each answered once its batch is
   * durable. Concurrent webhooks then share an fsync instead of waiting for one each.
   */
  async #writeAccepts(): Promise<void> {
    if (this.#writingAccepts) return;
    this.#writingAccepts = true;
    try {
      while (this.#accepts.length > 0) {
        const group: PendingAccept[] = [];
        let n = 0;
        while (this.#accepts.length > 0 && (group.length === 0 || n + (this.#accepts[0] as PendingAccept).items.length <= MAX_INBOX_GROUP_ITEMS)) {
          const next = this.#accepts.shift() as PendingAccept;
          n += next.items.length;
          group.push(next);
        }
        try {
          const outcomes = await this.#acceptGroup(group);
          group.forEach((g, i) => g.resolve(outcomes[i] as AcceptOutcome[]));
        } catch (err) {
          for (const g of group) g.reject(err);
        }
      }
    } finally {
      this.#writingAccepts = false;
    }
  }

  async #acceptGroup(group: readonly PendingAccept[]): Promise<AcceptOutcome[][]> {
    const keys = group.flatMap((g) => g.items.map(inboxKey));
    const stored = await this.#inboxKeys.getMany(keys.map(hiddenKey));
    const seen = new Set<string>();
    const ops: Op[] = [];
    let head = this.#inboxHead;
    let k = 0;
    const outcomes = group.map((g) => g.items.map((item): AcceptOutcome => {
      const key = keys[k] as string;
      const before = stored[k++];
      if (before !== undefined || seen.has(key)) return 'duplicate';
      seen.add(key);
      const entry: InboxEntry = { position: ++head, key, receivedAtMs: g.receivedAtMs, live: g.live, item };
      ops.push({ type: 'put', sublevel: this.#inbox, key: pad(entry.position), value: entry });
      ops.push({ type: 'put', sublevel: this.#inboxKeys, key: hiddenKey(key), value: entry.position });
      return 'stored';
    }));
    if (ops.length > 0) await this.#gate.shared(() => this.#db.batch(ops, SYNCED));
    this.#inboxHead = head;
    return outcomes;
  }

  read(afterPosition: number, limit: number): Promise<InboxEntry[]> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_INBOX_READ) throw new TypeError(`limit must be 1..${MAX_INBOX_READ}`);
    if (!Number.isSafeInteger(afterPosition) || afterPosition < 0) throw new TypeError('afterPosition must be an integer >= 0');
    return this.#run(async () => {
      const out: InboxEntry[] = [];
      for await (const [key, value] of this.#inbox.iterator({ gt: pad(afterPosition), limit })) {
        const parsed = inboxEntrySchema.safeParse(value);
        if (!parsed.success || parsed.data.position !== Number(key)) throw new TillgateError(E.corrupt, `stored inbox entry ${key} is malformed`);
        out.push(parsed.data);
      }
      return out;
    });
  }

  head(): Promise<number> {
    return this.#run(async () => this.#inboxHead);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing';
      if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      await this.#atRest.close();
      try {
        await this.#db.close();
      } finally {
        this.#state = 'closed';
      }
    })();
    return this.#closing;
  }

  // ---- internals -------------------------------------------------------------------------------

  async #applyLocked(request: ApplyRequest, decide: Decide): Promise<ApplyOutcome> {
    const c = request.cursor;
    if (c !== undefined) {
      const now = this.#cursors.get(c.name) ?? 0;
      if (now !== c.from) return { kind: 'stale', cursor: now };
    }
    const ids = [...new Set(request.ids)];
    const current = new Map<string, Payment>();
    (await this.#pay.getMany(ids)).forEach((v, i) => {
      if (v !== undefined) current.set(ids[i] as string, checkPayment(v, ids[i] as string));
    });
    let next: readonly Payment[];
    try {
      next = decide(current);
    } catch (err) {
      throw new CallerError(err);
    }
    const ops: Op[] = [];
    const counters = new Map<string, Counters>();
    const updSeq = new Map<string, number>();
    const changes: PaymentChange[] = [];
    const written = new Set<string>();
    for (const after of next) {
      if (!ids.includes(after.id) || written.has(after.id)) throw new TypeError(`decide returned payment ${after.id} it was not asked about, or twice`);
      written.add(after.id);
      // Checked before it is written, as it will be when read.
      const valid = storedPaymentSchema.safeParse(after);
      if (!valid.success) throw new TypeError(`decide returned a malformed payment ${after.id}`);
      const before = current.get(after.id);
      changes.push({ before, after });
      ops.push({ type: 'put', sublevel: this.#pay, key: after.id, value: after });
      this.#indexOps(ops, before, after);
      this.#countOps(counters, before, after);
      if (isNewsForStore(before, after)) {
        const store = (after.event as NonNullable<Payment['event']>).store;
        const seq = (updSeq.get(store) ?? this.#updSeq.get(store) ?? 0) + 1;
        updSeq.set(store, seq);
        const u = updateOf(after) as Omit<StoredUpdate, 'seq'>;
        ops.push({ type: 'put', sublevel: this.#upd, key: `${store}!${pad(seq)}`, value: { seq, ...u } });
        // One delete per insert keeps exactly `keep` records per store.
        if (seq > this.#keep) ops.push({ type: 'del', sublevel: this.#upd, key: `${store}!${pad(seq - this.#keep)}` });
      }
    }
    for (const [store, counts] of counters) ops.push({ type: 'put', sublevel: this.#meta, key: `counters!${store}`, value: counts });
    for (const [store, seq] of updSeq) ops.push({ type: 'put', sublevel: this.#meta, key: `updseq!${store}`, value: seq });
    if (c !== undefined) ops.push({ type: 'put', sublevel: this.#meta, key: `cursor!${c.name}`, value: c.to });
    if (ops.length > 0) await this.#gate.shared(() => this.#db.batch(ops, SYNCED));
    // Memory follows the disk only once the batch is durable.
    for (const [store, counts] of counters) this.#counters.set(store, counts);
    for (const [store, seq] of updSeq) this.#updSeq.set(store, seq);
    if (c !== undefined) this.#cursors.set(c.name, c.to);
    return { kind: 'applied', changes };
  }

  #indexOps(ops: Op[], before: Payment | undefined, after: Payment): void {
    const old = before === undefined ? new Map<string, unknown>() : indexEntriesOf(before);
    const now = indexEntriesOf(after);
    for (const key of old.keys()) if (!now.has(key)) ops.push({ type: 'del', sublevel: this.#idx, key });
    for (const [key, value] of now) {
      if (!old.has(key) || JSON.stringify(old.get(key)) !== JSON.stringify(value)) ops.push({ type: 'put', sublevel: this.#idx, key, value });
    }
  }

  #countOps(staged: Map<string, Counters>, before: Payment | undefined, after: Payment): void {
    const adjust = (p: Payment, sign: 1 | -1) => {
      const store = p.event?.store ?? '';
      const c = staged.get(store) ?? structuredClone(this.#counters.get(store) ?? emptyCounters());
      c.byState[p.state] = (c.byState[p.state] ?? 0) + sign;
      if (c.byState[p.state] === 0) delete c.byState[p.state];
      if (p.charged) c.charged += sign;
      if (p.chargedBy === 'optimistic') c.optimisticCharged += sign;
      if (p.contradicted) c.contradicted += sign;
      staged.set(store, c);
    };
    if (before !== undefined) adjust(before, -1);
    adjust(after, 1);
  }

  async #paymentsOfIndex(prefix: string, afterId: string, limit: number): Promise<Payment[]> {
    const ids: string[] = [];
    for await (const key of this.#idx.keys({ gt: `${prefix}${afterId}`, lt: upper(prefix), limit })) ids.push(key.slice(prefix.length));
    return this.#getMany(ids);
  }

  async #getMany(ids: string[]): Promise<Payment[]> {
    if (ids.length === 0) return [];
    const values = await this.#pay.getMany(ids);
    return values.map((v, i) => {
      if (v === undefined) throw new TillgateError(E.corrupt, `index names payment ${ids[i]} that is not stored`);
      return checkPayment(v, ids[i] as string);
    });
  }

  async #samples(prefix: string, limit: number): Promise<LatencySample[]> {
    const out: LatencySample[] = [];
    for await (const [key, value] of this.#idx.iterator({ gt: prefix, lt: upper(prefix), reverse: true, limit })) {
      const parsed = sampleSchema.safeParse(value);
      if (!parsed.success) throw new TillgateError(E.corrupt, `stored latency sample ${key} is malformed`);
      out.push(parsed.data);
    }
    return out;
  }

  /** Every public call runs here: refused unless open, counted so close() can wait for it. */
  async #run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#state !== 'open') throw new TillgateError(E.closed, `lifecycle store is ${this.#state}`);
    this.#inflight++;
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof CallerError) throw cause.error;
      if (cause instanceof TillgateError || cause instanceof TypeError) throw cause;
      if (hasCode(cause, 'LEVEL_DATABASE_NOT_OPEN')) throw new TillgateError(E.closed, 'lifecycle store is closed', { cause });
      throw new TillgateError(E.io, 'lifecycle storage failed', { cause });
    } finally {
      if (--this.#inflight === 0 && this.#drained !== undefined) this.#drained();
    }
  }
}

/** The index entries a payment has (key → value), so a write can replace the old ones. */
function indexEntriesOf(p: Payment): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (p.event === null) {
    out.set(`p!${p.id}`, 1);
    return out;
  }
  const store = p.event.store;
  out.set(`s!${store}!${p.id}`, 1);
  out.set(`S!${store}!${p.state}!${p.id}`, 1);
  if (p.state === 'captured') out.set(`c!${pad(p.event.capturedAtMs)}!${p.id}`, 1);
  const s = samplesOf(p);
  if (s.charged !== null && s.chargedAtMs !== null) out.set(`lc!${pad(s.chargedAtMs)}!${p.id}`, s.charged);
  if (s.authorised !== null && s.authorisedAtMs !== null) out.set(`la!${pad(s.authorisedAtMs)}!${p.id}`, s.authorised);
  return out;
}

function checkInt(v: unknown, what: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw new TillgateError(E.corrupt, `stored ${what} is malformed`);
  return v as number;
}

/**
 * The dedup index is keyed by a SHA-256 of `(pspReference, eventCode, success)`: LevelDB keys are
 * not sealed at rest, and the index only answers "seen before?" by exact match. The readable key
 * stays inside the sealed inbox entry.
 */
function hiddenKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('base64url');
}
