/**
 * A fresh database on the run's PostgreSQL (global-setup.ts) for one test file or one test:
 *
 *   const db = await freshDatabase();            // every cloud migration applied
 *   const empty = await freshDatabase({ migrated: false });
 *   ...   db.url   ...
 *   await db.drop();
 *
 * Files that need PostgreSQL wrap their suites in `describePg(...)`: skipped (with the install hint
 * printed once by the global setup) where PostgreSQL is missing, failing under CI.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { databaseUrl, TEMPLATE_DATABASE } from './global-setup.js';
import { waitFor } from '../wait.js';

export interface TestDatabase {
  readonly name: string;
  /** postgres://postgres@127.0.0.1:PORT/NAME */
  readonly url: string;
  /** A client on this database, for a test that inspects or damages rows directly. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Drops the database, ending whatever is still connected to it. */
  drop(): Promise<void>;
}

export function postgresAvailable(): boolean {
  return inject('postgres') !== null;
}

/** `describe` for suites that need PostgreSQL. */
export const describePg = describe.skipIf(!postgresAvailable());

function serverUrl(): string {
  const url = inject('postgres');
  if (url === null) throw new Error('PostgreSQL is not available in this run (see the global setup message)');
  return url;
}

/** How long a drop waits for the database's connections to close by themselves before forcing them. */
const DROP_GRACE_MS = 5_000;

async function onServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a database named `tillgate_<random>`, copied from the migrated template unless `migrated: false`. */
export async function freshDatabase({ migrated = true }: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `tillgate_${randomBytes(6).toString('hex')}`;
  await onServer((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${migrated ? TEMPLATE_DATABASE : 'template0'}`));
  const url = databaseUrl(serverUrl(), name);
  return {
    name,
    url,
    async query(sql, params) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await client.query(sql, params);
      } finally {
        await client.end();
      }
    },
    drop: () => onServer(async (c) => {
      // pg's Pool.end() resolves before its clients' connections have closed; a FORCE drop would
      // then terminate a closing connection and its client would throw 57P01 into the test run.
      // So first let the database's backends go away by themselves (bounded), then force the rest.
      const idle = async () => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name])).rows[0]?.n === 0;
      await waitFor(idle, { timeoutMs: DROP_GRACE_MS, intervalMs: 25, what: `the connections to ${name} to close` }).catch(() => undefined);
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }),
  };
}
