/**
 * The PostgreSQL edge of the cloud-bridge: one `pg` (node-postgres) Pool per replica with the named
 * timeouts, transactions retried a bounded number of times on the failures that only mean "lost a
 * race" (DESIGN §5.4), and driver errors turned into the ledger's stable codes. node-postgres is the
 * most used PostgreSQL driver for Node, pure JavaScript (no native build), with a pool, server-side
 * statement timeouts and typed errors carrying SQLSTATE codes; it is pinned in package.json.
 */
import pg from 'pg';
import { TillgateError } from '../../protocol/errors.js';
import type { Logger } from '../../lib/logger.js';
import { LEDGER_ERROR_CODES as E } from '../ledger.js';

export interface DatabaseOptions {
  /** postgres://user:password@host:port/db. The password never reaches a log (see `redactUrl`). */
  readonly databaseUrl: string;
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Retries of one transaction on 40001/40P01/23505 before LEDGER_CONTENDED. */
  readonly retryMax: number;
}

/** SQLSTATEs that mean "another transaction won a race": the whole transaction is run again. */
const RETRYABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '23505', // unique_violation: a concurrent append stored the same event id first
]);

/** SQLSTATE classes that mean the database or the link is unavailable: retry later (503). */
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '53', '57', '58'];

/** The URL with its password replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export function createPool(options: DatabaseOptions, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    application_name: 'tillgate-cloud',
  });
  // An idle connection that breaks (server restart, network) is reported here; without a listener
  // node would crash the process. The pool drops it and opens a new one on the next checkout.
  pool.on('error', (err) => logger.warn('idle PostgreSQL connection failed', { err: describe(err) }));
  return pool;
}

/** The SQLSTATE of a driver error, if it has one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A loggable summary of a driver error: never its parameters, never the URL. */
export function describe(err: unknown): Record<string, unknown> {
  const e = err as { message?: unknown; code?: unknown; constraint?: unknown };
  return { code: e?.code, constraint: e?.constraint, message: typeof e?.message === 'string' ? e.message.slice(0, 300) : undefined };
}

/** Maps any failure to a TillgateError with a ledger code (TillgateErrors and TypeErrors pass). */
export function toLedgerError(err: unknown): Error {
  if (err instanceof TillgateError || err instanceof TypeError) return err;
  const state = sqlState(err);
  if (state !== undefined && RETRYABLE_SQLSTATES.has(state)) return new TillgateError(E.contended, 'the ledger transaction kept losing races; retry', { cause: err });
  if (state !== undefined && UNAVAILABLE_SQLSTATE_CLASSES.includes(state.slice(0, 2))) return new TillgateError(E.io, `the database is unavailable (${state})`, { cause: err });
  return new TillgateError(E.io, 'the database failed', { cause: err });
}

/**
 * Runs `fn` in one transaction (READ COMMITTED, PostgreSQL's default: every statement sees what
 * committed before it, and row locks serialize writers), committing at the end. A transaction that
 * lost a race is rolled back and run again from the start, at most `retryMax` times, with a short
 * jittered pause so the racers do not collide again at once.
 */
export interface RetryPolicy {
  readonly retryMax: number;
  /** Injected randomness for the jitter between attempts. */
  readonly random: () => number;
  /** Told of every retry (metrics). */
  readonly onRetry?: (sqlState: string) => void;
}

export async function inTransaction<T>(pool: pg.Pool, policy: RetryPolicy, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone: do not hand it back to the pool
      }
      const state = sqlState(err);
      if (state === undefined || !RETRYABLE_SQLSTATES.has(state) || attempt >= policy.retryMax) throw toLedgerError(err);
      policy.onRetry?.(state);
    } finally {
      client.release(broken);
    }
    // At most a few ms: the winner of the race holds its locks only until its commit.
    await new Promise((r) => setTimeout(r, policy.random() * 2 * (attempt + 1)));
  }
}
