/**
 * Builders shared by the cloud-bridge tests: an in-process app on a real ledger (LevelDB in a temp
 * dir, sealed with a data key file there, or PostgreSQL in a fresh database of the run's server),
 * bodies, snapshots.
 */
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import type { Hono } from 'hono';
import { KeyCache } from '../../protocol/keys.js';
import type { KeyObjectSigner } from '../../protocol/signer.js';
import type { IngestRequest } from '../../protocol/ingest-api.js';
import { createLogger } from '../../lib/logger.js';
import { GatewayDirectory } from '../../cloud-bridge/auth.js';
import { createCloudApp } from '../../cloud-bridge/http/app.js';
import { openLevelLedger } from '../../cloud-bridge/level-ledger.js';
import type { Ledger } from '../../cloud-bridge/ledger.js';
import { CloudMetrics } from '../../cloud-bridge/metrics.js';
import { inlineVerifier } from '../../lib/verify-pool.js';
import { cloudOptionsSchema, type CloudOptionsInput } from '../../cloud-bridge/options.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { freshDatabase, type TestDatabase } from '../support/postgres/test-database.js';
import { openPgLedger } from '../../cloud-bridge/pg/pg-ledger.js';
import { silentLogger } from '../../lib/logger.js';
import { testUuid } from '../support/events.js';
import { endorse, TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { enrollmentTrustOf } from '../../cloud-bridge/enrollment-trust.js';

export const GW1 = { id: 'g-1', store: 's-1', token: 'token-of-gateway-one-0123456789' };
export const GW2 = { id: 'g-2', store: 's-2', token: 'token-of-gateway-two-0123456789' };
export const ADMIN = 'admin-token-0123456789abcdef';

export interface TestCloud {
  readonly app: Hono;
  readonly ledger: Ledger;
  readonly clock: FakeClock;
  readonly logs: string[];
  readonly metrics: CloudMetrics;
}

/** Options of a PostgreSQL ledger in tests: small pool, the production timeouts' shape. */
export function pgLedgerOptions(databaseUrl: string) {
  return {
    databaseUrl,
    poolMax: 4,
    statementTimeoutMs: 10_000,
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 10_000,
    retryMax: 5,
    migrationLockTimeoutMs: 10_000,
    logger: silentLogger,
  };
}

/** Where a test cloud keeps its ledger; `open` may be called again after the ledger closed. */
export interface TestStorage {
  readonly kind: 'LevelDB' | 'PostgreSQL';
  open(clock: FakeClock): Promise<Ledger>;
  destroy(): Promise<void>;
  /** The PostgreSQL database, for tests that look at or damage rows directly. */
  readonly db?: TestDatabase;
}

export async function levelStorage(): Promise<TestStorage> {
  const dir = await makeTempDir('tillgate-cloud-');
  return { kind: 'LevelDB', open: (clock) => openLevelLedger({ dataDir: dir, clock, keys: defaultDataKeys(dir) }), destroy: () => removeDir(dir) };
}

export async function pgStorage(): Promise<TestStorage> {
  const db = await freshDatabase();
  return { kind: 'PostgreSQL', open: () => openPgLedger(pgLedgerOptions(db.url)), destroy: () => db.drop(), db };
}

export const STORAGES = { LevelDB: levelStorage, PostgreSQL: pgStorage } as const;

/**
 * An in-process cloud app on a real ledger (a LevelDB directory, or a TestStorage). It trusts the
 * test provisioning key (test/support/provisioning.ts) unless `overrides` says otherwise (other
 * keys, or `trustGatewayEnrollments: true`).
 */
export async function makeTestCloud(storage: string | TestStorage, overrides: Partial<CloudOptionsInput> = {}): Promise<TestCloud> {
  const trust = overrides.trustGatewayEnrollments === true ? {} : { provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY] };
  const options = cloudOptionsSchema.parse({ gateways: [GW1, GW2], adminToken: ADMIN, ...trust, ...overrides });
  const clock = new FakeClock();
  const logs: string[] = [];
  const ledger = typeof storage === 'string' ? await openLevelLedger({ dataDir: storage, clock, keys: defaultDataKeys(storage) }) : await storage.open(clock);
  const metrics = new CloudMetrics();
  const app = createCloudApp({
    ledger,
    directory: new GatewayDirectory(options.gateways, options.adminToken),
    metrics,
    verifier: inlineVerifier(new KeyCache()),
    clock,
    logger: createLogger({ level: 'debug', write: (line) => logs.push(line) }),
    limits: { ...options, defaultReadLimit: 100 },
    isReady: () => true,
    trust: enrollmentTrustOf(options),
  });
  return { app, ledger, clock, logs, metrics };
}

/** An enrollment of `signer`'s key as `terminal` of `store`, endorsed by the test provisioning key. */
export function enrollmentOf(terminal: string, signer: KeyObjectSigner, store = 's-1') {
  return { terminal, kid: signer.kid, publicKey: signer.publicKeyRaw.toString('base64url'), at: '2026-11-22T09:00:00Z', endorsement: endorse(store, terminal, signer) };
}

let batchCounter = 0;
export function ingestBody(gateway: { id: string; store: string }, events: string[], enrollments: IngestRequest['enrollments'] = []): IngestRequest {
  return { gateway: gateway.id, store: gateway.store, batch: testUuid('batch', ++batchCounter), enrollments, events };
}

/** POSTs a body to /v1/ingest with the gateway's bearer token (`null`: no Authorization header). */
export function postIngest(app: Hono, body: unknown, token: string | null = GW1.token): Promise<Response> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return Promise.resolve(app.request('/v1/ingest', { method: 'POST', headers, body: text }));
}

/** Everything the ledger holds for the given terminals: compared before and after bad input. */
export async function snapshot(ledger: Ledger, stores: string[], terminals: string[]): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const s of stores) {
    out[`${s}/heads`] = await ledger.listHeads(s, '', 1000);
    for (const t of terminals) out[`${s}/${t}`] = await ledger.readEvents(s, t, 0, 1000);
  }
  return out;
}
