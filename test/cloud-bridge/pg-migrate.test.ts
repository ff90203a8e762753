/**
 * Schema migrations on a real PostgreSQL: applied once, under the advisory lock when replicas start
 * together, refused when history was edited or the database is newer than the program.
 */
import { afterEach, expect, it } from 'vitest';
import pg from 'pg';
import { checkMigrationList, migrate, MIGRATION_LOCK_KEY, type Migration } from '../../cloud-bridge/pg/migrate.js';
import { CLOUD_MIGRATIONS } from '../../cloud-bridge/pg/migrations/index.js';
import { silentLogger } from '../../lib/logger.js';
import { describePg, freshDatabase, type TestDatabase } from '../support/postgres/test-database.js';

const options = { lockTimeoutMs: 10_000, logger: silentLogger };
/** A migration slow enough that two unlocked runners would overlap. */
const slow: Migration[] = [
  { version: 1, name: 'first', sql: 'CREATE TABLE m_first (id int); SELECT pg_sleep(0.2);' },
  { version: 2, name: 'second', sql: 'CREATE TABLE m_second (id int);' },
];

describePg('schema migrations', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function empty(): Promise<TestDatabase> {
    const db = await freshDatabase({ migrated: false });
    cleanups.push(() => db.drop());
    return db;
  }
  function pool(db: TestDatabase): pg.Pool {
    const p = new pg.Pool({ connectionString: db.url, max: 2 });
    cleanups.push(() => p.end());
    return p;
  }
  const applied = async (db: TestDatabase) =>
    (await db.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM tillgate_migrations ORDER BY version')).rows;

  it('migrate - applies every cloud migration to an empty database once, and nothing the second time', async () => {
    const db = await empty();
    const p = pool(db);
    expect(await migrate(p, CLOUD_MIGRATIONS, options)).toEqual({ applied: CLOUD_MIGRATIONS.map((m) => m.version), version: CLOUD_MIGRATIONS.length });
    expect(await migrate(p, CLOUD_MIGRATIONS, options)).toEqual({ applied: [], version: CLOUD_MIGRATIONS.length });
    const rows = await applied(db);
    expect(rows.map((r) => [r.version, r.name])).toEqual(CLOUD_MIGRATIONS.map((m) => [m.version, m.name]));
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.checksum))).toBe(true);
  });

  it('migrate - replicas starting together take turns on the advisory lock: each migration runs once', async () => {
    const db = await empty();
    const results = await Promise.all([1, 2, 3, 4].map(() => migrate(pool(db), slow, options)));
    expect(results.map((r) => r.applied).sort()).toEqual([[], [], [], [1, 2]]);
    expect((await applied(db)).map((r) => r.version)).toEqual([1, 2]);
  });

  it('migrate - refuses a database whose applied migration differs from the program\'s (LEDGER_MIGRATION_CHANGED)', async () => {
    const db = await empty();
    await migrate(pool(db), slow, options);
    const edited = [slow[0]!, { ...slow[1]!, sql: 'CREATE TABLE m_second (id bigint);' }];
    await expect(migrate(pool(db), edited, options)).rejects.toMatchObject({ code: 'LEDGER_MIGRATION_CHANGED' });
  });

  it('migrate - refuses a database newer than the program (LEDGER_SCHEMA_NEWER) and changes nothing', async () => {
    const db = await empty();
    await migrate(pool(db), slow, options);
    await expect(migrate(pool(db), slow.slice(0, 1), options)).rejects.toMatchObject({ code: 'LEDGER_SCHEMA_NEWER' });
    expect((await applied(db)).map((r) => r.version)).toEqual([1, 2]);
  });

  it('migrate - a failing migration is rolled back whole and not recorded', async () => {
    const db = await empty();
    const broken = [slow[1]!, { version: 2, name: 'broken', sql: 'CREATE TABLE m_half (id int); SELECT no_such_function();' }].map((m, i) => ({ ...m, version: i + 1 }));
    await expect(migrate(pool(db), broken, options)).rejects.toMatchObject({ code: 'LEDGER_IO' });
    expect((await applied(db)).map((r) => r.version)).toEqual([1]);
    expect((await db.query(`SELECT to_regclass('m_half') AS t`)).rows[0]).toEqual({ t: null });
  });

  it('migrate - waits for the lock at most lockTimeoutMs, then fails the start', async () => {
    const db = await empty();
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await expect(migrate(pool(db), slow, { ...options, lockTimeoutMs: 300 })).rejects.toMatchObject({ code: 'LEDGER_IO' });
    await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    expect((await migrate(pool(db), slow, options)).applied).toEqual([1, 2]);
  });

  it('migrate - the list itself must be numbered 1..n with kebab-case names', () => {
    expect(() => checkMigrationList(CLOUD_MIGRATIONS)).not.toThrow();
    expect(() => checkMigrationList([slow[1]!])).toThrow(TypeError);
    expect(() => checkMigrationList([{ ...slow[0]!, name: 'Bad Name' }])).toThrow(TypeError);
  });
});
