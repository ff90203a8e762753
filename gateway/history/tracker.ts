/**
 * Deciding what history to write is a pure function of what is open and what is true now (the
 * shape of gateway/forwarder/settle.ts): which alarms start and end, and what becomes of an outage.
 * The recorder only applies the answers.
 */
import type { AlarmLevel, AlarmRecord, BacklogSample, OutageRecord } from './records.js';

/** A problem as it stands now, for one subject. */
export interface CurrentProblem {
  readonly code: string;
  readonly subject: string;
  readonly level: AlarmLevel;
  readonly title: string;
}

export const alarmKey = (a: { readonly code: string; readonly subject: string }): string => `${a.code}\u0000${a.subject}`;

/**
 * Alarms to open (problems now true that no open alarm covers) and to close (open alarms whose
 * problem is gone), ending at `endedAtMs` (now, or the last time the gateway looked when it was
 * off in between). After applying both, the open alarms are exactly the current problems.
 */
export function alarmTransitions(
  open: readonly AlarmRecord[],
  current: readonly CurrentProblem[],
  nowMs: number,
  endedAtMs: number = nowMs,
): { readonly opened: AlarmRecord[]; readonly closed: AlarmRecord[] } {
  const now = new Map(current.map((p) => [alarmKey(p), p]));
  const openKeys = new Set(open.map(alarmKey));
  const closed = open.filter((a) => !now.has(alarmKey(a))).map((a) => ({ ...a, endedAtMs: Math.max(a.startedAtMs, Math.min(endedAtMs, nowMs)) }));
  const opened: AlarmRecord[] = [];
  for (const [key, p] of now) {
    if (!openKeys.has(key)) opened.push({ code: p.code, subject: p.subject, level: p.level, title: p.title, startedAtMs: nowMs, endedAtMs: null });
  }
  return { opened, closed };
}

/** The internet link and the backlog as they stand. */
export interface LinkNow {
  readonly offline: boolean;
  readonly reason: string | null;
  readonly backlog: BacklogSample;
  readonly amountByCurrencyMinor: Readonly<Record<string, number>>;
}

/**
 * What becomes of the outage: opened when the link goes down, its peak raised while it lasts
 * (written only when the peak grows), ended when the link is back. Null: nothing to write.
 */
export function outageStep(open: OutageRecord | null, link: LinkNow, nowMs: number, endedAtMs: number = nowMs): OutageRecord | null {
  const b = link.backlog;
  if (open === null) {
    if (!link.offline) return null;
    return { startedAtMs: nowMs, endedAtMs: null, reason: link.reason, peakEvents: b.events, peakPayments: b.payments, peakAmountByCurrencyMinor: { ...link.amountByCurrencyMinor } };
  }
  if (!link.offline) return { ...open, endedAtMs: Math.max(open.startedAtMs, Math.min(endedAtMs, nowMs)) };
  if (b.events <= open.peakEvents) return null;
  return { ...open, peakEvents: b.events, peakPayments: b.payments, peakAmountByCurrencyMinor: { ...link.amountByCurrencyMinor } };
}
