/**
 * vitest globalSetup: one real PostgreSQL for the whole run, started once (~1 s),
 * handed to every test file as `inject('postgres')`, stopped and deleted at the end. It also builds
 * a template database with every cloud migration applied, so a test gets a fresh, migrated
 * database with one `CREATE DATABASE … TEMPLATE` (a file copy) instead of running migrations.
 *
 * Without PostgreSQL installed: under CI the run fails; locally the PostgreSQL tests skip and this
 * prints the command that installs it.
 */
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { migrate } from '../../../cloud-bridge/pg/migrate.js';
import { CLOUD_MIGRATIONS } from '../../../cloud-bridge/pg/migrations/index.js';
import { silentLogger } from '../../../lib/logger.js';
import { findPostgresBin, POSTGRES_INSTALL_HINT, startPostgres } from './server.js';

/** The database every fresh test database is copied from (see test-database.ts). */
export const TEMPLATE_DATABASE = 'tillgate_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test server's `postgres` database, or null when PostgreSQL is missing. */
    postgres: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (findPostgresBin() === undefined) {
    if (process.env.CI) throw new Error(`PostgreSQL is required under CI and is not installed: ${POSTGRES_INSTALL_HINT}`);
    process.stderr.write(`\ntillgate tests: PostgreSQL is not installed; its tests are skipped. Install it with: ${POSTGRES_INSTALL_HINT}\n\n`);
    project.provide('postgres', null);
    return async () => undefined;
  }
  const server = await startPostgres();
  try {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
    await admin.end();
    const pool = new pg.Pool({ connectionString: databaseUrl(server.url, TEMPLATE_DATABASE), max: 1 });
    await migrate(pool, CLOUD_MIGRATIONS, { lockTimeoutMs: 10_000, logger: silentLogger });
    await pool.end();
  } catch (err) {
    await server.stop();
    throw err;
  }
  project.provide('postgres', server.url);
  return () => server.stop();
}

/** The same server's URL for another database. */
export function databaseUrl(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}
