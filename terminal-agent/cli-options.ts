/** Options of `tillgate terminal init|run`, `tillgate enroll` and `tillgate simulate` (DESIGN §3.5). */
import { z } from 'zod';
import { AT_REST_OPTION_SPECS, atRestOptionsShape } from '../lib/at-rest/options.js';
import type { OptionSpecs } from '../lib/config.js';
import { LOG_LEVELS } from '../lib/logger.js';
import { MAX_ENDORSEMENT_CHARS } from '../protocol/endorsement.js';
import { idSchema, terminalIdSchema } from '../protocol/ids.js';
import { DEFAULT_HEALTH_INTERVAL_S } from './health.js';
import { DEFAULT_IDEMPOTENCY } from './idempotency.js';
import { DEFAULT_OFFLINE_LIMITS } from './limits.js';
import { DEFAULT_PUBLISHER_LIMITS } from './publisher-options.js';
import { DEFAULT_MAX_OUTBOX_EVENTS } from './recorder.js';
import { DEFAULT_SIMULATOR } from './sim/simulator.js';

const url = (protocols: string[]) =>
  z.string().max(2048).refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `must be a ${protocols.join(' or ')} URL`);

const logLevel = z.enum(LOG_LEVELS).default('info');
const positive = z.number().positive();

export const initSpecs: OptionSpecs = {
  store: { type: 'string', doc: 'store id the terminal belongs to' },
  terminal: { type: 'string', doc: 'terminal id (also its MQTT client id and username)' },
  dir: { type: 'string', doc: 'terminal directory (device key, terminal.json, outbox)' },
};
export const initSchema = z.object({ store: idSchema, terminal: terminalIdSchema, dir: z.string().min(1) });

/** The local record API port: fixed by default so the payment app knows where to find it. */
export const DEFAULT_API_PORT = 8470;

export const runSpecs: OptionSpecs = {
  dir: { type: 'string', doc: 'terminal directory created by `tillgate terminal init` and enrolled' },
  gateway: { type: 'string', doc: 'gateway MQTT URL, e.g. mqtt://192.168.1.2:1883' },
  apiPort: { type: 'number', doc: `local record API port on 127.0.0.1 (${DEFAULT_API_PORT}; 0 = any free port)` },
  healthIntervalS: { type: 'number', doc: `seconds between health samples (${DEFAULT_HEALTH_INTERVAL_S}; 0 = off)` },
  maxOfflineTxAmountMinor: { type: 'number', doc: `largest single offline approval, minor units (${DEFAULT_OFFLINE_LIMITS.maxOfflineTxAmountMinor})` },
  maxUnackedAmountMinor: { type: 'number', doc: `largest approved amount not yet acked by the gateway (${DEFAULT_OFFLINE_LIMITS.maxUnackedAmountMinor})` },
  maxUnackedCount: { type: 'number', doc: `most approved events not yet acked (${DEFAULT_OFFLINE_LIMITS.maxUnackedCount})` },
  maxUnackedAgeS: { type: 'number', doc: `oldest unacked event, seconds (${DEFAULT_OFFLINE_LIMITS.maxUnackedAgeS})` },
  maxOutboxEvents: { type: 'number', doc: `most events kept on the device (${DEFAULT_MAX_OUTBOX_EVENTS})` },
  idempotencyKeyTtlS: { type: 'number', doc: `seconds an Idempotency-Key answers retries (${DEFAULT_IDEMPOTENCY.idempotencyKeyTtlS})` },
  maxIdempotencyKeys: { type: 'number', doc: `most idempotency keys kept; the oldest go first (${DEFAULT_IDEMPOTENCY.maxIdempotencyKeys})` },
  maxConsecutiveSetAside: { type: 'number', doc: `events refused for good in a row before the agent holds and refuses payments (${DEFAULT_PUBLISHER_LIMITS.maxConsecutiveSetAside})` },
  heldRetryS: { type: 'number', doc: `while held, seconds between tries of the held event (${DEFAULT_PUBLISHER_LIMITS.heldRetryMs / 1000})` },
  maxRetainedAckedEvents: { type: 'number', doc: `acknowledged events kept until the cloud has them, so a gateway restored from a backup can be refilled; past it the oldest go (${DEFAULT_PUBLISHER_LIMITS.maxRetainedAckedEvents})` },
  ...AT_REST_OPTION_SPECS,
  logLevel: { type: 'string', doc: 'debug | info | warn | error' },
};
export const runSchema = z.object({
  dir: z.string().min(1),
  gateway: url(['mqtt:', 'mqtts:']),
  apiPort: z.number().int().min(0).max(65535).default(DEFAULT_API_PORT),
  healthIntervalS: z.number().min(0).max(3600).default(DEFAULT_HEALTH_INTERVAL_S),
  maxOfflineTxAmountMinor: z.number().int().min(0).default(DEFAULT_OFFLINE_LIMITS.maxOfflineTxAmountMinor),
  maxUnackedAmountMinor: z.number().int().min(0).default(DEFAULT_OFFLINE_LIMITS.maxUnackedAmountMinor),
  maxUnackedCount: z.number().int().min(0).default(DEFAULT_OFFLINE_LIMITS.maxUnackedCount),
  maxUnackedAgeS: z.number().min(0).default(DEFAULT_OFFLINE_LIMITS.maxUnackedAgeS),
  maxOutboxEvents: z.number().int().min(1).max(10_000_000).default(DEFAULT_MAX_OUTBOX_EVENTS),
  // At least a minute: a shorter TTL would expire keys before the app's retry arrives.
  idempotencyKeyTtlS: z.number().min(60).max(366 * 86_400).default(DEFAULT_IDEMPOTENCY.idempotencyKeyTtlS),
  maxIdempotencyKeys: z.number().int().min(1).max(10_000_000).default(DEFAULT_IDEMPOTENCY.maxIdempotencyKeys),
  // At least one: with 0 the first refused event would hold the chain (a card number in one note
  // would stop the terminal); at most 100: beyond that a systematic refusal is obvious long before.
  maxConsecutiveSetAside: z.number().int().min(1).max(100).default(DEFAULT_PUBLISHER_LIMITS.maxConsecutiveSetAside),
  heldRetryS: z.number().min(1).max(86_400).default(DEFAULT_PUBLISHER_LIMITS.heldRetryMs / 1000),
  // 0 keeps nothing after the gateway's ack (the behaviour before the cloud field).
  maxRetainedAckedEvents: z.number().int().min(0).max(10_000_000).default(DEFAULT_PUBLISHER_LIMITS.maxRetainedAckedEvents),
  // Encryption at rest of the outbox (lib/at-rest/options.ts).
  ...atRestOptionsShape,
  logLevel,
});

export const rotateKeySpecs: OptionSpecs = {
  dir: { type: 'string', doc: 'terminal directory (its agent stopped): a new device key replaces the current one, which is kept in DIR/retired-keys/' },
  dataKeyFile: { type: 'string', doc: 'the data key file the outbox is sealed with (default: as `terminal run` finds it; never created)' },
};
export const rotateKeySchema = z.object({ dir: z.string().min(1), dataKeyFile: atRestOptionsShape.dataKeyFile });

export const setAsideSpecs: OptionSpecs = {
  dir: { type: 'string', doc: 'terminal directory; its outbox is read when the agent is stopped' },
  apiUrl: { type: 'string', doc: 'the running agent\'s local API, e.g. http://127.0.0.1:8470 (read instead of --dir)' },
  dataKeyFile: { type: 'string', doc: 'with --dir: the data key file the outbox is sealed with (default: as `terminal run` finds it; never created)' },
};
export const setAsideSchema = z
  .object({ dir: z.string().min(1).optional(), apiUrl: url(['http:']).optional(), dataKeyFile: atRestOptionsShape.dataKeyFile })
  .refine((o) => o.dir !== undefined || o.apiUrl !== undefined, { path: ['dir'], message: 'give --dir (agent stopped) or --api-url (agent running)' });

export const enrollSpecs: OptionSpecs = {
  gatewayUrl: { type: 'string', doc: 'gateway HTTP URL, e.g. http://192.168.1.2:8080' },
  adminToken: { type: 'string', secret: true, doc: "the gateway's admin bearer token" },
  dir: { type: 'string', doc: 'terminal directory: its key is enrolled and the password stored there (0600)' },
  terminal: { type: 'string', doc: 'without --dir: the terminal id to enroll' },
  publicKey: { type: 'string', doc: 'without --dir: base64url raw Ed25519 public key' },
  endorsement: { type: 'string', doc: 'without --dir: the key\'s endorsement from `tillgate provision endorse` (with --dir: read from DIR/endorsement.jws)' },
  passwordFile: { type: 'string', doc: 'write the MQTT password to this file (mode 0600) instead of printing it (with --dir: DIR/mqtt-password, the default)' },
};
export const enrollSchema = z
  .object({
    gatewayUrl: url(['http:', 'https:']),
    adminToken: z.string().min(1).max(1024),
    dir: z.string().min(1).optional(),
    terminal: terminalIdSchema.optional(),
    publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/).optional(),
    endorsement: z.string().min(1).max(MAX_ENDORSEMENT_CHARS).optional(),
    passwordFile: z.string().min(1).optional(),
  })
  .refine((o) => o.dir !== undefined || (o.terminal !== undefined && o.publicKey !== undefined && o.endorsement !== undefined), {
    path: ['dir'],
    message: 'give --dir, or --terminal, --public-key and --endorsement',
  });

export const simulateSpecs: OptionSpecs = {
  gatewayUrl: { type: 'string', doc: 'gateway HTTP URL (enrollment)' },
  mqttUrl: { type: 'string', doc: 'gateway MQTT URL' },
  adminToken: { type: 'string', secret: true, doc: "the gateway's admin bearer token" },
  store: { type: 'string', doc: "store id (default: read from the gateway's /api/status)" },
  terminals: { type: 'number', doc: `number of simulated terminals (1..${DEFAULT_SIMULATOR.maxTerminals})` },
  rate: { type: 'number', doc: 'payments per second per terminal' },
  duration: { type: 'number', doc: 'seconds to run (default: until SIGTERM/SIGINT)' },
  wifiDropMeanS: { type: 'number', doc: 'mean WiFi outage length, seconds (0 = no drops)' },
  wifiUpMeanS: { type: 'number', doc: `mean time between WiFi outages, seconds (${DEFAULT_SIMULATOR.wifiUpMeanS})` },
  restartEveryS: { type: 'number', doc: 'mean seconds between terminal restarts (0 = none)' },
  clockSkewS: { type: 'number', doc: 'terminal clocks are off by up to ± this many seconds' },
  drainTimeoutS: { type: 'number', doc: `seconds to let outboxes drain at the end (${DEFAULT_SIMULATOR.drainTimeoutS})` },
  healthIntervalS: { type: 'number', doc: `seconds between health samples (${DEFAULT_SIMULATOR.healthIntervalS})` },
  seed: { type: 'number', doc: 'random seed (repeatable runs)' },
  degrading: { type: 'number', doc: 'terminals whose health degrades until they fail: battery, WiFi, errors in turn (default 0)' },
  degradeFailAfterS: { type: 'number', doc: `seconds until the first degrading terminal fails, the next ones 5 min apart (${DEFAULT_SIMULATOR.degradeFailAfterS})` },
  degradeDeadForS: { type: 'number', doc: `seconds a failed terminal stays dead before it is fixed (${DEFAULT_SIMULATOR.degradeDeadForS})` },
  dir: { type: 'string', doc: 'directory for the simulated terminals' },
  provisioningKeyFile: { type: 'string', doc: 'the operator\'s provisioning key: endorses the key of each terminal it creates (a terminal directory reused from an earlier run keeps its endorsement)' },
  logLevel: { type: 'string', doc: 'debug | info | warn | error' },
};
export const simulateSchema = z.object({
  gatewayUrl: url(['http:', 'https:']),
  mqttUrl: url(['mqtt:']),
  adminToken: z.string().min(1).max(1024),
  store: idSchema.optional(),
  terminals: z.number().int().min(1).max(DEFAULT_SIMULATOR.maxTerminals).default(5),
  rate: positive.max(1000).default(0.5),
  duration: positive.optional(),
  wifiDropMeanS: z.number().min(0).default(0),
  wifiUpMeanS: positive.default(DEFAULT_SIMULATOR.wifiUpMeanS),
  restartEveryS: z.number().min(0).default(0),
  clockSkewS: z.number().min(0).max(86_400).default(0),
  drainTimeoutS: z.number().min(0).max(3600).default(DEFAULT_SIMULATOR.drainTimeoutS),
  healthIntervalS: z.number().min(0).max(3600).default(DEFAULT_SIMULATOR.healthIntervalS),
  seed: z.number().int().optional(),
  degrading: z.number().int().min(0).max(DEFAULT_SIMULATOR.maxTerminals).default(0),
  degradeFailAfterS: z.number().min(60).max(7 * 86_400).default(DEFAULT_SIMULATOR.degradeFailAfterS),
  degradeDeadForS: z.number().min(0).max(7 * 86_400).default(DEFAULT_SIMULATOR.degradeDeadForS),
  dir: z.string().min(1),
  provisioningKeyFile: z.string().min(1).max(4096).optional(),
  logLevel,
});
