/**
 * Options of the cloud-bridge (`tillgate cloud`, DESIGN §3.5): one schema for flags, env vars,
 * config file and `startCloud()`. Every limit is named, has a default and a reason.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { MAX_PROVISIONING_KEYS } from '../protocol/endorsement.js';
import { idSchema } from '../protocol/ids.js';
import { parsePublicKey } from '../protocol/keys.js';
import { MAX_INGEST_BODY_BYTES, MAX_INGEST_ENROLLMENTS, MAX_INGEST_EVENTS } from '../protocol/ingest-api.js';
import type { OptionSpecs } from '../lib/config.js';
import { AT_REST_OPTION_SPECS, atRestOptionsShape } from '../lib/at-rest/options.js';
import { MAX_LEDGER_READ } from './ledger.js';
import { LIFECYCLE_OPTION_SPECS, lifecycleOptionsShape } from './lifecycle/options.js';

export const DEFAULT_DATA_DIR = '.tillgate/cloud';
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_HTTP_PORT = 8090;
/** The protocol's own bound (DESIGN §3.4): a full batch of 1,000 events of 16 KiB fits. */
export const DEFAULT_MAX_BODY_BYTES = MAX_INGEST_BODY_BYTES;
export const DEFAULT_MAX_EVENTS_PER_REQUEST = MAX_INGEST_EVENTS;
export const DEFAULT_MAX_ENROLLMENTS_PER_REQUEST = MAX_INGEST_ENROLLMENTS;
/** Ingest requests handled at once; beyond it the answer is 429 (retry), so memory stays bounded. */
export const DEFAULT_MAX_INFLIGHT_INGESTS = 32;
/** Events per page of the read API when the caller does not say. */
export const DEFAULT_READ_LIMIT = 100;
/** Largest page of the read API: a page of 16 KiB events stays under ~16 MB. */
export const DEFAULT_MAX_READ_LIMIT = 1000;
/** A request (headers and body) must arrive within this, so slow clients cannot hold sockets. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * Ed25519 verify workers: verify is the costliest ingest step (~6,500/s per core here), so use the
 * cores, up to 4 (a cloud-bridge replica scales out beyond that). 0 verifies on the event loop.
 */
export const DEFAULT_VERIFY_THREADS = Math.min(4, availableParallelism());
/** How long close() lets running requests finish before it cuts their connections. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;
/**
 * PostgreSQL connections per replica. An append holds one connection for its transaction, so this
 * bounds the appends a replica runs at once; 10 replicas x 10 stay well under PostgreSQL's default
 * max_connections of 100.
 */
export const DEFAULT_DB_POOL_MAX = 10;
/**
 * Longest a single SQL statement may run before PostgreSQL cancels it: a full 1,000-event append
 * takes milliseconds, so 10 s only ends statements stuck behind a lock or a sick disk (the gateway
 * gets a 503 and retries).
 */
export const DEFAULT_DB_STATEMENT_TIMEOUT_MS = 10_000;
/** Longest wait for a new connection (the pool's and the TCP handshake), then 503. */
export const DEFAULT_DB_CONNECT_TIMEOUT_MS = 5_000;
/** An idle pooled connection is closed after this, so a quiet replica holds few server processes. */
export const DEFAULT_DB_IDLE_TIMEOUT_MS = 30_000;
/**
 * Times one transaction is retried inside the ledger on a serialization failure (40001), a
 * deadlock (40P01) or a lost race on a unique key (23505) before the answer is a retryable 503.
 * Each retry re-reads the heads, so it can only converge; 5 is far above what races produce.
 */
export const DEFAULT_DB_RETRY_MAX = 5;
/**
 * Longest a starting replica waits for another one to finish migrating (pg_advisory_lock), then it
 * fails to start and its supervisor restarts it.
 */
export const DEFAULT_DB_MIGRATION_LOCK_TIMEOUT_MS = 60_000;

/**
 * Tokens one gateway may have at once: its token, and during a rotation the next one (both work
 * until the old entry is removed from `--gateways`).
 */
export const MAX_TOKENS_PER_GATEWAY = 2;

/** One gateway allowed to ingest: its id, its store, its bearer token. */
export interface GatewayCredential {
  readonly id: string;
  readonly store: string;
  readonly token: string;
}

const GATEWAY_SPEC_MESSAGE = 'each gateway must be GATEWAY:STORE:TOKEN with ids matching ^[a-z0-9][a-z0-9_-]{0,63}$';

/** `g-1:s-1:TOKEN` (DESIGN §3.5); the token is everything after the second colon. */
const gatewaySpecSchema = z.string().transform((spec, ctx): GatewayCredential => {
  const first = spec.indexOf(':');
  const second = first === -1 ? -1 : spec.indexOf(':', first + 1);
  const id = spec.slice(0, first);
  const store = spec.slice(first + 1, second);
  const token = spec.slice(second + 1);
  if (second === -1 || !idSchema.safeParse(id).success || !idSchema.safeParse(store).success || token === '') {
    ctx.addIssue({ code: 'custom', message: GATEWAY_SPEC_MESSAGE });
    return z.NEVER;
  }
  return { id, store, token };
});
const gatewayObjectSchema = z.object({ id: idSchema, store: idSchema, token: z.string().min(1) });

const limit = (max: number) => z.number().int().min(1).max(max);

/** base64url of a raw 32-byte Ed25519 public key (DESIGN §3.1, §3.5). */
const provisioningKeySchema = z.string().refine((k) => {
  try {
    parsePublicKey(k);
    return true;
  } catch {
    return false;
  }
}, 'each provisioning key must be base64url of a raw 32-byte Ed25519 public key');

export const cloudOptionsSchema = z
  .object({
    dataDir: z.string().min(1).optional(),
    databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
    host: z.string().min(1).default(DEFAULT_HOST),
    httpPort: z.number().int().min(0).max(65535).default(DEFAULT_HTTP_PORT),
    adminToken: z.string().min(1).optional(),
    gateways: z
      .array(z.union([gatewaySpecSchema, gatewayObjectSchema], { error: GATEWAY_SPEC_MESSAGE }))
      .max(10_000)
      .default([]),
    // The trust anchor (DESIGN §3.1): the operator's provisioning public keys. Without them the cloud
    // refuses to start, unless trustGatewayEnrollments says explicitly to trust gateways instead.
    provisioningKeys: z.array(provisioningKeySchema).max(MAX_PROVISIONING_KEYS).default([]),
    trustGatewayEnrollments: z.boolean().default(false),
    maxBodyBytes: limit(MAX_INGEST_BODY_BYTES).default(DEFAULT_MAX_BODY_BYTES),
    maxEventsPerRequest: limit(MAX_INGEST_EVENTS).default(DEFAULT_MAX_EVENTS_PER_REQUEST),
    maxEnrollmentsPerRequest: limit(MAX_INGEST_ENROLLMENTS).default(DEFAULT_MAX_ENROLLMENTS_PER_REQUEST),
    maxInflightIngests: limit(10_000).default(DEFAULT_MAX_INFLIGHT_INGESTS),
    maxReadLimit: limit(MAX_LEDGER_READ).default(DEFAULT_MAX_READ_LIMIT),
    requestTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_REQUEST_TIMEOUT_MS),
    verifyThreads: z.number().int().min(0).max(64).default(DEFAULT_VERIFY_THREADS),
    shutdownGraceMs: z.number().int().min(0).max(600_000).default(DEFAULT_SHUTDOWN_GRACE_MS),
    dbPoolMax: z.number().int().min(1).max(1_000).default(DEFAULT_DB_POOL_MAX),
    dbStatementTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_DB_STATEMENT_TIMEOUT_MS),
    dbConnectTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_DB_CONNECT_TIMEOUT_MS),
    dbIdleTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(DEFAULT_DB_IDLE_TIMEOUT_MS),
    dbRetryMax: z.number().int().min(0).max(100).default(DEFAULT_DB_RETRY_MAX),
    dbMigrationLockTimeoutMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_DB_MIGRATION_LOCK_TIMEOUT_MS),
    logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    // The payment lifecycle's options (PSP webhooks, optimism, reconciliation): lifecycle/options.ts.
    ...lifecycleOptionsShape,
    // Encryption at rest of the embedded LevelDB ledger (lib/at-rest/options.ts).
    ...atRestOptionsShape,
  })
  .superRefine((o, ctx) => {
    if (o.dataDir !== undefined && o.databaseUrl !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['databaseUrl'], message: 'give either --data-dir or --database-url, not both' });
    }
    if (o.provisioningKeys.length === 0 && !o.trustGatewayEnrollments) {
      ctx.addIssue({
        code: 'custom',
        path: ['provisioningKeys'],
        message: 'give the operator\'s provisioning public keys (from `tillgate provision init`), or --trust-gateway-enrollments to accept any key a gateway enrolls (unsafe: a stolen gateway token could then forge payments)',
      });
    }
    if (o.provisioningKeys.length > 0 && o.trustGatewayEnrollments) {
      ctx.addIssue({ code: 'custom', path: ['trustGatewayEnrollments'], message: 'give either --provisioning-keys or --trust-gateway-enrollments, not both' });
    }
    // A gateway may be listed twice, with two tokens, while its token is rotated (the old and the
    // new one are both accepted until the old entry is removed); never for two stores, never more.
    const ids = new Map<string, { store: string; count: number }>();
    const tokens = new Set<string>();
    for (const g of o.gateways) {
      const seen = ids.get(g.id);
      if (seen !== undefined && seen.store !== g.store) ctx.addIssue({ code: 'custom', path: ['gateways'], message: `gateway ${g.id} is listed for two stores` });
      else if (seen !== undefined && seen.count >= MAX_TOKENS_PER_GATEWAY) ctx.addIssue({ code: 'custom', path: ['gateways'], message: `gateway ${g.id} is listed more than ${MAX_TOKENS_PER_GATEWAY} times (one token, or two while rotating)` });
      if (tokens.has(g.token)) ctx.addIssue({ code: 'custom', path: ['gateways'], message: `two gateway entries share a token` });
      ids.set(g.id, { store: g.store, count: (seen?.count ?? 0) + 1 });
      tokens.add(g.token);
    }
  });

/** What callers of `startCloud()` pass: everything optional but the storage choice defaults too. */
export type CloudOptionsInput = z.input<typeof cloudOptionsSchema>;
export type CloudOptions = z.output<typeof cloudOptionsSchema>;

/** Flag/env/config-file names and docs for `loadConfig` and `--help`. */
export const cloudOptionSpecs: OptionSpecs = {
  dataDir: { type: 'string', doc: `LevelDB ledger directory (default ${DEFAULT_DATA_DIR}); one process per directory` },
  databaseUrl: { type: 'string', secret: true, doc: 'postgres://user:password@host:port/db: a PostgreSQL ledger shared by many replicas (instead of --data-dir); the password may also come from PGPASSWORD' },
  host: { type: 'string', doc: `address to listen on (default ${DEFAULT_HOST})` },
  httpPort: { type: 'number', doc: `HTTP port (default ${DEFAULT_HTTP_PORT}; 0 = any free port)` },
  adminToken: { type: 'string', secret: true, doc: 'bearer token of the read API (/v1/stores/…); without it the read API is closed' },
  gateways: { type: 'list', secret: true, doc: 'gateways allowed to ingest: GATEWAY:STORE:TOKEN[,…]; a gateway listed twice with two tokens accepts both (token rotation)' },
  provisioningKeys: { type: 'list', doc: 'the operator\'s provisioning public keys, base64url raw 32 bytes[,…]: a terminal key is accepted only with an endorsement by one of them (required unless --trust-gateway-enrollments)' },
  trustGatewayEnrollments: { type: 'boolean', doc: 'accept any key an authenticated gateway enrolls, without an endorsement (unsafe: a stolen gateway token can forge payments; warned at start and on /healthz)' },
  maxBodyBytes: { type: 'number', doc: `largest ingest body in bytes (default and maximum ${DEFAULT_MAX_BODY_BYTES})` },
  maxEventsPerRequest: { type: 'number', doc: `most events in one ingest request (default ${DEFAULT_MAX_EVENTS_PER_REQUEST})` },
  maxEnrollmentsPerRequest: { type: 'number', doc: `most enrollments in one ingest request (default ${DEFAULT_MAX_ENROLLMENTS_PER_REQUEST})` },
  maxInflightIngests: { type: 'number', doc: `ingest requests handled at once, then 429 (default ${DEFAULT_MAX_INFLIGHT_INGESTS})` },
  maxReadLimit: { type: 'number', doc: `largest page of the read API (default ${DEFAULT_MAX_READ_LIMIT})` },
  requestTimeoutMs: { type: 'number', doc: `time a client has to send a whole request (default ${DEFAULT_REQUEST_TIMEOUT_MS})` },
  verifyThreads: { type: 'number', doc: `Ed25519 verify worker threads, 0 = on the event loop (default ${DEFAULT_VERIFY_THREADS}: cores, at most 4)` },
  shutdownGraceMs: { type: 'number', doc: `time running requests get on shutdown (default ${DEFAULT_SHUTDOWN_GRACE_MS})` },
  dbPoolMax: { type: 'number', doc: `PostgreSQL connections per replica (default ${DEFAULT_DB_POOL_MAX})` },
  dbStatementTimeoutMs: { type: 'number', doc: `PostgreSQL statement timeout (default ${DEFAULT_DB_STATEMENT_TIMEOUT_MS})` },
  dbConnectTimeoutMs: { type: 'number', doc: `wait for a PostgreSQL connection, then 503 (default ${DEFAULT_DB_CONNECT_TIMEOUT_MS})` },
  dbIdleTimeoutMs: { type: 'number', doc: `idle PostgreSQL connections are closed after this (default ${DEFAULT_DB_IDLE_TIMEOUT_MS})` },
  dbRetryMax: { type: 'number', doc: `retries of a transaction on serialization failure or deadlock, then 503 (default ${DEFAULT_DB_RETRY_MAX})` },
  dbMigrationLockTimeoutMs: { type: 'number', doc: `wait for another replica's schema migration at start (default ${DEFAULT_DB_MIGRATION_LOCK_TIMEOUT_MS})` },
  logLevel: { type: 'string', doc: 'debug | info | warn | error | silent (default info)' },
  ...LIFECYCLE_OPTION_SPECS,
  ...AT_REST_OPTION_SPECS,
};
