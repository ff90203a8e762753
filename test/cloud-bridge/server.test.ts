/** The cloud-bridge over real HTTP: startCloud on 127.0.0.1 port 0, and `tillgate cloud` as a process. */
import { CLOUD_MIGRATIONS } from '../../cloud-bridge/pg/migrations/index.js';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { eventsPageSchema, ingestResponseSchema } from '../../protocol/ingest-api.js';
import { startCloud, type CloudHandle } from '../../cloud-bridge/index.js';
import { createLogger } from '../../lib/logger.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { signChain, testSigner } from '../support/events.js';
import { within } from '../support/wait.js';
import { TEST_PROVISIONING, TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { ADMIN, enrollmentOf, GW1, ingestBody } from './helpers.js';
import { spawnCloud, type CloudProcess } from './cloud-process.js';
import { freshDatabase, postgresAvailable } from '../support/postgres/test-database.js';

const alice = testSigner('server-alice');
const quiet = createLogger({ level: 'silent' });

describe('cloud server', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(extra: Record<string, unknown> = {}): Promise<CloudHandle> {
    const dir = await makeTempDir('tillgate-cloud-');
    cleanups.push(() => removeDir(dir));
    const cloud = await startCloud({ dataDir: dir, host: '127.0.0.1', httpPort: 0, adminToken: ADMIN, gateways: [`g-1:s-1:${GW1.token}`], provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY], ...extra }, { logger: quiet });
    cleanups.push(() => cloud.close());
    return cloud;
  }

  it('server - ingests over real HTTP and reads the events back', async () => {
    const cloud = await start();
    expect(cloud.url).toBe(`http://127.0.0.1:${cloud.httpPort}`);
    const chain = await signChain(alice, 's-1', 't-1', 5);
    // Verified on the worker threads (default verifyThreads): a forged sixth event is refused.
    const forged = (await signChain(testSigner('server-mallory'), 's-1', 't-1', 6, { seq: 0, hash: '' }))[5]!.jws;
    const [, payload, signature] = forged.split('.');
    const forgedAsAlice = `${chain[4]!.jws.split('.')[0]}.${payload}.${signature}`; // names alice's kid
    const res = await fetch(`${cloud.url}/v1/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${GW1.token}` },
      body: JSON.stringify(ingestBody(GW1, [...chain.map((e) => e.jws), forgedAsAlice], [enrollmentOf('t-1', alice)])),
    });
    expect(res.status).toBe(200);
    const results = ingestResponseSchema.parse(await res.json()).results;
    expect(results.map((r) => r.code ?? r.status)).toEqual([...Array(5).fill('accepted'), 'BAD_SIGNATURE']);
    const page = eventsPageSchema.parse(await (await fetch(`${cloud.url}/v1/stores/s-1/terminals/t-1/events`, { headers: { authorization: `Bearer ${ADMIN}` } })).json());
    expect(page.head).toBe(5);
    expect(page.events.map((e) => e.jws)).toEqual(chain.map((e) => e.jws));
    expect((await fetch(`${cloud.url}/readyz`)).status).toBe(200);
  });

  it('server - bounds real bodies: a declared and a chunked oversize are both 413', async () => {
    const cloud = await start({ maxBodyBytes: 1024 });
    const big = JSON.stringify(ingestBody(GW1, ['x'.repeat(3000)]));
    const declared = await fetch(`${cloud.url}/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${GW1.token}` }, body: big });
    expect(declared.status).toBe(413);
    const chunkedStatus = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${cloud.url}/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${GW1.token}`, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 6; i++) req.write('x'.repeat(500));
      req.end();
    });
    expect(chunkedStatus).toBe(413);
  });

  it('server - bad storage options are CONFIG_INVALID; an unreachable database fails the start with LEDGER_IO', async () => {
    await expect(startCloud({ dataDir: '/tmp/x', databaseUrl: 'postgres://127.0.0.1/tillgate', httpPort: 0, trustGatewayEnrollments: true }, { logger: quiet })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(startCloud({ databaseUrl: 'mysql://127.0.0.1/tillgate', httpPort: 0, trustGatewayEnrollments: true }, { logger: quiet })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(startCloud({ databaseUrl: 'postgres://127.0.0.1/x', dbPoolMax: 0, httpPort: 0, trustGatewayEnrollments: true }, { logger: quiet })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(startCloud({ httpPort: -1 }, { logger: quiet })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(startCloud({ databaseUrl: 'postgres://u:pw@127.0.0.1:1/x', dbConnectTimeoutMs: 1_000, httpPort: 0, trustGatewayEnrollments: true }, { logger: quiet })).rejects.toMatchObject({ code: 'LEDGER_IO' });
  });

  it.skipIf(!postgresAvailable())('server - two replicas on one PostgreSQL database serve one ledger: stored through one, read through the other', async () => {
    const db = await freshDatabase({ migrated: false });
    cleanups.push(() => db.drop());
    const options = { databaseUrl: db.url, host: '127.0.0.1', httpPort: 0, adminToken: ADMIN, gateways: [`g-1:s-1:${GW1.token}`], provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY] };
    // Both start at once on an empty database: the advisory lock lets one migrate, the other wait.
    const [a, b] = await Promise.all([startCloud(options, { logger: quiet }), startCloud(options, { logger: quiet })]);
    cleanups.push(() => a.close(), () => b.close());
    const chain = await signChain(alice, 's-1', 't-1', 5);
    const res = await fetch(`${a.url}/v1/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${GW1.token}` },
      body: JSON.stringify(ingestBody(GW1, chain.map((e) => e.jws), [enrollmentOf('t-1', alice)])),
    });
    expect(ingestResponseSchema.parse(await res.json()).results.map((r) => r.status)).toEqual(Array(5).fill('accepted'));
    const page = eventsPageSchema.parse(await (await fetch(`${b.url}/v1/stores/s-1/terminals/t-1/events`, { headers: { authorization: `Bearer ${ADMIN}` } })).json());
    expect(page.events.map((e) => e.jws)).toEqual(chain.map((e) => e.jws));
    expect((await db.query('SELECT count(*)::int AS n FROM tillgate_migrations')).rows[0]).toEqual({ n: CLOUD_MIGRATIONS.length });
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
  });

  it.skipIf(!postgresAvailable())('server - tillgate cloud --database-url runs on PostgreSQL and never logs the password', async () => {
    const db = await freshDatabase();
    cleanups.push(() => db.drop());
    const u = new URL(db.url);
    u.password = 'never-log-this-pw'; // the test server trusts local connections, so any password works
    const proc: CloudProcess = await spawnCloud(['--database-url', u.toString(), '--gateways', `g-1:s-1:${GW1.token}`, '--admin-token', ADMIN, '--provisioning-keys', TEST_PROVISIONING_PUBLIC_KEY, '--log-level', 'debug']);
    cleanups.push(async () => proc.child.kill('SIGKILL'));
    expect((await fetch(`${proc.url}/readyz`)).status).toBe(200);
    proc.child.kill('SIGTERM');
    expect(await within(proc.exited, 10_000, 'exit after SIGTERM')).toBe(0);
    expect(proc.stderr()).toContain('PostgreSQL ledger open');
    expect(proc.stderr()).not.toContain('never-log-this-pw');
  });

  it('server - close is graceful and idempotent, and the directory can be reopened', async () => {
    const dir = await makeTempDir('tillgate-cloud-');
    cleanups.push(() => removeDir(dir));
    const first = await startCloud({ dataDir: dir, host: '127.0.0.1', httpPort: 0, provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY] }, { logger: quiet });
    await Promise.all([first.close(), first.close()]);
    expect(first.state).toBe('closed');
    expect(first.ledger.state).toBe('closed');
    const second = await startCloud({ dataDir: dir, host: '127.0.0.1', httpPort: 0, trustGatewayEnrollments: true }, { logger: quiet });
    await second.close();
  });

  it('server - tillgate cloud prints its ready line, serves, and exits 0 on SIGTERM', async () => {
    const dir = await makeTempDir('tillgate-cloud-');
    cleanups.push(() => removeDir(dir));
    const proc: CloudProcess = await spawnCloud(['--data-dir', dir, '--gateways', `g-1:s-1:${GW1.token}`, '--admin-token', ADMIN]);
    cleanups.push(async () => proc.child.kill('SIGKILL'));
    expect(proc.url).toBe(`http://127.0.0.1:${proc.httpPort}`);
    expect(await (await fetch(`${proc.url}/healthz`)).json()).toEqual({ status: 'ok', enrollmentTrust: 'provisioning-keys', provisioningKeys: [TEST_PROVISIONING.kid] });
    proc.child.kill('SIGTERM');
    expect(await within(proc.exited, 10_000, 'exit after SIGTERM')).toBe(0);
  });
});
