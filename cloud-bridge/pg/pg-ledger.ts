/**
 * The `Ledger` on PostgreSQL: many stateless cloud-bridge replicas share one database (DESIGN §5.4).
 * Every call is one statement or one READ COMMITTED transaction (`inTransaction`: lost races are
 * run again, `--db-retry-max` times). An append, the interesting one, is in pg-append.ts;
 * revocation takes the same head lock, so it orders with appends. Reads are checked on the way out
 * (rows.ts): a bad row is LEDGER_CORRUPT, never served.
 */
import type pg from 'pg';
import { EMPTY_HEAD, type ChainHead } from '../../protocol/chain.js';
import { TillgateError } from '../../protocol/errors.js';
import type { Logger } from '../../lib/logger.js';
import { keyKey } from '../append-rules.js';
import type { FeedEntry } from '../feed.js';
import {
  checkAppendItems, checkFeedRead, checkKeyRecords, checkKeyRefs, checkKid, checkLimit, checkSeqBound, checkStore, checkTerminal, storableText,
} from '../ledger-args.js';
import {
  LEDGER_ERROR_CODES as E,
  MAX_LEDGER_READ,
  type AppendItem,
  type AppendOutcome,
  type EnrollOutcome,
  type KeyRecord,
  type KeyRef,
  type KeyState,
  type KeyView,
  type Ledger,
  type LedgerEvent,
  type LedgerState,
  type TerminalHead,
} from '../ledger.js';
import { createPool, inTransaction, redactUrl, toLedgerError, type DatabaseOptions, type RetryPolicy } from './database.js';
import { migrate, type Migration } from './migrate.js';
import { CLOUD_MIGRATIONS } from './migrations/index.js';
import { eventOf, feedEntryOf, headOf, int, keyViewOf, publicKeyOf, revokedAfterOf, type EventRow, type FeedRow, type HeadRow, type KeyRow } from './rows.js';
import { appendIn, lockHeads } from './pg-append.js';

export interface PgLedgerOptions extends DatabaseOptions {
  readonly migrationLockTimeoutMs: number;
  readonly logger: Logger;
  /** Injected randomness for retry jitter. */
  readonly random?: () => number;
  /** Told of every retried transaction (metrics). */
  readonly onRetry?: (sqlState: string) => void;
  /** The schema to bring the database to; the cloud's own list unless a test says otherwise. */
  readonly migrations?: readonly Migration[];
}

/** Connects, migrates (under the advisory lock) and returns the ledger. Rejects with LEDGER_*. */
export async function openPgLedger(options: PgLedgerOptions): Promise<PgLedger> {
  const pool = createPool(options, options.logger);
  try {
    await migrate(pool, options.migrations ?? CLOUD_MIGRATIONS, { lockTimeoutMs: options.migrationLockTimeoutMs, logger: options.logger });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  options.logger.info('PostgreSQL ledger open', { database: redactUrl(options.databaseUrl), poolMax: options.poolMax });
  return new PgLedger(pool, { retryMax: options.retryMax, random: options.random ?? Math.random, ...(options.onRetry ? { onRetry: options.onRetry } : {}) });
}

export class PgLedger implements Ledger {
  #state: LedgerState = 'open';
  #inflight = 0;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  readonly #pool: pg.Pool;
  readonly #policy: RetryPolicy;

  constructor(pool: pg.Pool, policy: RetryPolicy) {
    this.#pool = pool;
    this.#policy = policy;
  }

  get state(): LedgerState {
    return this.#state;
  }

  /**
   * The connection pool, for other parts of the cloud that keep their tables in the same database
   * (the payment lifecycle). The ledger ends it on close: close those parts first.
   */
  get pool(): pg.Pool {
    return this.#pool;
  }

  enroll(store: string, records: readonly KeyRecord[]): Promise<EnrollOutcome[]> {
    checkStore(store);
    checkKeyRecords(records);
    if (records.length === 0) return this.#run(async () => []);
    return this.#run(() =>
      inTransaction(this.#pool, this.#policy, async (c) => {
        const first = new Map<string, KeyRecord>();
        for (const r of records) if (!first.has(keyKey(r.terminal, r.kid))) first.set(keyKey(r.terminal, r.kid), r);
        const fresh = [...first.values()];
        const inserted = await c.query<{ terminal: string; kid: string }>(
          `INSERT INTO ledger_keys (store, terminal, kid, public_key, enrolled_at)
           SELECT $1, u.terminal, u.kid, decode(u.key, 'hex'), u.at
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(terminal, kid, key, at)
           ON CONFLICT DO NOTHING RETURNING terminal, kid`,
          [store, fresh.map((r) => r.terminal), fresh.map((r) => r.kid), fresh.map((r) => r.publicKey.toString('hex')), fresh.map((r) => storableText(r.at))],
        );
        const added = new Set(inserted.rows.map((r) => keyKey(r.terminal, r.kid)));
        const stored = await this.#keyRows(c, store, fresh);
        const seen = new Set<string>();
        return records.map((r) => {
          const id = keyKey(r.terminal, r.kid);
          const firstTime = !seen.has(id);
          seen.add(id);
          if (firstTime && added.has(id)) return 'added';
          const before = stored.get(id);
          if (before === undefined) throw new TillgateError(E.corrupt, `key ${id} was neither inserted nor found`);
          return publicKeyOf(before.public_key, id).equals(r.publicKey) ? 'exists' : 'conflict';
        });
      }),
    );
  }

  getKey(store: string, terminal: string, kid: string): Promise<Buffer | undefined> {
    checkStore(store);
    checkTerminal(terminal);
    checkKid(kid);
    return this.#run(async () => (await this.#getKeys(store, [{ terminal, kid }]))[0]?.publicKey);
  }

  getKeys(store: string, refs: readonly KeyRef[]): Promise<Array<KeyState | undefined>> {
    checkStore(store);
    checkKeyRefs(refs);
    return this.#run(() => this.#getKeys(store, refs));
  }

  listKeys(store: string, terminal: string): Promise<KeyView[]> {
    checkStore(store);
    checkTerminal(terminal);
    return this.#run(async () => {
      const { rows } = await this.#pool.query<KeyRow>(
        `SELECT terminal, kid, public_key, enrolled_at, revoked_after_seq, revoked_at FROM ledger_keys
         WHERE store = $1 AND terminal = $2 ORDER BY kid LIMIT $3`,
        [store, terminal, MAX_LEDGER_READ],
      );
      return rows.map(keyViewOf);
    });
  }

  revokeKey(store: string, terminal: string, kid: string, afterSeq?: number): Promise<KeyView | undefined> {
    checkStore(store);
    checkTerminal(terminal);
    checkKid(kid);
    if (afterSeq !== undefined) checkSeqBound(afterSeq, 'afterSeq');
    return this.#run(() =>
      inTransaction(this.#pool, this.#policy, async (c) => {
        const known = await c.query('SELECT 1 FROM ledger_keys WHERE store = $1 AND terminal = $2 AND kid = $3', [store, terminal, kid]);
        if (known.rowCount === 0) return undefined;
        // Under the head's lock: the point is the head as appends see it, not a moment before.
        const heads = await lockHeads(c, store, [terminal]);
        const point = afterSeq ?? (heads.get(terminal) ?? EMPTY_HEAD).seq;
        const { rows } = await c.query<KeyRow>(
          `UPDATE ledger_keys SET revoked_after_seq = LEAST(COALESCE(revoked_after_seq, $4), $4), revoked_at = COALESCE(revoked_at, now())
           WHERE store = $1 AND terminal = $2 AND kid = $3
           RETURNING terminal, kid, public_key, enrolled_at, revoked_after_seq, revoked_at`,
          [store, terminal, kid, point],
        );
        const row = rows[0];
        return row === undefined ? undefined : keyViewOf(row);
      }),
    );
  }

  head(store: string, terminal: string): Promise<ChainHead> {
    checkStore(store);
    checkTerminal(terminal);
    return this.#run(async () => {
      const { rows } = await this.#pool.query<HeadRow>('SELECT terminal, seq, hash FROM ledger_heads WHERE store = $1 AND terminal = $2', [store, terminal]);
      const row = rows[0];
      return row === undefined ? EMPTY_HEAD : headOf(row, `${store}/${terminal}`);
    });
  }

  listHeads(store: string, afterTerminal: string, limit: number): Promise<TerminalHead[]> {
    checkStore(store);
    checkLimit(limit);
    return this.#run(async () => {
      const { rows } = await this.#pool.query<HeadRow>(
        `SELECT terminal, seq, hash FROM ledger_heads WHERE store = $1 AND terminal > $2 AND seq > 0 ORDER BY terminal LIMIT $3`,
        [store, afterTerminal, limit],
      );
      return rows.map((r) => ({ terminal: r.terminal, ...headOf(r, `${store}/${r.terminal}`) }));
    });
  }

  append(store: string, items: readonly AppendItem[]): Promise<AppendOutcome[]> {
    checkStore(store);
    checkAppendItems(items);
    if (items.length === 0) return this.#run(async () => []);
    return this.#run(() => inTransaction(this.#pool, this.#policy, (c) => appendIn(c, store, items)));
  }

  readEvents(store: string, terminal: string, afterSeq: number, limit: number): Promise<LedgerEvent[]> {
    checkStore(store);
    checkTerminal(terminal);
    checkLimit(limit);
    checkSeqBound(afterSeq, 'afterSeq');
    return this.#run(async () => {
      const { rows } = await this.#pool.query<EventRow>(
        'SELECT seq, jws, received_at FROM ledger_events WHERE store = $1 AND terminal = $2 AND seq > $3 ORDER BY seq LIMIT $4',
        [store, terminal, afterSeq, limit],
      );
      return rows.map((r) => eventOf(r, `${store}/${terminal}`));
    });
  }

  readFeed(afterPosition: number, limit: number): Promise<FeedEntry[]> {
    checkFeedRead(afterPosition, limit);
    return this.#run(async () => {
      const { rows } = await this.#pool.query<FeedRow>(
        `SELECT position, store, terminal, seq, jws, received_at, event_id, type, at, amount, currency, outcome, mode, ref
         FROM ledger_events WHERE position > $1 ORDER BY position LIMIT $2`,
        [afterPosition, limit],
      );
      return rows.map(feedEntryOf);
    });
  }

  feedHead(): Promise<number> {
    return this.#run(async () => {
      const { rows } = await this.#pool.query<{ position: string }>('SELECT position FROM ledger_feed');
      return rows[0] === undefined ? 0 : int(rows[0].position, 'feed head');
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing';
      if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      try {
        await this.#pool.end();
      } finally {
        this.#state = 'closed';
      }
    })();
    return this.#closing;
  }

  async #getKeys(store: string, refs: readonly KeyRef[]): Promise<Array<KeyState | undefined>> {
    if (refs.length === 0) return [];
    const rows = await this.#keyRows(this.#pool, store, refs);
    return refs.map((r) => {
      const row = rows.get(keyKey(r.terminal, r.kid));
      if (row === undefined) return undefined;
      const what = `${store}/${r.terminal}/${r.kid}`;
      return { publicKey: publicKeyOf(row.public_key, what), revokedAfterSeq: revokedAfterOf(row.revoked_after_seq, what) };
    });
  }

  /** One query for many `(terminal, kid)`. */
  async #keyRows(c: pg.Pool | pg.PoolClient, store: string, refs: readonly KeyRef[]): Promise<Map<string, KeyRow>> {
    const { rows } = await c.query<KeyRow>(
      `SELECT k.terminal, k.kid, k.public_key, k.enrolled_at, k.revoked_after_seq, k.revoked_at
       FROM ledger_keys k JOIN unnest($2::text[], $3::text[]) AS u(terminal, kid) ON k.terminal = u.terminal AND k.kid = u.kid
       WHERE k.store = $1`,
      [store, refs.map((r) => r.terminal), refs.map((r) => r.kid)],
    );
    return new Map(rows.map((r) => [keyKey(r.terminal, r.kid), r]));
  }

  /** Every public call runs here: refused unless open, counted so close() can wait for it. */
  async #run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#state !== 'open') throw new TillgateError(E.closed, `ledger is ${this.#state}`);
    this.#inflight++;
    try {
      return await fn();
    } catch (err) {
      throw toLedgerError(err);
    } finally {
      if (--this.#inflight === 0 && this.#drained !== undefined) this.#drained();
    }
  }
}
