/**
 * Options of the gateway's history (alarms with start and end, outages, the backlog chart), spread
 * into the gateway's one config schema (gateway/config.ts).
 */
import { z } from 'zod';
import type { OptionSpecs } from '../../lib/config.js';

/** Two days: the brief promise is a day (last night, seen in the morning), with a day to spare. */
export const DEFAULT_HISTORY_KEEP_HOURS = 48;
/**
 * Records of each kind kept (memory and what is read at start): a minute's samples for two days
 * are 2,880; alarms and outages are far fewer unless something flaps, and then the newest win.
 */
export const DEFAULT_HISTORY_MAX_RECORDS = 5_000;
/** How often the history looks at the gateway: an alarm's start and end are known to this much. */
export const DEFAULT_HISTORY_CRON = '*/15 * * * * *';
/** One backlog point a minute: 1,440 points a day, finer than a phone screen shows. */
export const HISTORY_SAMPLE_EVERY_MS = 60_000;
/** Old records are deleted once an hour, at most this many at a time (one short batch). */
export const HISTORY_TRIM_EVERY_MS = 3_600_000;
export const HISTORY_TRIM_MAX_DELETES = 5_000;

export const historyOptionsShape = {
  historyKeepHours: z.number().min(24).max(24 * 31).default(DEFAULT_HISTORY_KEEP_HOURS),
  historyMaxRecords: z.number().int().min(1_500).max(100_000).default(DEFAULT_HISTORY_MAX_RECORDS),
  historyCron: z.string().min(1).max(64).default(DEFAULT_HISTORY_CRON),
} as const;

export const HISTORY_OPTION_SPECS: OptionSpecs = {
  historyKeepHours: { type: 'number', doc: `hours of alarms, outages and backlog kept for the status page, at least 24 (default ${DEFAULT_HISTORY_KEEP_HOURS})` },
  historyMaxRecords: { type: 'number', doc: `most alarms, outages or backlog points kept, each (default ${DEFAULT_HISTORY_MAX_RECORDS})` },
  historyCron: { type: 'string', doc: `node-cron pattern of the history's look at the gateway (default "${DEFAULT_HISTORY_CRON}")` },
};
