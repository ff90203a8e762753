/**
 * Options of `tillgate psp-sim` (DESIGN §3.5): one schema for flags, env vars and config file
 *. The delay distribution follows the seed's measurement (Mews): most authorisation
 * notifications within seconds (95 % within 30 s), the slowest 5 % spread up to 20 minutes.
 */
import { z } from 'zod';
import { ADYEN_HMAC_KEY_PATTERN } from '../protocol/adyen.js';
import type { OptionSpecs } from '../lib/config.js';
import { LOG_LEVELS } from '../lib/logger.js';

export const DEFAULT_PSP_SIM_HOST = '127.0.0.1';
export const DEFAULT_PSP_SIM_HTTP_PORT = 8480;
export const DEFAULT_MERCHANT_ACCOUNT = 'TillgateSimulatedMerchant';
/** Share of notifications in the fast body of the distribution (the seed: 95 % within 30 s). */
export const DEFAULT_FAST_SHARE = 0.95;
/** Median delay of the fast body, seconds (log-normal). */
export const DEFAULT_FAST_MEDIAN_S = 2;
/** The fast body never exceeds this (seconds). */
export const DEFAULT_FAST_MAX_S = 30;
/** The heavy tail reaches this (the seed: 20 minutes). */
export const DEFAULT_TAIL_MAX_S = 1_200;
/** Payments the PSP refuses after the terminal showed success. */
export const DEFAULT_REFUSAL_RATE = 0.01;
/** Payments the terminal showed as successful that the PSP never authorises, nor notifies. */
export const DEFAULT_NEVER_RATE = 0.002;
/** Notifications delivered twice (Adyen delivers at least once). */
export const DEFAULT_DUPLICATE_RATE = 0.05;
/** Notifications due together are sent up to this many per request, shuffled: reordering. */
export const DEFAULT_BATCH_MAX_ITEMS = 3;
/** Notifications waiting to be delivered; past it `authorise` answers 503 (memory stays bounded). */
export const DEFAULT_MAX_PENDING = 100_000;
/** Payments remembered for the status API and the truth log (oldest forgotten first). */
export const DEFAULT_MAX_PAYMENTS = 1_000_000;
/** One delivery attempt may take this long. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
/** Deliveries of one notification before it is given up (Adyen retries with growing pauses). */
export const DEFAULT_RETRY_MAX = 9;

const share = z.number().min(0).max(1);

export const pspSimOptionsSchema = z
  .object({
    host: z.string().min(1).default(DEFAULT_PSP_SIM_HOST),
    httpPort: z.number().int().min(0).max(65_535).default(DEFAULT_PSP_SIM_HTTP_PORT),
    webhookUrl: z.array(z.url({ protocol: /^https?$/ })).max(8).default([]),
    hmacKey: z.string().regex(ADYEN_HMAC_KEY_PATTERN, 'must be a hex HMAC key (32–128 hex digits)'),
    merchantAccount: z.string().min(1).max(80).default(DEFAULT_MERCHANT_ACCOUNT),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    timeScale: z.number().min(0.001).max(100_000).default(1),
    fastShare: share.default(DEFAULT_FAST_SHARE),
    fastMedianS: z.number().min(0.001).max(600).default(DEFAULT_FAST_MEDIAN_S),
    fastMaxS: z.number().min(0.001).max(3_600).default(DEFAULT_FAST_MAX_S),
    tailMaxS: z.number().min(1).max(86_400).default(DEFAULT_TAIL_MAX_S),
    refusalRate: share.default(DEFAULT_REFUSAL_RATE),
    neverRate: share.default(DEFAULT_NEVER_RATE),
    duplicateRate: share.default(DEFAULT_DUPLICATE_RATE),
    batchMaxItems: z.number().int().min(1).max(100).default(DEFAULT_BATCH_MAX_ITEMS),
    maxPending: z.number().int().min(1).max(10_000_000).default(DEFAULT_MAX_PENDING),
    maxPayments: z.number().int().min(1).max(100_000_000).default(DEFAULT_MAX_PAYMENTS),
    deliveryTimeoutMs: z.number().int().min(100).max(300_000).default(DEFAULT_DELIVERY_TIMEOUT_MS),
    retryMax: z.number().int().min(0).max(50).default(DEFAULT_RETRY_MAX),
    truthFile: z.string().min(1).optional(),
    logLevel: z.enum(LOG_LEVELS).default('info'),
  })
  .refine((o) => o.refusalRate + o.neverRate <= 1, { path: ['refusalRate'], message: 'refusalRate + neverRate must be at most 1' })
  .refine((o) => o.fastMaxS <= o.tailMaxS, { path: ['fastMaxS'], message: 'fastMaxS must not exceed tailMaxS' });

export type PspSimOptionsInput = z.input<typeof pspSimOptionsSchema>;
export type PspSimOptions = z.output<typeof pspSimOptionsSchema>;

export const PSP_SIM_OPTION_SPECS: OptionSpecs = {
  host: { type: 'string', doc: `address to listen on (default ${DEFAULT_PSP_SIM_HOST})` },
  httpPort: { type: 'number', doc: `HTTP port of the authorise and status APIs, 0 = ephemeral (default ${DEFAULT_PSP_SIM_HTTP_PORT})` },
  webhookUrl: { type: 'list', doc: 'where to POST Adyen-format notifications, e.g. http://cloud:8090/v1/psp/adyen/webhooks[,…]' },
  hmacKey: { type: 'string', secret: true, doc: 'hex HMAC key the notifications are signed with (required; the cloud\'s --psp-hmac-key)' },
  merchantAccount: { type: 'string', doc: `merchantAccountCode of the notifications (default ${DEFAULT_MERCHANT_ACCOUNT})` },
  seed: { type: 'number', doc: 'seed of every random choice, so a run can be repeated (default: random)' },
  timeScale: { type: 'number', doc: 'divide every delay by this, e.g. 60 turns the 20-minute tail into 20 s (default 1)' },
  fastShare: { type: 'number', doc: `share of notifications in the fast body of the delay distribution (default ${DEFAULT_FAST_SHARE})` },
  fastMedianS: { type: 'number', doc: `median delay of the fast body, seconds (default ${DEFAULT_FAST_MEDIAN_S})` },
  fastMaxS: { type: 'number', doc: `longest delay of the fast body, seconds (default ${DEFAULT_FAST_MAX_S})` },
  tailMaxS: { type: 'number', doc: `longest delay of the tail, seconds (default ${DEFAULT_TAIL_MAX_S})` },
  refusalRate: { type: 'number', doc: `share of payments refused after the terminal showed success (default ${DEFAULT_REFUSAL_RATE})` },
  neverRate: { type: 'number', doc: `share of payments never authorised nor notified (default ${DEFAULT_NEVER_RATE})` },
  duplicateRate: { type: 'number', doc: `share of notifications delivered twice (default ${DEFAULT_DUPLICATE_RATE})` },
  batchMaxItems: { type: 'number', doc: `notifications per request, shuffled (default ${DEFAULT_BATCH_MAX_ITEMS})` },
  maxPending: { type: 'number', doc: `notifications waiting for delivery; then authorise answers 503 (default ${DEFAULT_MAX_PENDING})` },
  maxPayments: { type: 'number', doc: `payments remembered for the status API (default ${DEFAULT_MAX_PAYMENTS})` },
  deliveryTimeoutMs: { type: 'number', doc: `one delivery attempt may take this long (default ${DEFAULT_DELIVERY_TIMEOUT_MS})` },
  retryMax: { type: 'number', doc: `delivery attempts of one notification before it is given up (default ${DEFAULT_RETRY_MAX})` },
  truthFile: { type: 'string', doc: 'append the injected truth (one JSON line per payment) to this file' },
  logLevel: { type: 'string', doc: 'debug | info | warn | error | silent (default info)' },
};
