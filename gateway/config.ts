/**
 * Gateway options: `DEFAULT_*` constants, one zod schema that validates, fills defaults
 * and is frozen by `loadConfig`, and `GATEWAY_OPTION_SPECS` for flags, `TILLGATE_*` env vars, the
 * config file and `--help` (DESIGN §3.5). Every limit is a named option with its reason.
 */
import { z } from 'zod';
import { TillgateError } from '../protocol/errors.js';
import { MAX_PROVISIONING_KEYS } from '../protocol/endorsement.js';
import { idSchema } from '../protocol/ids.js';
import { parsePublicKey } from '../protocol/keys.js';
import { LOG_LEVELS } from '../lib/logger.js';
import type { OptionSpecs } from '../lib/config.js';
import { DELIVERY_OPTION_SPECS, deliveryOptionsShape } from './forwarder/options.js';
import { HEALTH_OPTION_SPECS, healthOptionsShape } from './health/options.js';
import { PREDICT_OPTION_SPECS, predictOptionsShape } from './predict/options.js';
import { STATUS_PAGE_OPTION_SPECS, statusPageOptionsShape } from './status-page/options.js';
import { UPDATES_OPTION_SPECS, updatesOptionsShape } from './updates/options.js';
import { AT_REST_OPTION_SPECS, atRestOptionsShape } from '../lib/at-rest/options.js';
import { HISTORY_OPTION_SPECS, historyOptionsShape } from './history/options.js';

export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_MQTT_PORT = 1883;
export const DEFAULT_MQTT_TLS_PORT = 8883;
export const DEFAULT_HTTP_PORT = 8080;
/** Stop accepting new events when the data disk is this full: leave room for LevelDB compaction. */
export const DEFAULT_DISK_HIGH_WATER_PCT = 90;
/**
 * Disk space kept in reserve (a ballast file, released when the disk is nearly full) so the
 * STORE_FULL answers can always be written and LevelDB can always replay its log at start (it needs
 * up to its 4 MiB write buffer and a table's worth): twice that. At most 5 % of the disk.
 */
export const DEFAULT_DISK_RESERVE_BYTES = 8 * 1024 * 1024;
/** How often the disk is measured; the check is one statfs call. */
export const DEFAULT_DISK_CHECK_INTERVAL_MS = 5_000;
/** How long the first append of a group waits for company before the synced write (DESIGN §5.1). */
export const DEFAULT_COMMIT_WINDOW_MS = 2;
/** Records per synced batch: 1,000 records cost ~12 ms to fsync here, the PUBACK latency budget. */
export const DEFAULT_COMMIT_MAX_RECORDS = 1_000;
/** Bytes per synced batch: 1,000 × a few-KiB events. */
export const DEFAULT_COMMIT_MAX_BYTES = 4 * 1024 * 1024;
/** Records waiting for a commit; past it a publish fails (the terminal reconnects and resends). */
export const DEFAULT_COMMIT_MAX_PENDING = 20_000;
/** Publishes of one client in the pipeline at once (Aedes runs a whole socket read concurrently). */
export const DEFAULT_MAX_INFLIGHT_PER_CLIENT = 1_024;
/** Authenticated MQTT connections (terminals' sessions): a store has tens of terminals. */
export const DEFAULT_MAX_CONNECTIONS = 1_000;
/**
 * Sockets that have not authenticated yet, all sources together: terminals connect one CONNECT at
 * a time and authenticate in milliseconds, so more waiting at once is a flood. Past it the oldest
 * pending socket is closed (idle ones first), never a session.
 */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 128;
/** Pending sockets from one source address: a terminal has one; more is a flood from that host. */
export const DEFAULT_MAX_PENDING_CONNECTIONS_PER_ADDRESS = 16;
/**
 * Largest MQTT packet a client may send. Events are ≤ 16 KiB; up to this size an oversized event
 * still gets its coded TOO_LARGE reject, past it the connection is closed before Aedes buffers it.
 */
export const DEFAULT_MQTT_MAX_PACKET_BYTES = 2 * 1024 * 1024;
/**
 * How long a socket may take to send CONNECT before it is dropped: MQTT.js sends it as soon as TCP
 * (and TLS, which completes before the clock starts) is up, so 5 s is generous on a store LAN.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/**
 * QoS 1 messages the broker keeps for one offline terminal with a persistent session. The retained
 * state topics (its ack, the gateway status) keep only their newest anyway; this bounds the rest
 * (rejects, updates): a day offline must not cost a day of messages in memory.
 */
export const DEFAULT_MQTT_OFFLINE_QUEUE_MAX = 100;
/** Enrolled terminals: bounds the in-memory registry and heads. */
export const DEFAULT_MAX_TERMINALS = 10_000;
/** Keys per terminal (rotation keeps a few old ones so their pending events still verify). */
export const DEFAULT_MAX_KEYS_PER_TERMINAL = 8;
/** Concurrent scrypt hashes: each takes ~50 ms and 16 MiB; two keep one core free for ingest. */
export const DEFAULT_AUTH_MAX_CONCURRENT_HASHES = 2;
/** CONNECTs waiting for a hash slot; past it they fail fast with "server unavailable". */
export const DEFAULT_AUTH_MAX_QUEUED_HASHES = 32;
/** Failed password checks per terminal before it is locked out for `authLockoutMs`. */
export const DEFAULT_AUTH_FAILURE_LIMIT = 5;
export const DEFAULT_AUTH_LOCKOUT_MS = 60_000;
/** Reject records kept on disk (oldest deleted first): a misbehaving terminal cannot fill the disk. */
export const DEFAULT_REJECTS_KEEP = 100_000;
/** Health samples kept on disk per terminal (a day at one sample a minute, and some). */
export const DEFAULT_HEALTH_SAMPLES_PER_TERMINAL = 2_000;
/** Health samples waiting to be written; past it samples are counted and dropped (telemetry). */
export const DEFAULT_HEALTH_QUEUE_MAX = 1_000;
/**
 * Worker threads for signature verification; 0 verifies on the event loop. One thread measured
 * faster in every paired run of bench/ingest.bench.ts on 2 cores (50 terminals: 6,291 vs 5,639,
 * 6,399 vs 3,213, 4,406 vs 2,584 events/s on a shared, noisy machine), and frees the event loop
 * for MQTT and LevelDB; a second thread only competes with them for the two cores.
 */
export const DEFAULT_VERIFY_THREADS = 1;
/** Largest enrollment request body: `{"terminal","publicKey","endorsement"}` is at most ~1.2 KiB. */
export const DEFAULT_ENROLL_BODY_MAX_BYTES = 4 * 1024;

const port = z.number().int().min(0).max(65_535);
/** base64url of a raw 32-byte Ed25519 public key (DESIGN §3.1). */
const provisioningKeySchema = z.string().refine((k) => {
  try {
    parsePublicKey(k);
    return true;
  } catch {
    return false;
  }
}, 'each provisioning key must be base64url of a raw 32-byte Ed25519 public key');
const positiveInt = z.number().int().positive();

export const gatewayOptionsSchema = z
  .object({
    dataDir: z.string().min(1),
    store: idSchema,
    gatewayId: idSchema,
    adminToken: z.string().min(8, 'must be at least 8 characters'),
    host: z.string().min(1).default(DEFAULT_HOST),
    mqttPort: port.default(DEFAULT_MQTT_PORT),
    mqttTlsPort: port.default(DEFAULT_MQTT_TLS_PORT),
    httpPort: port.default(DEFAULT_HTTP_PORT),
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    cloudUrl: z.url({ protocol: /^https?$/ }).optional(),
    cloudToken: z.string().min(1).optional(),
    storeOnly: z.boolean().default(false),
    provisioningKeys: z.array(provisioningKeySchema).max(MAX_PROVISIONING_KEYS).optional(),
    diskHighWaterPct: z.number().min(1).max(100).default(DEFAULT_DISK_HIGH_WATER_PCT),
    diskCheckIntervalMs: positiveInt.default(DEFAULT_DISK_CHECK_INTERVAL_MS),
    diskReserveBytes: z.number().int().min(0).max(1024 ** 4).default(DEFAULT_DISK_RESERVE_BYTES),
    commitWindowMs: z.number().min(0).max(1_000).default(DEFAULT_COMMIT_WINDOW_MS),
    commitMaxRecords: positiveInt.max(10_000).default(DEFAULT_COMMIT_MAX_RECORDS),
    commitMaxBytes: positiveInt.default(DEFAULT_COMMIT_MAX_BYTES),
    commitMaxPending: positiveInt.default(DEFAULT_COMMIT_MAX_PENDING),
    maxInflightPerClient: positiveInt.default(DEFAULT_MAX_INFLIGHT_PER_CLIENT),
    maxConnections: positiveInt.default(DEFAULT_MAX_CONNECTIONS),
    maxPendingConnections: positiveInt.max(100_000).default(DEFAULT_MAX_PENDING_CONNECTIONS),
    maxPendingConnectionsPerAddress: positiveInt.max(100_000).default(DEFAULT_MAX_PENDING_CONNECTIONS_PER_ADDRESS),
    mqttMaxPacketBytes: z.number().int().min(64 * 1024).max(256 * 1024 * 1024).default(DEFAULT_MQTT_MAX_PACKET_BYTES),
    connectTimeoutMs: positiveInt.default(DEFAULT_CONNECT_TIMEOUT_MS),
    mqttOfflineQueueMax: positiveInt.max(100_000).default(DEFAULT_MQTT_OFFLINE_QUEUE_MAX),
    maxTerminals: positiveInt.default(DEFAULT_MAX_TERMINALS),
    maxKeysPerTerminal: positiveInt.max(64).default(DEFAULT_MAX_KEYS_PER_TERMINAL),
    authMaxConcurrentHashes: positiveInt.max(16).default(DEFAULT_AUTH_MAX_CONCURRENT_HASHES),
    authMaxQueuedHashes: z.number().int().min(0).default(DEFAULT_AUTH_MAX_QUEUED_HASHES),
    authFailureLimit: positiveInt.default(DEFAULT_AUTH_FAILURE_LIMIT),
    authLockoutMs: positiveInt.default(DEFAULT_AUTH_LOCKOUT_MS),
    rejectsKeep: positiveInt.default(DEFAULT_REJECTS_KEEP),
    healthSamplesPerTerminal: positiveInt.default(DEFAULT_HEALTH_SAMPLES_PER_TERMINAL),
    healthQueueMax: positiveInt.default(DEFAULT_HEALTH_QUEUE_MAX),
    enrollBodyMaxBytes: positiveInt.max(1024 * 1024).default(DEFAULT_ENROLL_BODY_MAX_BYTES),
    verifyThreads: z.number().int().min(0).max(8).default(DEFAULT_VERIFY_THREADS),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    // The delivery side's options (forwarder, WAN monitor, retention): gateway/forwarder/options.ts.
    ...deliveryOptionsShape,
    // The status page's options (basic auth, live updates): gateway/status-page/options.ts.
    ...statusPageOptionsShape,
    // Health history roll-ups and retention: gateway/health/options.ts.
    ...healthOptionsShape,
    // Live failure prediction: gateway/predict/options.ts.
    ...predictOptionsShape,
    // Payment updates from the cloud to terminals: gateway/updates/options.ts.
    ...updatesOptionsShape,
    // Encryption at rest of the event store (lib/at-rest/options.ts).
    ...atRestOptionsShape,
    // The status page's last 24 hours: alarms, outages, backlog (gateway/history/options.ts).
    ...historyOptionsShape,
  })
  .superRefine((o, ctx) => {
    if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tlsCert'], message: 'tlsCert and tlsKey go together' });
    }
    // Half a cloud configuration would store payments and never send them, silently.
    if (!o.storeOnly && o.cloudUrl !== undefined && o.cloudToken === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cloudToken'], message: 'is missing while --cloud-url is set: the gateway would never send payments to the cloud; give the token (or a file holding it), or --store-only to keep payments on this gateway only' });
    }
    if (!o.storeOnly && o.cloudToken !== undefined && o.cloudUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cloudUrl'], message: 'is missing while a cloud token is set: give the cloud\'s URL, or --store-only to keep payments on this gateway only' });
    }
    if ((o.statusUser === undefined) !== (o.statusPassword === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['statusUser'], message: 'statusUser and statusPassword go together' });
    }
  });

/** What callers pass (defaults optional). */
export type GatewayOptionsInput = z.input<typeof gatewayOptionsSchema>;
/** Validated, defaults filled, frozen. */
export type GatewayOptions = Readonly<z.output<typeof gatewayOptionsSchema>>;

/** Validates, merges defaults and freezes programmatic options; a bad value throws CONFIG_INVALID. */
export function parseGatewayOptions(input: GatewayOptionsInput): GatewayOptions {
  const parsed = gatewayOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TillgateError('CONFIG_INVALID', `invalid gateway option ${String(issue?.path[0] ?? '')}: ${issue?.message ?? 'invalid'}`);
  }
  return Object.freeze(parsed.data);
}

export const GATEWAY_OPTION_SPECS: OptionSpecs = {
  dataDir: { type: 'string', doc: 'directory of the LevelDB event store (required)' },
  store: { type: 'string', doc: 'store id this gateway serves (required)' },
  gatewayId: { type: 'string', doc: 'this gateway\'s id, as the cloud knows it (required)' },
  adminToken: { type: 'string', secret: true, doc: 'bearer token for admin HTTP calls such as enrollment (required)' },
  host: { type: 'string', doc: `address to listen on (default ${DEFAULT_HOST})` },
  mqttPort: { type: 'number', doc: `MQTT TCP port, 0 = ephemeral (default ${DEFAULT_MQTT_PORT})` },
  mqttTlsPort: { type: 'number', doc: `MQTT over TLS port when a cert is set (default ${DEFAULT_MQTT_TLS_PORT})` },
  httpPort: { type: 'number', doc: `HTTP port of the status API, 0 = ephemeral (default ${DEFAULT_HTTP_PORT})` },
  tlsCert: { type: 'string', doc: 'PEM certificate file: enables MQTT over TLS' },
  tlsKey: { type: 'string', doc: 'PEM private key file for --tls-cert' },
  cloudUrl: { type: 'string', doc: 'cloud-bridge base URL (used by the forwarder)' },
  cloudToken: { type: 'string', secret: true, doc: 'bearer token of this gateway at the cloud' },
  storeOnly: { type: 'boolean', doc: 'keep payments on this gateway only, never send them to a cloud (the status page says so); without it a cloud URL needs a token' },
  provisioningKeys: { type: 'list', doc: 'trusted provisioning public keys (base64url raw 32 bytes, comma-separated): enrollment also checks the endorsement\'s signature, for a clear answer on the spot (the cloud checks it anyway)' },
  diskHighWaterPct: { type: 'number', doc: `stop accepting events past this disk use (default ${DEFAULT_DISK_HIGH_WATER_PCT})` },
  diskCheckIntervalMs: { type: 'number', doc: `disk check period (default ${DEFAULT_DISK_CHECK_INTERVAL_MS})` },
  diskReserveBytes: { type: 'number', doc: `disk space held in reserve so answers can always be written, at most 5 % of the disk; 0 = none (default ${DEFAULT_DISK_RESERVE_BYTES})` },
  commitWindowMs: { type: 'number', doc: `group-commit gathering window (default ${DEFAULT_COMMIT_WINDOW_MS})` },
  commitMaxRecords: { type: 'number', doc: `records per synced batch (default ${DEFAULT_COMMIT_MAX_RECORDS})` },
  commitMaxBytes: { type: 'number', doc: `bytes per synced batch (default ${DEFAULT_COMMIT_MAX_BYTES})` },
  commitMaxPending: { type: 'number', doc: `records waiting for a commit (default ${DEFAULT_COMMIT_MAX_PENDING})` },
  maxInflightPerClient: { type: 'number', doc: `publishes per client in the pipeline (default ${DEFAULT_MAX_INFLIGHT_PER_CLIENT})` },
  maxConnections: { type: 'number', doc: `authenticated MQTT connections (terminals' sessions) (default ${DEFAULT_MAX_CONNECTIONS})` },
  maxPendingConnections: { type: 'number', doc: `MQTT sockets not yet authenticated; past it the oldest is closed, idle first (default ${DEFAULT_MAX_PENDING_CONNECTIONS})` },
  maxPendingConnectionsPerAddress: { type: 'number', doc: `not-yet-authenticated sockets from one address (default ${DEFAULT_MAX_PENDING_CONNECTIONS_PER_ADDRESS})` },
  mqttMaxPacketBytes: { type: 'number', doc: `largest MQTT packet; a larger one closes the connection (default ${DEFAULT_MQTT_MAX_PACKET_BYTES})` },
  connectTimeoutMs: { type: 'number', doc: `time a socket has to send CONNECT (default ${DEFAULT_CONNECT_TIMEOUT_MS})` },
  mqttOfflineQueueMax: { type: 'number', doc: `QoS 1 messages kept for one offline terminal; ack and status keep only their newest (default ${DEFAULT_MQTT_OFFLINE_QUEUE_MAX})` },
  maxTerminals: { type: 'number', doc: `enrolled terminals (default ${DEFAULT_MAX_TERMINALS})` },
  maxKeysPerTerminal: { type: 'number', doc: `enrolled keys per terminal (default ${DEFAULT_MAX_KEYS_PER_TERMINAL})` },
  authMaxConcurrentHashes: { type: 'number', doc: `concurrent password hashes (default ${DEFAULT_AUTH_MAX_CONCURRENT_HASHES})` },
  authMaxQueuedHashes: { type: 'number', doc: `CONNECTs waiting for a hash (default ${DEFAULT_AUTH_MAX_QUEUED_HASHES})` },
  authFailureLimit: { type: 'number', doc: `failed logins before lockout (default ${DEFAULT_AUTH_FAILURE_LIMIT})` },
  authLockoutMs: { type: 'number', doc: `lockout after failed logins (default ${DEFAULT_AUTH_LOCKOUT_MS})` },
  rejectsKeep: { type: 'number', doc: `reject records kept on disk (default ${DEFAULT_REJECTS_KEEP})` },
  healthSamplesPerTerminal: { type: 'number', doc: `health samples kept per terminal (default ${DEFAULT_HEALTH_SAMPLES_PER_TERMINAL})` },
  healthQueueMax: { type: 'number', doc: `health samples waiting to be written (default ${DEFAULT_HEALTH_QUEUE_MAX})` },
  enrollBodyMaxBytes: { type: 'number', doc: `largest enrollment body (default ${DEFAULT_ENROLL_BODY_MAX_BYTES})` },
  verifyThreads: { type: 'number', doc: `worker threads verifying signatures, 0 = on the event loop (default ${DEFAULT_VERIFY_THREADS})` },
  logLevel: { type: 'string', doc: 'debug | info | warn | error | silent (default info)' },
  ...DELIVERY_OPTION_SPECS,
  ...STATUS_PAGE_OPTION_SPECS,
  ...HEALTH_OPTION_SPECS,
  ...PREDICT_OPTION_SPECS,
  ...UPDATES_OPTION_SPECS,
  ...AT_REST_OPTION_SPECS,
  ...HISTORY_OPTION_SPECS,
};
