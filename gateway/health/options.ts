/**
 * Options of the health history (roll-ups and retention), spread into the gateway's one config
 * schema (gateway/config.ts). Each limit is named, has a unit in its name and a reason.
 */
import { z } from 'zod';
import type { OptionSpecs } from '../../lib/config.js';

/** WAN probes kept: a week at the 15 s online probe period, more than prediction looks back. */
export const DEFAULT_WAN_PROBES_KEEP = 50_000;
/** Roll-up job pattern (node-cron, seconds first): five seconds into every minute. */
export const DEFAULT_HEALTH_ROLLUP_CRON = '5 * * * * *';
/** Minutes one roll-up run covers at most: a gateway back from a long stop catches up over runs. */
export const DEFAULT_HEALTH_ROLLUP_MAX_MINUTES_PER_RUN = 180;
/** Samples still in the write queue after their minute ended: they are rolled up after this. */
export const DEFAULT_HEALTH_ROLLUP_GRACE_MS = 3_000;
/** 1-minute roll-ups kept: a week of detail for a technician's "what happened on Tuesday". */
export const DEFAULT_HEALTH_MINUTE_ROLLUP_DAYS = 7;
/** 1-hour roll-ups kept: a quarter, for seasonal trends (about 2,200 rows per subject). */
export const DEFAULT_HEALTH_HOUR_ROLLUP_DAYS = 90;
/** Deletes one retention pass makes at most, so it never stalls ingest; the next run goes on. */
export const DEFAULT_HEALTH_PRUNE_MAX_DELETES_PER_RUN = 20_000;

export const healthOptionsShape = {
  wanProbesKeep: z.number().int().min(100).max(10_000_000).default(DEFAULT_WAN_PROBES_KEEP),
  healthRollupCron: z.string().min(9).max(100).default(DEFAULT_HEALTH_ROLLUP_CRON),
  healthRollupMaxMinutesPerRun: z.number().int().min(1).max(100_000).default(DEFAULT_HEALTH_ROLLUP_MAX_MINUTES_PER_RUN),
  healthMinuteRollupDays: z.number().min(0).max(3_650).default(DEFAULT_HEALTH_MINUTE_ROLLUP_DAYS),
  healthHourRollupDays: z.number().min(0).max(36_500).default(DEFAULT_HEALTH_HOUR_ROLLUP_DAYS),
  healthPruneMaxDeletesPerRun: z.number().int().min(1).max(10_000_000).default(DEFAULT_HEALTH_PRUNE_MAX_DELETES_PER_RUN),
} as const;

export const HEALTH_OPTION_SPECS: OptionSpecs = {
  wanProbesKeep: { type: 'number', doc: `WAN probe results kept on disk (default ${DEFAULT_WAN_PROBES_KEEP})` },
  healthRollupCron: { type: 'string', doc: `node-cron pattern of the health roll-up and retention run (default "${DEFAULT_HEALTH_ROLLUP_CRON}")` },
  healthRollupMaxMinutesPerRun: { type: 'number', doc: `minutes of health data one roll-up run covers at most (default ${DEFAULT_HEALTH_ROLLUP_MAX_MINUTES_PER_RUN})` },
  healthMinuteRollupDays: { type: 'number', doc: `days 1-minute health roll-ups are kept (default ${DEFAULT_HEALTH_MINUTE_ROLLUP_DAYS})` },
  healthHourRollupDays: { type: 'number', doc: `days 1-hour health roll-ups are kept (default ${DEFAULT_HEALTH_HOUR_ROLLUP_DAYS})` },
  healthPruneMaxDeletesPerRun: { type: 'number', doc: `health records one retention run deletes at most (default ${DEFAULT_HEALTH_PRUNE_MAX_DELETES_PER_RUN})` },
};
