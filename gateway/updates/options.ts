/**
 * Options of the gateway's updates follower (DESIGN §3.6: the gateway follows the cloud's
 * `GET /v1/stores/{store}/updates` and publishes each change on `P/{terminal}/updates`), spread into
 * the gateway's one config schema. Each limit is named, has a unit and a reason.
 */
import { z } from 'zod';
import type { OptionSpecs } from '../../lib/config.js';

/** How often the gateway asks the cloud for payment updates when the last page was not full. */
export const DEFAULT_UPDATES_POLL_INTERVAL_MS = 2_000;
/** Updates per request: a page is a few KB. */
export const DEFAULT_UPDATES_PAGE_LIMIT = 100;
/** A request unanswered this long failed; the next poll tries again. */
export const DEFAULT_UPDATES_TIMEOUT_MS = 10_000;
/** Largest answer read: 1,000 updates are ~150 KB. */
export const DEFAULT_UPDATES_MAX_RESPONSE_BYTES = 1024 * 1024;

export const updatesOptionsShape = {
  updatesPollIntervalMs: z.number().int().min(50).max(3_600_000).default(DEFAULT_UPDATES_POLL_INTERVAL_MS),
  updatesPageLimit: z.number().int().min(1).max(1_000).default(DEFAULT_UPDATES_PAGE_LIMIT),
  updatesTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_UPDATES_TIMEOUT_MS),
  updatesMaxResponseBytes: z.number().int().min(4 * 1024).max(64 * 1024 * 1024).default(DEFAULT_UPDATES_MAX_RESPONSE_BYTES),
} as const;

export const updatesOptionsSchema = z.object(updatesOptionsShape);
export type UpdatesOptions = z.infer<typeof updatesOptionsSchema>;

export const UPDATES_OPTION_SPECS: OptionSpecs = {
  updatesPollIntervalMs: { type: 'number', doc: `how often payment updates are fetched from the cloud (default ${DEFAULT_UPDATES_POLL_INTERVAL_MS})` },
  updatesPageLimit: { type: 'number', doc: `payment updates per request (default ${DEFAULT_UPDATES_PAGE_LIMIT})` },
  updatesTimeoutMs: { type: 'number', doc: `an updates request unanswered this long is retried (default ${DEFAULT_UPDATES_TIMEOUT_MS})` },
  updatesMaxResponseBytes: { type: 'number', doc: `largest updates answer read (default ${DEFAULT_UPDATES_MAX_RESPONSE_BYTES})` },
};
