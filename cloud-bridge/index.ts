/**
 * The cloud-bridge (DESIGN §5.4): `startCloud()` wires the production objects in one place: the
 * ledger chosen by the options, the gateway directory, metrics, the Hono app and its HTTP server.
 */
import { listenFailure } from '../lib/cli-failure.js';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { TillgateError } from '../protocol/errors.js';
import { KeyCache } from '../protocol/keys.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { loadDataKeys, reencryptPace } from '../lib/at-rest/options.js';
import type { EmbeddedAtRest } from './lifecycle/wire.js';
import { GatewayDirectory } from './auth.js';
import { createCloudApp } from './http/app.js';
import { openLevelLedger } from './level-ledger.js';
import { openPgLedger } from './pg/pg-ledger.js';
import type { Ledger } from './ledger.js';
import { enrollmentTrustOf, TRUST_GATEWAY_WARNING } from './enrollment-trust.js';
import { CloudMetrics } from './metrics.js';
import { inlineVerifier, workerVerifier } from '../lib/verify-pool.js';
import { cloudOptionsSchema, DEFAULT_DATA_DIR, DEFAULT_READ_LIMIT, type CloudOptions, type CloudOptionsInput } from './options.js';
import type { Lifecycle } from './lifecycle/lifecycle.js';
import { lifecycleOptionsOf, openLifecycle, type LifecycleHandle } from './lifecycle/wire.js';

export * from './options.js';
export type { Ledger, AppendItem, AppendOutcome, KeyRecord, KeyView, KeyState, KeyRef, LedgerEvent, TerminalHead, LedgerState } from './ledger.js';
export type { LedgerFeed, FeedEntry, FeedEventFields } from './feed.js';
export { LEDGER_ERROR_CODES } from './ledger.js';
export { openLevelLedger } from './level-ledger.js';
export { openPgLedger, PgLedger } from './pg/pg-ledger.js';
export { CLOUD_MIGRATIONS } from './pg/migrations/index.js';
export { migrate, type Migration } from './pg/migrate.js';
export { createCloudApp } from './http/app.js';
export { enrollmentTrustOf, judgeEnrollment, ENROLLMENT_REFUSAL_CODES, TRUST_GATEWAY_WARNING, type EnrollmentTrust } from './enrollment-trust.js';
export { inlineVerifier, workerVerifier, type Verifier } from '../lib/verify-pool.js';

export type CloudState = 'starting' | 'running' | 'closing' | 'closed';

export interface CloudHandle {
  readonly httpPort: number;
  /** Base URL, e.g. `http://127.0.0.1:8090` (a wildcard host is shown as 127.0.0.1). */
  readonly url: string;
  readonly app: Hono;
  readonly ledger: Ledger;
  readonly options: Readonly<CloudOptions>;
  /** The payment lifecycle (DESIGN §3.6), following the ledger's feed. */
  readonly lifecycle: Lifecycle;
  readonly state: CloudState;
  /** Stops accepting, lets running requests finish (bounded), closes the ledger. Idempotent. */
  close(): Promise<void>;
}

export interface CloudDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Validates the options, opens the ledger and listens. Rejects with CONFIG_INVALID or LEDGER_*. */
export async function startCloud(input: CloudOptionsInput, deps: CloudDeps = {}): Promise<CloudHandle> {
  const parsed = cloudOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TillgateError('CONFIG_INVALID', `invalid cloud option ${String(issue?.path[0] ?? '')}: ${issue?.message ?? 'invalid'}`);
  }
  const options = Object.freeze(parsed.data);
  const clock = deps.clock ?? systemClock;
  const logger = (deps.logger ?? createLogger({ level: options.logLevel })).child({ component: 'cloud' });
  const trust = enrollmentTrustOf(options);
  const metrics = new CloudMetrics();
  metrics.trustGatewayEnrollments.set(trust.mode === 'gateway' ? 1 : 0);
  metrics.provisioningKeys.set(trust.mode === 'gateway' ? 0 : trust.keys.size);
  const atRest = embeddedAtRest(options, logger);
  const ledger = await openLedger(options, clock, logger, metrics, atRest);
  let lifecycle: LifecycleHandle;
  try {
    lifecycle = await openLifecycle({ ledger, dataDir: options.dataDir ?? DEFAULT_DATA_DIR, dbRetryMax: options.dbRetryMax, options: lifecycleOptionsOf(options), clock, logger, registry: metrics.registry, ...(atRest === undefined ? {} : { atRest }) });
  } catch (err) {
    await ledger.close();
    throw err;
  }
  const verifier = options.verifyThreads === 0 ? inlineVerifier(new KeyCache()) : workerVerifier(options.verifyThreads);
  let state: CloudState = 'starting';
  const app = createCloudApp({
    ledger,
    directory: new GatewayDirectory(options.gateways, options.adminToken),
    metrics,
    lifecycle: lifecycle.lifecycle,
    verifier,
    trust,
    clock,
    logger,
    limits: { ...options, defaultReadLimit: Math.min(DEFAULT_READ_LIMIT, options.maxReadLimit) },
    isReady: () => state === 'running',
  });
  let server: Server;
  let info: AddressInfo;
  try {
    ({ server, info } = await listen(app, options));
  } catch (cause) {
    await verifier.close();
    await lifecycle.close();
    await ledger.close();
    // A port in use or not allowed names --http-port; anything else is LISTEN_FAILED.
    const named = listenFailure(cause, 'httpPort', options.host, options.httpPort);
    throw named !== cause ? named : new TillgateError('LISTEN_FAILED', `cannot listen on ${options.host}:${options.httpPort}`, { cause });
  }
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${info.port}`;
  if (options.adminToken === undefined) logger.warn('no admin token: the read API is closed');
  if (options.gateways.length === 0) logger.warn('no gateways configured: every ingest is 401');
  if (trust.mode === 'gateway') logger.warn(`${TRUST_GATEWAY_WARNING.code}: ${TRUST_GATEWAY_WARNING.message}`, { warning: TRUST_GATEWAY_WARNING.code });
  else logger.info('enrollments need an endorsement by a provisioning key', { provisioningKeys: trust.keys.kids() });
  lifecycle.lifecycle.start();
  state = 'running';
  logger.info('cloud-bridge listening', { url, gateways: options.gateways.map((g) => `${g.id}:${g.store}`) });

  let closing: Promise<void> | undefined;
  return {
    httpPort: info.port,
    url,
    app,
    ledger,
    options,
    lifecycle: lifecycle.lifecycle,
    get state() {
      return state;
    },
    close() {
      closing ??= (async () => {
        state = 'closing';
        await stopServer(server, options.shutdownGraceMs);
        await verifier.close();
        await lifecycle.close();
        await ledger.close();
        state = 'closed';
        logger.info('cloud-bridge closed');
      })();
      return closing;
    },
  };
}

/**
 * PostgreSQL with --database-url (many replicas, one database; encryption at rest is the
 * database's own, see docs/cloud-postgres.md), else the embedded LevelDB, sealed with the cloud's
 * data key.
 */
/**
 * The embedded (LevelDB) cloud seals its ledger and lifecycle store at rest with one data key (a key
 * file in its data directory by default); on PostgreSQL the database's own protection applies.
 */
function embeddedAtRest(options: CloudOptions, logger: Logger): EmbeddedAtRest | undefined {
  if (options.databaseUrl !== undefined) return undefined;
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  mkdirSync(dataDir, { recursive: true });
  const dataKeys = loadDataKeys(options, dataDir);
  logger.info('data key loaded for encryption at rest', { keyFile: dataKeys.path, source: dataKeys.source, currentKey: dataKeys.keys.current().id });
  return { keys: dataKeys.keys, pace: { ...reencryptPace(options), logger } };
}

async function openLedger(options: CloudOptions, clock: Clock, logger: Logger, metrics: CloudMetrics, atRest: EmbeddedAtRest | undefined): Promise<Ledger> {
  if (options.databaseUrl !== undefined) {
    return openPgLedger({
      databaseUrl: options.databaseUrl,
      poolMax: options.dbPoolMax,
      statementTimeoutMs: options.dbStatementTimeoutMs,
      connectTimeoutMs: options.dbConnectTimeoutMs,
      idleTimeoutMs: options.dbIdleTimeoutMs,
      retryMax: options.dbRetryMax,
      migrationLockTimeoutMs: options.dbMigrationLockTimeoutMs,
      logger: logger.child({ component: 'pg-ledger' }),
      onRetry: (sqlState) => metrics.ledgerRetries.inc({ sqlstate: sqlState }),
    });
  }
  if (atRest === undefined) throw new TypeError('the embedded ledger needs its data keys');
  return openLevelLedger({ dataDir: options.dataDir ?? DEFAULT_DATA_DIR, clock, keys: atRest.keys, atRest: atRest.pace });
}

function listen(app: Hono, options: CloudOptions): Promise<{ server: Server; info: AddressInfo }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.httpPort, hostname: options.host }) as Server;
    // Slow or stuck clients cannot hold a socket forever.
    server.requestTimeout = options.requestTimeoutMs;
    server.headersTimeout = Math.min(options.requestTimeoutMs, 60_000);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve({ server, info: server.address() as AddressInfo });
    });
  });
}

/** Graceful: no new connections, idle ones closed now, running requests get `graceMs`. */
function stopServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
