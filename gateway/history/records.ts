/**
 * What the gateway keeps of its last hours (the `history` keyspace): problems with when they
 * started and ended, internet outages with the most that waited, and the backlog once a minute.
 * Checked before they are written and after they are read back.
 */

export type AlarmLevel = 'alarm' | 'warn' | 'info';

/** One problem (a catalogue code) about one subject, from when it started to when it ended. */
export interface AlarmRecord {
  readonly code: string;
  /** A terminal id, or `wan`, `cloud`, `gateway`. */
  readonly subject: string;
  readonly level: AlarmLevel;
  readonly title: string;
  readonly startedAtMs: number;
  /** Null while it is still on. */
  readonly endedAtMs: number | null;
}

/** One internet outage: from, to (null while it lasts), why, and the most that waited at once. */
export interface OutageRecord {
  readonly startedAtMs: number;
  readonly endedAtMs: number | null;
  /** The WAN monitor's reason when it started (`NETWORK`, `TIMEOUT`, `LINK_CUT` for an admin's test, …). */
  readonly reason: string | null;
  readonly peakEvents: number;
  readonly peakPayments: number;
  /** Takings waiting at the peak, minor units per currency. */
  readonly peakAmountByCurrencyMinor: Readonly<Record<string, number>>;
}

/** What waited to be sent at one instant (one a minute). */
export interface BacklogSample {
  readonly atMs: number;
  readonly events: number;
  readonly payments: number;
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isCount = isTime;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

export function isAlarmRecord(v: unknown): v is AlarmRecord {
  const r = v as AlarmRecord;
  return (
    typeof v === 'object' && v !== null && isText(r.code, 64) && isText(r.subject, 64) && (r.level === 'alarm' || r.level === 'warn' || r.level === 'info') &&
    isText(r.title, 200) && isTime(r.startedAtMs) && (r.endedAtMs === null || (isTime(r.endedAtMs) && r.endedAtMs >= r.startedAtMs))
  );
}

export function isOutageRecord(v: unknown): v is OutageRecord {
  const r = v as OutageRecord;
  return (
    typeof v === 'object' && v !== null && isTime(r.startedAtMs) && (r.endedAtMs === null || (isTime(r.endedAtMs) && r.endedAtMs >= r.startedAtMs)) &&
    (r.reason === null || isText(r.reason, 64)) && isCount(r.peakEvents) && isCount(r.peakPayments) &&
    typeof r.peakAmountByCurrencyMinor === 'object' && r.peakAmountByCurrencyMinor !== null &&
    Object.values(r.peakAmountByCurrencyMinor).every((n) => Number.isSafeInteger(n))
  );
}

export function isBacklogSample(v: unknown): v is BacklogSample {
  const r = v as BacklogSample;
  return typeof v === 'object' && v !== null && isTime(r.atMs) && isCount(r.events) && isCount(r.payments);
}

/** Throws a TypeError naming `what` when `ok` is false: a record about to be written is malformed (a bug). */
export function assertRecord(ok: boolean, what: string): void {
  if (!ok) throw new TypeError(`malformed history record: ${what}`);
}
