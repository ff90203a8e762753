/**
 * The PostgreSQL edge's transaction runner on a real server: a transaction that loses a real
 * deadlock is run again and succeeds; one that keeps losing stops after `retryMax` retries with the
 * retryable LEDGER_CONTENDED; other failures are not retried; URLs are logged without passwords.
 */
import { afterEach, expect, it } from 'vitest';
import type pg from 'pg';
import { createPool, inTransaction, redactUrl } from '../../cloud-bridge/pg/database.js';
import { silentLogger } from '../../lib/logger.js';
import { describePg, freshDatabase } from '../support/postgres/test-database.js';

describePg('PostgreSQL transactions', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function pool(): Promise<pg.Pool> {
    const db = await freshDatabase({ migrated: false });
    cleanups.push(() => db.drop());
    const p = createPool({ databaseUrl: db.url, poolMax: 4, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000, idleTimeoutMs: 10_000, retryMax: 3 }, silentLogger);
    cleanups.push(() => p.end());
    await p.query(`CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL); INSERT INTO t VALUES (1, 0), (2, 0)`);
    return p;
  }

  it('pg transactions - the loser of a real deadlock (40P01) is run again and both commit', async () => {
    const p = await pool();
    const retries: string[] = [];
    const policy = { retryMax: 3, random: () => 0, onRetry: (s: string) => retries.push(s) };
    let bothLocked!: () => void;
    const locked = new Promise<void>((r) => (bothLocked = r));
    let firstLocks = 0;
    const lockOne = async (c: pg.PoolClient, id: number) => {
      await c.query('SELECT n FROM t WHERE id = $1 FOR UPDATE', [id]);
      if (++firstLocks === 2) bothLocked();
    };
    // A locks 1 then 2, B locks 2 then 1: a cycle PostgreSQL breaks by failing one of them.
    const attempt = (first: number, second: number) => inTransaction(p, policy, async (c) => {
      await c.query(`SET LOCAL deadlock_timeout = '100ms'`);
      await lockOne(c, first);
      await locked;
      await c.query('UPDATE t SET n = n + 1 WHERE id = $1', [second]);
    });
    await Promise.all([attempt(1, 2), attempt(2, 1)]);
    expect(retries).toEqual(['40P01']);
    expect((await p.query<{ n: number }>('SELECT n FROM t ORDER BY id')).rows.map((r) => r.n)).toEqual([1, 1]);
  });

  it('pg transactions - a transaction that keeps losing races stops after retryMax retries with LEDGER_CONTENDED', async () => {
    const p = await pool();
    let attempts = 0;
    const retries: string[] = [];
    const lost = inTransaction(p, { retryMax: 2, random: () => 0, onRetry: (s) => retries.push(s) }, async (c) => {
      attempts++;
      await c.query('UPDATE t SET n = n + 1 WHERE id = 1');
      throw Object.assign(new Error('could not serialize access'), { code: '40001' }); // injected fault
    });
    await expect(lost).rejects.toMatchObject({ code: 'LEDGER_CONTENDED' });
    expect(attempts).toBe(3);
    expect(retries).toEqual(['40001', '40001']);
    expect((await p.query<{ n: number }>('SELECT n FROM t WHERE id = 1')).rows[0]!.n).toBe(0); // every attempt rolled back
  });

  it('pg transactions - other failures are not retried and become LEDGER_IO', async () => {
    const p = await pool();
    let attempts = 0;
    const failing = inTransaction(p, { retryMax: 5, random: () => 0 }, async (c) => {
      attempts++;
      await c.query('SELECT no_such_column FROM t');
    });
    await expect(failing).rejects.toMatchObject({ code: 'LEDGER_IO' });
    expect(attempts).toBe(1);
  });

  it('pg transactions - a URL is shown without its password', () => {
    expect(redactUrl('postgres://tillgate:s3cret@db.example:5432/ledger?sslmode=require')).toBe('postgres://tillgate:***@db.example:5432/ledger?sslmode=require');
    expect(redactUrl('postgres://db.example/ledger')).toBe('postgres://db.example/ledger');
    expect(redactUrl('not a url s3cret')).not.toContain('s3cret');
  });
});
