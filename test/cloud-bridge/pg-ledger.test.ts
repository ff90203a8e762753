/**
 * The ledger conformance suite on PostgreSQL (a fresh migrated database per test, on the run's real
 * server), plus what only PostgreSQL has: a corrupt row is LEDGER_CORRUPT, the pool's options, and
 * argument checks.
 */
import { afterEach, expect, it } from 'vitest';
import { openPgLedger, type PgLedger } from '../../cloud-bridge/pg/pg-ledger.js';
import { describePg, freshDatabase, type TestDatabase } from '../support/postgres/test-database.js';
import { signChain, testSigner } from '../support/events.js';
import { describeLedgerConformance, item } from './ledger-conformance.js';
import { ADMIN, enrollmentOf, GW1, ingestBody, makeTestCloud, pgLedgerOptions, pgStorage, postIngest } from './helpers.js';

describePg('PostgreSQL ledger', () => {
  describeLedgerConformance('PostgreSQL', async () => {
    const db = await freshDatabase();
    return {
      open: () => openPgLedger(pgLedgerOptions(db.url)),
      openReplica: () => openPgLedger(pgLedgerOptions(db.url)),
      receivedAtFrom: 'database',
      destroy: () => db.drop(),
    };
  });

  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function open(): Promise<{ db: TestDatabase; ledger: PgLedger }> {
    const db = await freshDatabase();
    cleanups.push(() => db.drop());
    const ledger = await openPgLedger(pgLedgerOptions(db.url));
    cleanups.push(() => ledger.close());
    return { db, ledger };
  }

  it('pg ledger - a damaged head or event row is LEDGER_CORRUPT, never served', async () => {
    const { db, ledger } = await open();
    const chain = await signChain(testSigner('corrupt'), 's-1', 't-1', 3);
    await ledger.append('s-1', chain.map((e) => item('t-1', e)));
    await db.query(`UPDATE ledger_events SET jws = 'not a jws' WHERE terminal = 't-1' AND seq = 2`);
    await expect(ledger.readEvents('s-1', 't-1', 0, 10)).rejects.toMatchObject({ code: 'LEDGER_CORRUPT' });
    await expect(ledger.readFeed(0, 10)).rejects.toMatchObject({ code: 'LEDGER_CORRUPT' });
    await db.query(`UPDATE ledger_heads SET hash = 'short' WHERE terminal = 't-1'`);
    await expect(ledger.head('s-1', 't-1')).rejects.toMatchObject({ code: 'LEDGER_CORRUPT' });
    await expect(ledger.append('s-1', [item('t-1', chain[0]!)])).rejects.toMatchObject({ code: 'LEDGER_CORRUPT' });
  });

  it('pg ledger - ingest over a corrupt record is 500 LEDGER_CORRUPT without Retry-After, an alarm in log and metric', async () => {
    const storage = await pgStorage();
    cleanups.push(() => storage.destroy());
    const cloud = await makeTestCloud(storage);
    cleanups.push(() => cloud.ledger.close());
    const alice = testSigner('corrupt-http');
    const chain = await signChain(alice, 's-1', 't-1', 3);
    expect((await postIngest(cloud.app, ingestBody(GW1, chain.slice(0, 2).map((e) => e.jws), [enrollmentOf('t-1', alice)]))).status).toBe(200);
    await storage.db!.query(`UPDATE ledger_heads SET hash = 'damaged' WHERE terminal = 't-1'`);
    const res = await postIngest(cloud.app, ingestBody(GW1, [chain[2]!.jws]));
    expect(res.status).toBe(500);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('LEDGER_CORRUPT');
    expect(await cloud.metrics.registry.getSingleMetricAsString('tillgate_cloud_ledger_corrupt_total')).toMatch(/ 1$/m);
    expect(cloud.logs.some((l) => l.includes('"level":"error"') && l.includes('LEDGER_CORRUPT'))).toBe(true);
    const read = await cloud.app.request('/v1/stores/s-1/terminals/t-1/events', { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(read.status).toBe(500);
    expect(((await read.json()) as { error: { code: string } }).error.code).toBe('LEDGER_CORRUPT');
    expect(await cloud.metrics.registry.getSingleMetricAsString('tillgate_cloud_ledger_corrupt_total')).toMatch(/ 2$/m);
  });

  it('pg ledger - an event below the head that is missing is LEDGER_CORRUPT on append', async () => {
    const { db, ledger } = await open();
    const chain = await signChain(testSigner('corrupt'), 's-1', 't-1', 3);
    await ledger.append('s-1', chain.map((e) => item('t-1', e)));
    await db.query(`DELETE FROM ledger_events WHERE terminal = 't-1' AND seq = 2`);
    await expect(ledger.append('s-1', [item('t-1', chain[1]!)])).rejects.toMatchObject({ code: 'LEDGER_CORRUPT' });
  });

  it('pg ledger - the decoded fields are columns SQL can query', async () => {
    const { db, ledger } = await open();
    const chain = await signChain(testSigner('sql'), 's-1', 't-1', 4);
    await ledger.append('s-1', chain.map((e) => item('t-1', e)));
    const { rows } = await db.query<{ total: string; n: string }>(
      `SELECT sum(amount) AS total, count(*) AS n FROM ledger_events WHERE store = 's-1' AND type = 'payment' AND outcome = 'approved' AND at_time >= $1`,
      [chain[1]!.payload.at],
    );
    expect(rows[0]).toEqual({ total: String(chain.slice(1).reduce((s, e) => s + e.payload.amount, 0)), n: '3' });
  });

  it('pg ledger - an unreachable database fails to open with LEDGER_IO, without the password in the message', async () => {
    const err = await openPgLedger({ ...pgLedgerOptions('postgres://tillgate:s3cret-pw@127.0.0.1:1/nowhere'), connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LEDGER_IO' });
    expect(String((err as Error).message)).not.toContain('s3cret-pw');
  });
});
