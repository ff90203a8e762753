/**
 * Versioned schema migrations, applied at start (DESIGN §5.4). Every replica runs `migrate()` when
 * it starts; a session-level `pg_advisory_lock` makes the replicas take turns, so two starting
 * together never race (the second finds the work done). The table `tillgate_migrations` records
 * version, name, checksum and time of each applied migration. A replica refuses to start
 * (LEDGER_MIGRATION_CHANGED) when an applied migration's text differs from its own, and
 * (LEDGER_SCHEMA_NEWER) when the database holds a migration it does not know: an older build must
 * not write to a schema it does not understand.
 *
 * Migrations are TypeScript string constants (`migrations/`), not .sql files, so the compiled
 * program runs from dist/ alone. Adding one = adding one entry to `CLOUD_MIGRATIONS`.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { TillgateError } from '../../protocol/errors.js';
import type { Logger } from '../../lib/logger.js';
import { LEDGER_ERROR_CODES as E } from '../ledger.js';
import { toLedgerError } from './database.js';

export interface Migration {
  /** 1, 2, 3…: applied in this order, each exactly once. */
  readonly version: number;
  /** Short kebab-case name, e.g. `ledger`, `payments`. */
  readonly name: string;
  /** The SQL, run in one transaction. Never edit one that shipped: add a new migration. */
  readonly sql: string;
}

/** The advisory lock key all tillgate replicas agree on (any 64-bit number; this spells "tillgate"). */
export const MIGRATION_LOCK_KEY = '7308604896928473189';

export interface MigrateOptions {
  /** Longest wait for the advisory lock held by another starting replica. */
  readonly lockTimeoutMs: number;
  readonly logger: Logger;
}

export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was current). */
  readonly applied: number[];
  /** Highest version in the database afterwards. */
  readonly version: number;
}

export function checksumOf(m: Migration): string {
  return createHash('sha256').update(m.sql, 'utf8').digest('hex');
}

/** Checks the list itself: versions 1..n in order, names set (a programming mistake otherwise). */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new TypeError(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(m.name)) throw new TypeError(`migration ${m.version} has a bad name`);
  });
}

/** Applies what is missing, under the advisory lock. */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[], options: MigrateOptions): Promise<MigrateResult> {
  checkMigrationList(migrations);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw toLedgerError(err);
  }
  let broken = false;
  try {
    // A migration may run longer than a request's statement timeout; the lock wait is bounded.
    await client.query('SET statement_timeout = 0');
    await client.query(`SET lock_timeout = ${Math.trunc(options.lockTimeoutMs)}`);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query('SET lock_timeout = 0');
      return await applyPending(client, migrations, options.logger);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } catch (err) {
    broken = !(err instanceof TillgateError);
    throw toLedgerError(err);
  } finally {
    if (!broken) await client.query('RESET ALL').catch(() => (broken = true));
    client.release(broken);
  }
}

async function applyPending(client: pg.PoolClient, migrations: readonly Migration[], logger: Logger): Promise<MigrateResult> {
  await client.query(`CREATE TABLE IF NOT EXISTS tillgate_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const { rows } = await client.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM tillgate_migrations ORDER BY version');
  for (const row of rows) {
    const known = migrations[row.version - 1];
    if (known === undefined) {
      throw new TillgateError(E.schemaNewer, `the database has migration ${row.version} (${row.name}), this program knows ${migrations.length}: run a newer tillgate`);
    }
    if (checksumOf(known) !== row.checksum) {
      throw new TillgateError(E.migrationChanged, `migration ${row.version} (${row.name}) differs from the one applied to the database; never edit a shipped migration, add a new one`);
    }
  }
  const applied: number[] = [];
  for (const m of migrations.slice(rows.length)) {
    await client.query('BEGIN');
    try {
      await client.query(m.sql);
      await client.query('INSERT INTO tillgate_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, checksumOf(m)]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw new TillgateError(E.io, `migration ${m.version} (${m.name}) failed`, { cause: err });
    }
    applied.push(m.version);
    logger.info('schema migration applied', { version: m.version, name: m.name });
  }
  return { applied, version: migrations.length };
}
