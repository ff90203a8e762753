/**
 * §3.7 records inside the scorer: parsed once (zod, bounded), with the time as ms. Thin adapters
 * turn the gateway's live inputs — a health entry as the HealthStore kept it, a WAN probe — into
 * exactly the record a replay file holds, so live scoring and `tillgate predict replay` run the
 * same code on the same inputs. Live samples are timed by the gateway's clock on arrival (a
 * terminal's own clock may be off); the sample's own `at` is kept as `terminalAt`.
 */
import { TillgateError } from '../../protocol/errors.js';
import type { HealthSample } from '../../protocol/messages.js';
import {
  healthRecordSchema, MAX_PREDICTION_RECORD_BYTES, terminalSubject, WAN_SUBJECT, wanRecordSchema, type HealthRecord,
} from '../../protocol/prediction.js';
import type { HealthEntry, WanProbe } from '../health/health-store.js';

export type ParsedRecord =
  | { readonly kind: 'health'; readonly store: string; readonly subject: string; readonly terminal: string; readonly at: string; readonly atMs: number; readonly sample: HealthSample }
  | { readonly kind: 'wan'; readonly store: string; readonly subject: typeof WAN_SUBJECT; readonly at: string; readonly atMs: number; readonly ok: boolean; readonly rttMs: number | null };

/** Why a line was not scored (stable codes; replay counts them). */
export const RECORD_CODES = {
  tooLarge: 'RECORD_TOO_LARGE',
  notJson: 'RECORD_NOT_JSON',
  schema: 'RECORD_SCHEMA',
  badTime: 'RECORD_BAD_TIME',
  unknownKind: 'RECORD_UNKNOWN_KIND',
} as const;
export type RecordCode = (typeof RECORD_CODES)[keyof typeof RECORD_CODES];

export type LineResult = { readonly ok: true; readonly record: ParsedRecord } | { readonly ok: false; readonly code: RecordCode };

function timeOf(at: string): number {
  const ms = Date.parse(at);
  return Number.isFinite(ms) ? ms : Number.NaN;
}

/** A parsed object (already JSON) as a record, or the code saying why not. */
export function toRecord(value: unknown): LineResult {
  const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
  if (kind === 'health') {
    const parsed = healthRecordSchema.safeParse(value);
    if (!parsed.success) return { ok: false, code: RECORD_CODES.schema };
    const atMs = timeOf(parsed.data.at);
    if (Number.isNaN(atMs)) return { ok: false, code: RECORD_CODES.badTime };
    const { kind: _k, store, terminal, ...sample } = parsed.data;
    return { ok: true, record: { kind: 'health', store, terminal, subject: terminalSubject(terminal), at: parsed.data.at, atMs, sample: sample as HealthSample } };
  }
  if (kind === 'wan') {
    const parsed = wanRecordSchema.safeParse(value);
    if (!parsed.success) return { ok: false, code: RECORD_CODES.schema };
    const atMs = timeOf(parsed.data.at);
    if (Number.isNaN(atMs)) return { ok: false, code: RECORD_CODES.badTime };
    return { ok: true, record: { kind: 'wan', store: parsed.data.store, subject: WAN_SUBJECT, at: parsed.data.at, atMs, ok: parsed.data.ok, rttMs: parsed.data.rttMs ?? null } };
  }
  // An open set: a kind from a newer writer is skipped, not an error that stops the replay.
  return { ok: false, code: typeof kind === 'string' ? RECORD_CODES.unknownKind : RECORD_CODES.schema };
}

/** One JSON line (without its newline). */
export function parseRecordLine(line: string): LineResult {
  if (line.length > MAX_PREDICTION_RECORD_BYTES) return { ok: false, code: RECORD_CODES.tooLarge };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, code: RECORD_CODES.notJson };
  }
  return toRecord(value);
}

/** The record a live health sample is scored as (and exported for replay as). */
export function recordFromHealthEntry(store: string, entry: HealthEntry): ParsedRecord {
  const at = new Date(entry.receivedAtMs).toISOString();
  return { kind: 'health', store, terminal: entry.terminal, subject: terminalSubject(entry.terminal), at, atMs: entry.receivedAtMs, sample: { ...entry.sample, at } };
}

/** The record a live WAN probe is scored as. */
export function recordFromProbe(store: string, probe: WanProbe): ParsedRecord {
  return { kind: 'wan', store, subject: WAN_SUBJECT, at: new Date(probe.atMs).toISOString(), atMs: probe.atMs, ok: probe.ok, rttMs: probe.rttMs };
}

/** A health entry as a §3.7 replay line (gateway arrival time as `at`, the terminal's as `terminalAt`). */
export function healthEntryLine(store: string, entry: HealthEntry): string {
  const line: HealthRecord & { terminalAt: string } = { ...entry.sample, kind: 'health', store, terminal: entry.terminal, at: new Date(entry.receivedAtMs).toISOString(), terminalAt: entry.sample.at };
  return JSON.stringify(line);
}

export function probeLine(store: string, probe: WanProbe): string {
  return JSON.stringify({ kind: 'wan', store, at: new Date(probe.atMs).toISOString(), ok: probe.ok, ...(probe.rttMs === null ? {} : { rttMs: probe.rttMs }) });
}

/** Throws a coded error for callers that cannot skip a bad record. */
export function requireRecord(result: LineResult): ParsedRecord {
  if (!result.ok) throw new TillgateError(result.code, `not a §3.7 record (${result.code})`);
  return result.record;
}
