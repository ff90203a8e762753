/**
 * The lifecycle storage on PostgreSQL, in the ledger's database (migration `0002-lifecycle`), on the
 * ledger's connection pool: `PaymentStore` and `WebhookInbox` for many cloud-bridge replicas.
 *
 * `apply` is one READ COMMITTED transaction (database.ts `inTransaction`), taking its locks always in
 * this order so two never wait on each other in a cycle: the cursor row (`FOR UPDATE`; a cursor that
 * moved means another replica applied this stretch: `stale`, nothing written), the payment rows in id
 * order, then the touched stores' rows in store order (update sequence and counters). Two replicas
 * creating the same new payment collide on its primary key (23505; a new payment is INSERTed, never
 * upserted): the transaction runs again and then finds and locks the row, so `decide` (pure) sees
 * the other's facts. The inbox takes its positions from one row as the
 * last statement of each accept, held until commit, so a follower never misses an item committed
 * after a larger position (as the ledger's feed does); a concurrent accept of the same key collides
 * on the unique key and, run again, finds it a duplicate.
 * Every implementation passes the PaymentStore and WebhookInbox conformance suites.
 */
import type pg from 'pg';
import { z } from 'zod';
import { TillgateError } from '../../protocol/errors.js';
import { notificationRequestItemSchema, type NotificationRequestItem } from '../../protocol/adyen.js';
import { inTransaction, type RetryPolicy } from '../pg/database.js';
import type { Payment, PaymentState } from './machine.js';
import {
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

export interface PgLifecycleOptions {
  readonly updatesKeepPerStore?: number;
}

type Counters = { byState: Partial<Record<PaymentState, number>>; charged: number; optimisticCharged: number; contradicted: number };
const emptyCounters = (): Counters => ({ byState: {}, charged: 0, optimisticCharged: 0, contradicted: 0 });
const countersSchema = z.object({
  byState: z.record(z.string(), z.number().int().min(0)),
  charged: z.number().int().min(0),
  optimisticCharged: z.number().int().min(0),
  contradicted: z.number().int().min(0),
});
const sampleSchema = z.object({ id: z.string(), store: z.string(), seconds: z.number().min(0), clamped: z.boolean(), chargedBy: z.enum(['optimistic', 'authorisation']).optional() });
const updateSchema = z.object({
  seq: z.number().int().min(1), terminal: z.string(), id: z.string(), terminalSeq: z.number().int().min(1),
  state: z.enum(['pending', 'captured', 'authorised', 'refused', 'cancelled', 'inconsistent']), charged: z.boolean(), contradicted: z.boolean(),
});

export class PgLifecycleStore implements PaymentStore, WebhookInbox {
  #state: LifecycleStoreState = 'open';
  #inflight = 0;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  readonly #keep: number;

  /** `pool` is the ledger's: this store does not end it (close this store before the ledger). */
  constructor(private readonly pool: pg.Pool, private readonly policy: RetryPolicy, options: PgLifecycleOptions = {}) {
    this.#keep = options.updatesKeepPerStore ?? DEFAULT_UPDATES_KEEP_PER_STORE;
  }

  get state(): LifecycleStoreState {
    return this.#state;
  }

  // ---- PaymentStore ---------------------------------------------------------------------------

  cursor(name: CursorName): Promise<number> {
    return this.#run(async () => {
      const { rows } = await this.pool.query<{ position: string }>('SELECT position FROM lifecycle_cursors WHERE name = $1', [name]);
      return int(rows[0]?.position, `cursor ${name}`);
    });
  }

  apply(request: ApplyRequest, decide: Decide): Promise<ApplyOutcome> {
    if (request.ids.length > MAX_APPLY_PAYMENTS) throw new TypeError(`at most ${MAX_APPLY_PAYMENTS} payments per apply`);
    for (const id of request.ids) checkId(id);
    const c = request.cursor;
    if (c !== undefined && (!Number.isSafeInteger(c.from) || !Number.isSafeInteger(c.to) || c.from < 0 || c.to <= c.from)) {
      throw new TypeError('a cursor only moves forward');
    }
    return this.#run(() => inTransaction(this.pool, this.policy, (client) => this.#apply(client, request, decide)));
  }

  get(id: string): Promise<Payment | undefined> {
    checkId(id);
    return this.#run(async () => {
      const { rows } = await this.pool.query<{ record: unknown }>('SELECT record FROM lifecycle_payments WHERE id = $1', [id]);
      return rows[0] === undefined ? undefined : checkPayment(rows[0].record, id);
    });
  }

  listByStore(store: string, o: { state?: PaymentState; afterId?: string; limit: number }): Promise<Payment[]> {
    checkLimit(o.limit);
    return this.#run(async () => {
      const { rows } = o.state === undefined
        ? await this.pool.query<{ id: string; record: unknown }>('SELECT id, record FROM lifecycle_payments WHERE store = $1 AND id > $2 ORDER BY id LIMIT $3', [store, o.afterId ?? '', o.limit])
        : await this.pool.query<{ id: string; record: unknown }>('SELECT id, record FROM lifecycle_payments WHERE store = $1 AND state = $2 AND id > $3 ORDER BY id LIMIT $4', [store, o.state, o.afterId ?? '', o.limit]);
      return rows.map((r) => checkPayment(r.record, r.id));
    });
  }

  listPending(afterId: string, limit: number): Promise<Payment[]> {
    checkLimit(limit);
    return this.#run(async () => {
      const { rows } = await this.pool.query<{ id: string; record: unknown }>('SELECT id, record FROM lifecycle_payments WHERE store IS NULL AND id > $1 ORDER BY id LIMIT $2', [afterId, limit]);
      return rows.map((r) => checkPayment(r.record, r.id));
    });
  }

  listCapturedBefore(beforeMs: number, limit: number): Promise<Payment[]> {
    checkLimit(limit);
    return this.#run(async () => {
      const { rows } = await this.pool.query<{ id: string; record: unknown }>(
        `SELECT id, record FROM lifecycle_payments WHERE state = 'captured' AND captured_at_ms < $1 ORDER BY captured_at_ms, id LIMIT $2`,
        [Math.max(0, beforeMs), limit],
      );
      return rows.map((r) => checkPayment(r.record, r.id));
    });
  }

  readUpdates(store: string, afterSeq: number, limit: number): Promise<{ head: number; updates: StoredUpdate[] }> {
    checkLimit(limit);
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new TypeError('afterSeq must be an integer >= 0');
    return this.#run(async () => {
      // Updates first, head second: the head is then never behind the updates returned.
      const { rows } = await this.pool.query<{ record: unknown }>('SELECT record FROM lifecycle_updates WHERE store = $1 AND seq > $2 ORDER BY seq LIMIT $3', [store, afterSeq, limit]);
      const head = await this.pool.query<{ update_seq: string }>('SELECT update_seq FROM lifecycle_stores WHERE store = $1', [store]);
      const updates = rows.map((r) => {
        const parsed = updateSchema.safeParse(r.record);
        if (!parsed.success) throw new TillgateError(E.corrupt, `stored update of ${store} is malformed`);
        return parsed.data;
      });
      return { head: head.rows[0] === undefined ? 0 : int(head.rows[0].update_seq, `update seq of ${store}`), updates };
    });
  }

  counters(): Promise<StoreCounters[]> {
    return this.#run(async () => {
      const { rows } = await this.pool.query<{ store: string; counters: unknown }>('SELECT store, counters FROM lifecycle_stores ORDER BY store');
      return rows.map((r) => ({ store: r.store, ...checkCounters(r.counters, r.store) }));
    });
  }

  recentLatencies(limit: number): Promise<{ successToCharged: LatencySample[]; successToAuthorised: LatencySample[] }> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1_000_000) throw new TypeError('limit must be 1..1000000');
    return this.#run(async () => {
      const read = async (segment: 'charged' | 'authorised') => {
        const { rows } = await this.pool.query<{ sample: unknown }>(
          'SELECT sample FROM lifecycle_latency WHERE segment = $1 ORDER BY completed_at_ms DESC, id DESC LIMIT $2',
          [segment, limit],
        );
        return rows.map((r) => {
          const parsed = sampleSchema.safeParse(r.sample);
          if (!parsed.success) throw new TillgateError(E.corrupt, 'stored latency sample is malformed');
          return parsed.data;
        });
      };
      return { successToCharged: await read('charged'), successToAuthorised: await read('authorised') };
    });
  }

  // ---- WebhookInbox ---------------------------------------------------------------------------

  accept(items: readonly NotificationRequestItem[], live: boolean, receivedAtMs: number): Promise<AcceptOutcome[]> {
    if (items.length > MAX_INBOX_ACCEPT) throw new TypeError(`at most ${MAX_INBOX_ACCEPT} items per accept`);
    if (!Number.isSafeInteger(receivedAtMs) || receivedAtMs < 0) throw new TypeError('receivedAtMs must be ms since the epoch');
    for (const item of items) {
      if (Buffer.byteLength(JSON.stringify(item)) > MAX_INBOX_ITEM_BYTES) throw new TypeError(`an inbox item is larger than ${MAX_INBOX_ITEM_BYTES} bytes`);
    }
    if (items.length === 0) return this.#run(async () => []);
    return this.#run(() =>
      inTransaction(this.pool, this.policy, async (client) => {
        const keys = items.map(inboxKey);
        const { rows } = await client.query<{ key: string }>('SELECT key FROM lifecycle_inbox WHERE key = ANY($1::text[])', [keys]);
        const stored = new Set(rows.map((r) => r.key));
        const fresh: Array<{ key: string; item: NotificationRequestItem }> = [];
        const outcomes: AcceptOutcome[] = items.map((item, i) => {
          const key = keys[i] as string;
          if (stored.has(key)) return 'duplicate';
          stored.add(key);
          fresh.push({ key, item });
          return 'stored';
        });
        if (fresh.length > 0) {
          // Last: positions from the head row, whose lock is held until commit (visible in commit order).
          const head = await client.query<{ position: string }>('UPDATE lifecycle_inbox_head SET position = position + $1 RETURNING position', [fresh.length]);
          const last = int(head.rows[0]?.position, 'inbox head');
          const first = last - fresh.length + 1;
          await client.query(
            `INSERT INTO lifecycle_inbox (position, key, received_at_ms, live, item)
             SELECT u.position, u.key, $1, $2, u.item FROM unnest($3::bigint[], $4::text[], $5::jsonb[]) AS u(position, key, item)`,
            [receivedAtMs, live, fresh.map((_, i) => first + i), fresh.map((f) => f.key), fresh.map((f) => JSON.stringify(f.item))],
          );
        }
        return outcomes;
      }),
    );
  }

  read(afterPosition: number, limit: number): Promise<InboxEntry[]> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_INBOX_READ) throw new TypeError(`limit must be 1..${MAX_INBOX_READ}`);
    if (!Number.isSafeInteger(afterPosition) || afterPosition < 0) throw new TypeError('afterPosition must be an integer >= 0');
    return this.#run(async () => {
      const { rows } = await this.pool.query<{ position: string; key: string; received_at_ms: string; live: boolean; item: unknown }>(
        'SELECT position, key, received_at_ms, live, item FROM lifecycle_inbox WHERE position > $1 ORDER BY position LIMIT $2',
        [afterPosition, limit],
      );
      return rows.map((r) => {
        const item = notificationRequestItemSchema.safeParse(r.item);
        if (!item.success || inboxKey(item.data) !== r.key) throw new TillgateError(E.corrupt, `stored inbox entry ${r.position} is malformed`);
        return { position: int(r.position, 'inbox position', 1), key: r.key, receivedAtMs: int(r.received_at_ms, 'inbox time'), live: r.live === true, item: item.data };
      });
    });
  }

  head(): Promise<number> {
    return this.#run(async () => {
      const { rows } = await this.pool.query<{ position: string }>('SELECT position FROM lifecycle_inbox_head');
      return int(rows[0]?.position, 'inbox head');
    });
  }

  /** Waits for running calls. The pool is the ledger's, which ends it. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing';
      if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      this.#state = 'closed';
    })();
    return this.#closing;
  }

  // ---- internals -------------------------------------------------------------------------------

  async #apply(client: pg.PoolClient, request: ApplyRequest, decide: Decide): Promise<ApplyOutcome> {
    const c = request.cursor;
    if (c !== undefined) {
      const { rows } = await client.query<{ position: string }>('SELECT position FROM lifecycle_cursors WHERE name = $1 FOR UPDATE', [c.name]);
      const now = int(rows[0]?.position, `cursor ${c.name}`);
      if (now !== c.from) return { kind: 'stale', cursor: now };
    }
    const ids = [...new Set(request.ids)].sort();
    const current = new Map<string, Payment>();
    if (ids.length > 0) {
      const { rows } = await client.query<{ id: string; record: unknown }>('SELECT id, record FROM lifecycle_payments WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [ids]);
      for (const r of rows) current.set(r.id, checkPayment(r.record, r.id));
    }
    let next: readonly Payment[];
    try {
      next = decide(current);
    } catch (err) {
      throw new CallerError(err);
    }
    const changes: PaymentChange[] = [];
    const written = new Set<string>();
    for (const after of next) {
      if (!ids.includes(after.id) || written.has(after.id)) throw new TypeError(`decide returned payment ${after.id} it was not asked about, or twice`);
      written.add(after.id);
      if (!storedPaymentSchema.safeParse(after).success) throw new TypeError(`decide returned a malformed payment ${after.id}`);
      changes.push({ before: current.get(after.id), after });
    }
    if (changes.length > 0) {
      const sorted = [...changes].sort((a, b) => (a.after.id < b.after.id ? -1 : 1));
      const columns = (list: readonly PaymentChange[]) => [
        list.map((ch) => ch.after.id),
        list.map((ch) => ch.after.event?.store ?? null),
        list.map((ch) => ch.after.state),
        list.map((ch) => (ch.after.state === 'captured' ? ch.after.event?.capturedAtMs ?? null : null)),
        list.map((ch) => JSON.stringify(ch.after)),
      ];
      // A payment that did not exist is INSERTed, never upserted: when another replica creates it
      // at the same moment, this insert fails (23505) and the transaction runs again, then finding
      // the row, locking it and deciding with its facts. An upsert would overwrite them.
      const created = sorted.filter((ch) => ch.before === undefined);
      const updated = sorted.filter((ch) => ch.before !== undefined);
      if (created.length > 0) {
        await client.query(
          'INSERT INTO lifecycle_payments (id, store, state, captured_at_ms, record) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::jsonb[])',
          columns(created),
        );
      }
      if (updated.length > 0) {
        await client.query(
          `UPDATE lifecycle_payments AS t SET store = u.store, state = u.state, captured_at_ms = u.captured_at_ms, record = u.record
           FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::jsonb[]) AS u(id, store, state, captured_at_ms, record) WHERE t.id = u.id`,
          columns(updated),
        );
      }
      await this.#latency(client, sorted);
      // The updates feed in the order the log applied the changes; row locks in store order.
      await this.#storeRows(client, changes);
    }
    if (c !== undefined) await client.query('UPDATE lifecycle_cursors SET position = $2 WHERE name = $1', [c.name, c.to]);
    return { kind: 'applied', changes };
  }

  /** Replaces the changed payments' latency samples. */
  async #latency(client: pg.PoolClient, changes: readonly PaymentChange[]): Promise<void> {
    const ids: string[] = [];
    const segments: string[] = [];
    const times: number[] = [];
    const samples: string[] = [];
    for (const { after } of changes) {
      const s = samplesOf(after);
      const add = (segment: string, atMs: number, sample: LatencySample) => {
        ids.push(after.id);
        segments.push(segment);
        times.push(atMs);
        samples.push(JSON.stringify(sample));
      };
      if (s.charged !== null && s.chargedAtMs !== null) add('charged', s.chargedAtMs, s.charged);
      if (s.authorised !== null && s.authorisedAtMs !== null) add('authorised', s.authorisedAtMs, s.authorised);
    }
    await client.query('DELETE FROM lifecycle_latency WHERE id = ANY($1::text[])', [changes.map((ch) => ch.after.id)]);
    if (ids.length > 0) {
      await client.query(
        'INSERT INTO lifecycle_latency (id, segment, completed_at_ms, sample) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[])',
        [ids, segments, times, samples],
      );
    }
  }

  /** Counters and the updates feed of every touched store, its row locked (store order). */
  async #storeRows(client: pg.PoolClient, changes: readonly PaymentChange[]): Promise<void> {
    const storeOf = (p: Payment | undefined) => (p === undefined ? undefined : (p.event?.store ?? ''));
    const stores = [...new Set(changes.flatMap((ch) => [storeOf(ch.before), storeOf(ch.after)]).filter((s): s is string => s !== undefined))].sort();
    await client.query(
      `INSERT INTO lifecycle_stores (store, update_seq, counters) SELECT s, 0, $2::jsonb FROM unnest($1::text[]) AS s ON CONFLICT DO NOTHING`,
      [stores, JSON.stringify(emptyCounters())],
    );
    const { rows } = await client.query<{ store: string; update_seq: string; counters: unknown }>(
      'SELECT store, update_seq, counters FROM lifecycle_stores WHERE store = ANY($1::text[]) ORDER BY store FOR UPDATE',
      [stores],
    );
    const counters = new Map(rows.map((r) => [r.store, structuredClone(checkCounters(r.counters, r.store)) as Counters]));
    const seqs = new Map(rows.map((r) => [r.store, int(r.update_seq, `update seq of ${r.store}`)]));
    const updates: Array<{ store: string; seq: number; record: StoredUpdate }> = [];
    const adjust = (p: Payment, sign: 1 | -1) => {
      const c = counters.get(p.event?.store ?? '') as Counters;
      c.byState[p.state] = (c.byState[p.state] ?? 0) + sign;
      if (c.byState[p.state] === 0) delete c.byState[p.state];
      if (p.charged) c.charged += sign;
      if (p.chargedBy === 'optimistic') c.optimisticCharged += sign;
      if (p.contradicted) c.contradicted += sign;
    };
    for (const { before, after } of changes) {
      if (before !== undefined) adjust(before, -1);
      adjust(after, 1);
      if (isNewsForStore(before, after)) {
        const store = (after.event as NonNullable<Payment['event']>).store;
        const seq = (seqs.get(store) ?? 0) + 1;
        seqs.set(store, seq);
        updates.push({ store, seq, record: { seq, ...(updateOf(after) as Omit<StoredUpdate, 'seq'>) } });
      }
    }
    await client.query(
      `UPDATE lifecycle_stores AS t SET update_seq = u.seq, counters = u.counters
       FROM unnest($1::text[], $2::bigint[], $3::jsonb[]) AS u(store, seq, counters) WHERE t.store = u.store`,
      [stores, stores.map((s) => seqs.get(s) ?? 0), stores.map((s) => JSON.stringify(counters.get(s)))],
    );
    if (updates.length > 0) {
      await client.query(
        'INSERT INTO lifecycle_updates (store, seq, record) SELECT * FROM unnest($1::text[], $2::bigint[], $3::jsonb[])',
        [updates.map((u) => u.store), updates.map((u) => u.seq), updates.map((u) => JSON.stringify(u.record))],
      );
      // Each store keeps its newest `keep` records.
      for (const store of new Set(updates.map((u) => u.store))) {
        await client.query('DELETE FROM lifecycle_updates WHERE store = $1 AND seq <= $2', [store, (seqs.get(store) ?? 0) - this.#keep]);
      }
    }
  }

  /** Every public call runs here: refused unless open, counted so close() can wait for it. */
  async #run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#state !== 'open') throw new TillgateError(E.closed, `lifecycle store is ${this.#state}`);
    this.#inflight++;
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof CallerError) throw cause.error;
      // inTransaction hands a failure on as a storage error: the caller's own comes out as it was.
      const inner = (cause as { cause?: unknown }).cause;
      if (inner instanceof CallerError) throw inner.error;
      if (cause instanceof TypeError) throw cause;
      if (cause instanceof TillgateError && cause.code.startsWith('LIFECYCLE_')) throw cause;
      // The database's codes (LEDGER_IO, LEDGER_CONTENDED, …) in the lifecycle's words: retry later.
      throw new TillgateError(E.io, 'lifecycle storage failed', { cause });
    } finally {
      if (--this.#inflight === 0 && this.#drained !== undefined) this.#drained();
    }
  }
}

function int(value: unknown, what: string, min = 0): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new TillgateError(E.corrupt, `stored ${what} is malformed`);
  return n;
}
function checkCounters(v: unknown, store: string): Omit<StoreCounters, 'store'> {
  const parsed = countersSchema.safeParse(v);
  if (!parsed.success) throw new TillgateError(E.corrupt, `stored counters of ${store} are malformed`);
  return parsed.data as Omit<StoreCounters, 'store'>;
}
