/**
 * Options of `tillgate start` / `npm start` (DESIGN §3.5): the whole system on one machine with
 * embedded defaults. One schema for flags, `TILLGATE_*` env vars and a config file.
 */
import { z } from 'zod';
import type { OptionSpecs } from '../lib/config.js';
import { LOG_LEVELS } from '../lib/logger.js';

export const DEFAULT_START_DATA_DIR = '.tillgate';
/** The demo listens on loopback only: it has demo tokens and should not be reachable from the LAN. */
export const DEFAULT_START_HOST = '127.0.0.1';
export const DEFAULT_START_HTTP_PORT = 8080;
export const DEFAULT_START_MQTT_PORT = 1883;
export const DEFAULT_START_CLOUD_PORT = 8090;
/** "A handful of simulated terminals". */
export const DEFAULT_START_TERMINALS = 5;
/** Payments per second per terminal: a busy shop, slow enough to read the status page. */
export const DEFAULT_START_RATE_PER_S = 0.5;
/** Terminals whose health degrades until they fail, so the page shows a prediction come true. */
export const DEFAULT_START_DEGRADING = 2;
/** How often a one-line summary goes to stderr. */
export const DEFAULT_START_REPORT_INTERVAL_S = 15;
/** On shutdown, how long the simulated terminals may take to empty their outboxes. */
export const START_DRAIN_TIMEOUT_S = 5;
/** The simulated PSP's port. */
export const DEFAULT_START_PSP_PORT = 8480;
/**
 * The simulated PSP's delays are divided by this in the demo: the 20-minute tail becomes 2 minutes,
 * so a visitor sees late authorisations, contradictions and reconciliation within a few minutes.
 */
export const DEFAULT_START_PSP_TIME_SCALE = 10;

const port = z.number().int().min(0).max(65_535);

/** `SECONDS[@AFTER]`: cut the cloud link for SECONDS, AFTER seconds from start (default 10). */
export const wanOutageSchema = z
  .string()
  .regex(/^\d+(\.\d+)?(@\d+(\.\d+)?)?$/, 'must be SECONDS or SECONDS@AFTER, e.g. 60@10')
  .transform((s) => {
    const [seconds, after] = s.split('@');
    return { seconds: Number(seconds), afterS: after === undefined ? 10 : Number(after) };
  })
  .refine((o) => o.seconds > 0 && o.seconds <= 86_400 && o.afterS <= 86_400, 'SECONDS must be 1–86400 and AFTER at most 86400');

export const startOptionsSchema = z.object({
  dataDir: z.string().min(1).default(DEFAULT_START_DATA_DIR),
  host: z.string().min(1).default(DEFAULT_START_HOST),
  httpPort: port.default(DEFAULT_START_HTTP_PORT),
  mqttPort: port.default(DEFAULT_START_MQTT_PORT),
  cloudPort: port.default(DEFAULT_START_CLOUD_PORT),
  terminals: z.number().int().min(0).max(100).default(DEFAULT_START_TERMINALS),
  ratePerS: z.number().min(0).max(100).default(DEFAULT_START_RATE_PER_S),
  degrading: z.number().int().min(0).max(100).default(DEFAULT_START_DEGRADING),
  wanOutage: wanOutageSchema.optional(),
  adminToken: z.string().min(8).optional(),
  reportIntervalS: z.number().min(0).max(3_600).default(DEFAULT_START_REPORT_INTERVAL_S),
  pspPort: port.default(DEFAULT_START_PSP_PORT),
  pspTimeScale: z.number().min(1).max(10_000).default(DEFAULT_START_PSP_TIME_SCALE),
  optimisticCharge: z.boolean().default(true),
  logLevel: z.enum(LOG_LEVELS).default('warn'),
});

export type StartOptions = z.output<typeof startOptionsSchema>;

export const START_OPTION_SPECS: OptionSpecs = {
  dataDir: { type: 'string', doc: `where the cloud ledger, gateway store and terminals keep their data (default ${DEFAULT_START_DATA_DIR})` },
  host: { type: 'string', doc: `address everything listens on (default ${DEFAULT_START_HOST})` },
  httpPort: { type: 'number', doc: `gateway status page and API port, 0 = ephemeral (default ${DEFAULT_START_HTTP_PORT})` },
  mqttPort: { type: 'number', doc: `gateway MQTT port (default ${DEFAULT_START_MQTT_PORT})` },
  cloudPort: { type: 'number', doc: `cloud-bridge port (default ${DEFAULT_START_CLOUD_PORT})` },
  terminals: { type: 'number', doc: `simulated terminals (default ${DEFAULT_START_TERMINALS})` },
  ratePerS: { type: 'number', doc: `payments per second per terminal (default ${DEFAULT_START_RATE_PER_S})` },
  degrading: { type: 'number', doc: `simulated terminals whose health degrades until they fail: a dying battery, then fading WiFi (default ${DEFAULT_START_DEGRADING})` },
  wanOutage: { type: 'string', doc: 'SECONDS[@AFTER]: cut the gateway\'s link to the cloud for SECONDS, AFTER seconds from start (default 10)' },
  adminToken: { type: 'string', secret: true, doc: 'admin token of the gateway and cloud (default: a random one, saved in DATA_DIR/admin-token)' },
  reportIntervalS: { type: 'number', doc: `seconds between one-line summaries on stderr, 0 = none (default ${DEFAULT_START_REPORT_INTERVAL_S})` },
  pspPort: { type: 'number', doc: `simulated PSP port, 0 = ephemeral (default ${DEFAULT_START_PSP_PORT})` },
  pspTimeScale: { type: 'number', doc: `divide the simulated PSP's delays (and the reconciliation wait) by this (default ${DEFAULT_START_PSP_TIME_SCALE})` },
  optimisticCharge: { type: 'boolean', doc: 'charge online payments on the terminal\'s success (default true; --no-optimistic-charge to wait for the PSP)' },
  logLevel: { type: 'string', doc: 'debug | info | warn | error | silent (default warn)' },
};
