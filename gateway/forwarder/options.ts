/**
 * Options of the gateway's delivery side: forwarder, WAN monitor, retention and the status topic.
 * Each limit is named, has a unit in its name and a reason. `deliveryOptionsShape` and
 * `DELIVERY_OPTION_SPECS` are spread into the gateway's one config schema (gateway/config.ts).
 */
import { z } from 'zod';
import { MAX_INGEST_BODY_BYTES, MAX_INGEST_EVENTS } from '../../protocol/ingest-api.js';
import type { OptionSpecs } from '../../lib/config.js';

/**
 * Queue entries per request: the protocol's limit (DESIGN §3.4). A request of 1,000 ~450-byte
 * events is ~0.5 MB; the fixed cost of a request (two synced writes, HTTP, the cloud's per-request
 * lookups) is paid half as often as at 500, and the forwarder holds at most two batches.
 */
export const DEFAULT_FORWARD_BATCH_MAX_EVENTS = MAX_INGEST_EVENTS;
/** JWS bytes per request: far below the cloud's body limit, so enrollments and JSON quoting fit. */
export const DEFAULT_FORWARD_BATCH_MAX_BYTES = 2 * 1024 * 1024;
/** A request that has not answered in this long is treated as lost and retried. */
export const DEFAULT_FORWARD_TIMEOUT_MS = 30_000;
/** First backoff ceiling after a retryable failure. */
export const DEFAULT_RETRY_DELAY_MS_MIN = 250;
/** Backoff cap: with the WAN probe waking us early, a minute bounds the cost of a missed wake-up. */
export const DEFAULT_RETRY_DELAY_MS_MAX = 60_000;
/** 401/403: retried this slowly (a token fix must not lose data, but we must not hammer the cloud). */
export const DEFAULT_AUTH_RETRY_DELAY_MS = 60_000;
/** Largest answer we read from the cloud: 1,000 results are ~70 KB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
/** Dead letters an admin may retry in one call; bounded like every queue. */
export const DEFAULT_DEAD_LETTER_RETRY_MAX = 1000;

/** WAN probe period while online. */
export const DEFAULT_WAN_PROBE_INTERVAL_MS = 15_000;
/** WAN probe period while degraded/offline: how quickly a returning link is noticed. */
export const DEFAULT_WAN_PROBE_INTERVAL_OFFLINE_MS = 2_000;
/** A probe that takes longer failed. */
export const DEFAULT_WAN_PROBE_TIMEOUT_MS = 5_000;
/** A link slower than this round trip is `degraded`. */
export const DEFAULT_WAN_DEGRADED_RTT_MS = 2_000;
/** Consecutive failures (probes or requests) before the link counts as `offline`, not `degraded`. */
export const DEFAULT_WAN_OFFLINE_AFTER_FAILURES = 2;

/**
 * How often retained acks are republished when only the cloud moved (gateway/acks.ts): terminals
 * delete what the cloud has within about this long; a draining backlog must not cost an ack per
 * event per terminal.
 */
export const DEFAULT_CLOUD_ACK_INTERVAL_MS = 1_000;
/**
 * A restored gateway asks the cloud for its terminals' heads (gateway/resync): this often while an
 * answer is missing, and for terminals enrolled later. Terminals wait meanwhile, so it is short.
 */
export const DEFAULT_RESYNC_RETRY_MS = 5_000;

/** Retention of events the cloud accepted: a month covers every dispute window we know of. */
export const DEFAULT_RETENTION_DAYS = 30;
/** node-cron pattern of the retention run: nightly, off the trading hours. */
export const DEFAULT_RETENTION_CRON = '17 3 * * *';
/** Entries one retention run deletes at most: keeps a run short; the next night continues. */
export const DEFAULT_RETENTION_MAX_ENTRIES_PER_RUN = 200_000;

export const deliveryOptionsShape = {
  forwardBatchMaxEvents: z.number().int().min(1).max(MAX_INGEST_EVENTS).default(DEFAULT_FORWARD_BATCH_MAX_EVENTS),
  forwardBatchMaxBytes: z.number().int().min(16 * 1024).max(MAX_INGEST_BODY_BYTES / 2).default(DEFAULT_FORWARD_BATCH_MAX_BYTES),
  forwardTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_FORWARD_TIMEOUT_MS),
  retryDelayMsMin: z.number().int().min(1).max(60_000).default(DEFAULT_RETRY_DELAY_MS_MIN),
  retryDelayMsMax: z.number().int().min(1).max(3_600_000).default(DEFAULT_RETRY_DELAY_MS_MAX),
  authRetryDelayMs: z.number().int().min(1).max(3_600_000).default(DEFAULT_AUTH_RETRY_DELAY_MS),
  wanProbeIntervalMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_WAN_PROBE_INTERVAL_MS),
  wanProbeIntervalOfflineMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_WAN_PROBE_INTERVAL_OFFLINE_MS),
  wanProbeTimeoutMs: z.number().int().min(50).max(60_000).default(DEFAULT_WAN_PROBE_TIMEOUT_MS),
  wanDegradedRttMs: z.number().int().min(1).max(60_000).default(DEFAULT_WAN_DEGRADED_RTT_MS),
  retentionDays: z.number().min(0).max(36_500).default(DEFAULT_RETENTION_DAYS),
  retentionCron: z.string().min(9).max(100).default(DEFAULT_RETENTION_CRON),
  retentionMaxEntriesPerRun: z.number().int().min(1).max(10_000_000).default(DEFAULT_RETENTION_MAX_ENTRIES_PER_RUN),
  cloudAckIntervalMs: z.number().int().min(10).max(3_600_000).default(DEFAULT_CLOUD_ACK_INTERVAL_MS),
  resyncRetryMs: z.number().int().min(10).max(3_600_000).default(DEFAULT_RESYNC_RETRY_MS),
} as const;

export const deliveryOptionsSchema = z.object(deliveryOptionsShape);
export type DeliveryOptions = z.infer<typeof deliveryOptionsSchema>;

export const DELIVERY_OPTION_SPECS: OptionSpecs = {
  forwardBatchMaxEvents: { type: 'number', doc: `queue entries per request to the cloud (1–${MAX_INGEST_EVENTS}, default ${DEFAULT_FORWARD_BATCH_MAX_EVENTS})` },
  forwardBatchMaxBytes: { type: 'number', doc: `event bytes per request (default ${DEFAULT_FORWARD_BATCH_MAX_BYTES})` },
  forwardTimeoutMs: { type: 'number', doc: `a request to the cloud unanswered this long is retried (default ${DEFAULT_FORWARD_TIMEOUT_MS})` },
  retryDelayMsMin: { type: 'number', doc: `first backoff ceiling after a failed request (default ${DEFAULT_RETRY_DELAY_MS_MIN})` },
  retryDelayMsMax: { type: 'number', doc: `backoff cap (default ${DEFAULT_RETRY_DELAY_MS_MAX})` },
  authRetryDelayMs: { type: 'number', doc: `retry period while the cloud refuses our token, 401/403 (default ${DEFAULT_AUTH_RETRY_DELAY_MS})` },
  wanProbeIntervalMs: { type: 'number', doc: `cloud /healthz probe period while online (default ${DEFAULT_WAN_PROBE_INTERVAL_MS})` },
  wanProbeIntervalOfflineMs: { type: 'number', doc: `probe period while degraded/offline (default ${DEFAULT_WAN_PROBE_INTERVAL_OFFLINE_MS})` },
  wanProbeTimeoutMs: { type: 'number', doc: `a probe slower than this failed (default ${DEFAULT_WAN_PROBE_TIMEOUT_MS})` },
  wanDegradedRttMs: { type: 'number', doc: `probe round trip above which the WAN is "degraded" (default ${DEFAULT_WAN_DEGRADED_RTT_MS})` },
  retentionDays: { type: 'number', doc: `delete events the cloud accepted more than this many days ago (default ${DEFAULT_RETENTION_DAYS})` },
  retentionCron: { type: 'string', doc: `node-cron pattern of the retention run (default "${DEFAULT_RETENTION_CRON}")` },
  retentionMaxEntriesPerRun: { type: 'number', doc: `entries one retention run deletes at most (default ${DEFAULT_RETENTION_MAX_ENTRIES_PER_RUN})` },
  cloudAckIntervalMs: { type: 'number', doc: `a terminal's ack is sent again at most this often when only the cloud took more of its payments (default ${DEFAULT_CLOUD_ACK_INTERVAL_MS})` },
  resyncRetryMs: { type: 'number', doc: `after a restore from backup, how often the cloud is asked again for terminals' chain heads (default ${DEFAULT_RESYNC_RETRY_MS})` },
};
