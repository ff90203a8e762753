/**
 * The failure-prediction interface of DESIGN §3.7 (normative): the JSON-lines records
 * `tillgate predict replay` reads (a health sample of §5.3 with its store and terminal, or one WAN
 * probe) and the alerts it prints, one when a subject's level changes. Unknown fields are kept and
 * ignored; an unknown `kind` is skipped, not an error (an open set).
 */
import { z } from 'zod';
import { idSchema, terminalIdSchema } from './ids.js';
import { healthSampleSchema } from './messages.js';

/** Longest record line: a health sample is at most 4 KiB, plus the envelope. */
export const MAX_PREDICTION_RECORD_BYTES = 8 * 1024;

export const healthRecordSchema = healthSampleSchema.extend({
  kind: z.literal('health'),
  store: idSchema,
  terminal: terminalIdSchema,
});
export type HealthRecord = z.infer<typeof healthRecordSchema>;

export const wanRecordSchema = z
  .object({
    kind: z.literal('wan'),
    store: idSchema,
    at: z.string().max(40),
    ok: z.boolean(),
    rttMs: z.number().min(0).max(600_000).nullable().optional(),
  })
  .loose();
export type WanRecord = z.infer<typeof wanRecordSchema>;

export type PredictionRecord = HealthRecord | WanRecord;

export const ALERT_LEVELS = ['warning', 'critical', 'clear'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

/** Most reasons one alert carries, and their length: a sentence each. */
export const MAX_ALERT_REASONS = 4;
export const MAX_REASON_CHARS = 240;

export const predictionAlertSchema = z.object({
  at: z.string().max(40),
  store: idSchema,
  /** `terminal/<id>` or `wan`. */
  subject: z.string().max(80),
  level: z.enum(ALERT_LEVELS),
  risk: z.number().min(0).max(1),
  reasons: z.array(z.string().max(MAX_REASON_CHARS)).max(MAX_ALERT_REASONS),
});
export type PredictionAlert = z.infer<typeof predictionAlertSchema>;

export const terminalSubject = (terminal: string): string => `terminal/${terminal}`;
export const WAN_SUBJECT = 'wan';

/** §3.7 scoring terms: silence, or failed probes, this long is a failure. */
export const FAILURE_SILENCE_MS = 5 * 60_000;
/** §3.7: a warning is true when its subject fails this long after it, at the earliest… */
export const WARNING_MIN_LEAD_MS = 10 * 60_000;
/** …and at the latest. */
export const WARNING_MAX_LEAD_MS = 2 * 3_600_000;
