/**
 * Options of the payment lifecycle (DESIGN §3.5, §3.6), spread into the cloud-bridge's one option
 * schema (cloud-bridge/options.ts) like the gateway's delivery options. Every limit is named, has a
 * unit in its name, a default and a reason.
 */
import { z } from 'zod';
import { ADYEN_HMAC_KEY_PATTERN } from '../../protocol/adyen.js';
import type { OptionSpecs } from '../../lib/config.js';
import { DEFAULT_UPDATES_KEEP_PER_STORE, MAX_APPLY_PAYMENTS } from './payment-store.js';
import { MAX_INBOX_ACCEPT } from './webhook-inbox.js';

/** DESIGN §3.6: the seed's tail is 20 minutes; a payment still unconfirmed after that is asked about. */
export const DEFAULT_RECONCILE_AFTER_S = 1_200;
/** Every minute: a payment is reconciled at most a minute after it is due. */
export const DEFAULT_RECONCILE_CRON = '* * * * *';
/** Status queries per run: at one query every few ms a run stays within its minute. */
export const DEFAULT_RECONCILE_MAX_PER_RUN = 500;
/** One status query may take this long; a slow PSP is asked again next run. */
export const DEFAULT_PSP_TIMEOUT_MS = 5_000;
/**
 * Largest webhook body: Adyen sends a handful of items of 1–3 KiB per request; 512 KiB leaves room
 * and keeps a request's parse and inbox write small.
 */
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 512 * 1024;
/** Items per webhook request; more is refused (413) and nothing is stored. */
export const DEFAULT_WEBHOOK_MAX_ITEMS = 100;
/** Webhook requests handled at once; beyond it the answer is 429 and the PSP resends later. */
export const DEFAULT_WEBHOOK_MAX_INFLIGHT = 64;
/** How often the lifecycle looks for new ledger events and notifications when nothing woke it. */
export const DEFAULT_LIFECYCLE_POLL_INTERVAL_MS = 250;
/** Log entries per apply (one synced write): a feed page of 500 is ~1 ms of LevelDB work per 100. */
export const DEFAULT_LIFECYCLE_PAGE_ENTRIES = 500;
/** Latency percentiles are over the most recent this many charged (and authorised) payments. */
export const DEFAULT_LATENCY_WINDOW = 10_000;

export const lifecycleOptionsShape = {
  pspHmacKey: z.string().regex(ADYEN_HMAC_KEY_PATTERN, 'must be the hex HMAC key of the PSP webhook (32–128 hex digits)').optional(),
  pspUrl: z.url({ protocol: /^https?$/ }).optional(),
  optimisticCharge: z.boolean().default(false),
  reconcileAfterS: z.number().min(0).max(30 * 86_400).default(DEFAULT_RECONCILE_AFTER_S),
  reconcileCron: z.string().min(9).max(100).default(DEFAULT_RECONCILE_CRON),
  reconcileMaxPerRun: z.number().int().min(1).max(100_000).default(DEFAULT_RECONCILE_MAX_PER_RUN),
  pspTimeoutMs: z.number().int().min(100).max(120_000).default(DEFAULT_PSP_TIMEOUT_MS),
  webhookMaxBodyBytes: z.number().int().min(4 * 1024).max(16 * 1024 * 1024).default(DEFAULT_WEBHOOK_MAX_BODY_BYTES),
  webhookMaxItems: z.number().int().min(1).max(MAX_INBOX_ACCEPT).default(DEFAULT_WEBHOOK_MAX_ITEMS),
  webhookMaxInflight: z.number().int().min(1).max(10_000).default(DEFAULT_WEBHOOK_MAX_INFLIGHT),
  lifecyclePollIntervalMs: z.number().int().min(10).max(60_000).default(DEFAULT_LIFECYCLE_POLL_INTERVAL_MS),
  lifecyclePageEntries: z.number().int().min(1).max(MAX_APPLY_PAYMENTS).default(DEFAULT_LIFECYCLE_PAGE_ENTRIES),
  latencyWindow: z.number().int().min(1).max(1_000_000).default(DEFAULT_LATENCY_WINDOW),
  updatesKeepPerStore: z.number().int().min(100).max(100_000_000).default(DEFAULT_UPDATES_KEEP_PER_STORE),
} as const;

export const lifecycleOptionsSchema = z.object(lifecycleOptionsShape);
export type LifecycleOptions = z.output<typeof lifecycleOptionsSchema>;

export const LIFECYCLE_OPTION_SPECS: OptionSpecs = {
  pspHmacKey: { type: 'string', secret: true, doc: 'hex HMAC key of the PSP\'s Adyen-format webhooks; without it POST /v1/psp/adyen/webhooks is not served' },
  pspUrl: { type: 'string', doc: 'base URL of the PSP status API used by reconciliation (GET /v1/payments/{id}); without it nothing is reconciled' },
  optimisticCharge: { type: 'boolean', doc: 'charge online payments on the terminal\'s success signal instead of waiting for the PSP (default false)' },
  reconcileAfterS: { type: 'number', doc: `ask the PSP about a payment still without an outcome this long after capture (default ${DEFAULT_RECONCILE_AFTER_S})` },
  reconcileCron: { type: 'string', doc: `node-cron pattern of the reconciliation run (default "${DEFAULT_RECONCILE_CRON}")` },
  reconcileMaxPerRun: { type: 'number', doc: `PSP status queries per reconciliation run (default ${DEFAULT_RECONCILE_MAX_PER_RUN})` },
  pspTimeoutMs: { type: 'number', doc: `one PSP status query may take this long (default ${DEFAULT_PSP_TIMEOUT_MS})` },
  webhookMaxBodyBytes: { type: 'number', doc: `largest PSP webhook body (default ${DEFAULT_WEBHOOK_MAX_BODY_BYTES})` },
  webhookMaxItems: { type: 'number', doc: `notification items per webhook request (default ${DEFAULT_WEBHOOK_MAX_ITEMS})` },
  webhookMaxInflight: { type: 'number', doc: `webhook requests handled at once, then 429 (default ${DEFAULT_WEBHOOK_MAX_INFLIGHT})` },
  lifecyclePollIntervalMs: { type: 'number', doc: `how often new ledger events and notifications are looked for (default ${DEFAULT_LIFECYCLE_POLL_INTERVAL_MS})` },
  lifecyclePageEntries: { type: 'number', doc: `ledger events or notifications applied per write (default ${DEFAULT_LIFECYCLE_PAGE_ENTRIES})` },
  latencyWindow: { type: 'number', doc: `latency percentiles cover the most recent this many payments (default ${DEFAULT_LATENCY_WINDOW})` },
  updatesKeepPerStore: { type: 'number', doc: `payment updates kept per store for its gateway to fetch (default ${DEFAULT_UPDATES_KEEP_PER_STORE})` },
};
