/**
 * Options of live failure prediction on the gateway, spread into its one config schema
 * (gateway/config.ts), each with a flag, a `TILLGATE_*` env var and a config-file key.
 */
import { z } from 'zod';
import type { OptionSpecs } from '../../lib/config.js';

/** Level changes kept for the status page's alarm list: days of a busy store's alerts. */
export const DEFAULT_PREDICT_ALERTS_KEEP = 200;

export const predictOptionsShape = {
  predictModel: z.string().min(1).max(4_096).optional(),
  predictAlertsKeep: z.number().int().min(1).max(100_000).default(DEFAULT_PREDICT_ALERTS_KEEP),
} as const;

export const PREDICT_OPTION_SPECS: OptionSpecs = {
  predictModel: { type: 'string', doc: 'risk model JSON written by `tillgate predict train` (default: the model shipped with tillgate)' },
  predictAlertsKeep: { type: 'number', doc: `failure-prediction level changes kept for the status page (default ${DEFAULT_PREDICT_ALERTS_KEEP})` },
};
