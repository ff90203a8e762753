/**
 * The alert state machine, a pure function (decisions as values; the scorer only applies
 * them): a subject's level moves clear → warning → critical when its risk stays at or above the
 * model's thresholds for `confirmMs`, and back when it stays below `clearAt` (or below
 * `criticalAt`) for `clearMs`, so one noisy sample neither raises nor clears an alert. While the
 * subject is failing right now (`suppressed`) nothing is raised: that is not a prediction. When it
 * returns from a failure with a low risk, an open alert clears at once, so the next trouble is a
 * new alert.
 */
import type { AlertLevel } from '../../protocol/prediction.js';
import type { AlertParams } from './model/model.js';

export interface AlertState {
  readonly level: AlertLevel;
  /** When the current level began; null before the first change. */
  readonly sinceMs: number | null;
  readonly aboveSinceMs: number | null;
  readonly criticalSinceMs: number | null;
  readonly belowSinceMs: number | null;
}

export interface AlertInput {
  readonly atMs: number;
  readonly risk: number;
  /** The subject is failing now (e.g. the WAN is down): hold, raise nothing. */
  readonly suppressed: boolean;
  /** First record after a failure. */
  readonly restarted: boolean;
}

export const INITIAL_ALERT_STATE: AlertState = Object.freeze({ level: 'clear', sinceMs: null, aboveSinceMs: null, criticalSinceMs: null, belowSinceMs: null });

const since = (cond: boolean, prev: number | null, atMs: number): number | null => (cond ? (prev ?? atMs) : null);

/** The next state; the same object when nothing changed (the common case costs no allocation). */
export function nextAlertState(s: AlertState, i: AlertInput, p: AlertParams): AlertState {
  const { atMs, risk } = i;
  if (i.restarted && s.level !== 'clear' && risk < p.warnAt) return { ...INITIAL_ALERT_STATE, sinceMs: atMs };
  if (i.suppressed) return s.aboveSinceMs === null && s.criticalSinceMs === null && s.belowSinceMs === null ? s : { ...s, aboveSinceMs: null, criticalSinceMs: null, belowSinceMs: null };
  // A threshold of 1 means "never" (a family trained to stay silent), even when a risk rounds to 1.
  const above = p.warnAt < 1 && risk >= p.warnAt;
  const critical = p.criticalAt < 1 && risk >= p.criticalAt;
  if (s.level === 'clear') {
    if (!above && s.aboveSinceMs === null) return s;
    const aboveSinceMs = since(above, s.aboveSinceMs, atMs);
    const criticalSinceMs = since(critical, s.criticalSinceMs, atMs);
    if (aboveSinceMs !== null && atMs - aboveSinceMs >= p.confirmMs) {
      const level: AlertLevel = criticalSinceMs !== null && atMs - criticalSinceMs >= p.confirmMs ? 'critical' : 'warning';
      return { level, sinceMs: atMs, aboveSinceMs: null, criticalSinceMs: level === 'critical' ? null : criticalSinceMs, belowSinceMs: null };
    }
    return { ...s, aboveSinceMs, criticalSinceMs };
  }
  const clearSinceMs = since(risk < p.clearAt, s.belowSinceMs, atMs);
  if (clearSinceMs !== null && atMs - clearSinceMs >= p.clearMs) return { ...INITIAL_ALERT_STATE, sinceMs: atMs };
  if (s.level === 'warning') {
    const criticalSinceMs = since(critical, s.criticalSinceMs, atMs);
    if (criticalSinceMs !== null && atMs - criticalSinceMs >= p.confirmMs) return { level: 'critical', sinceMs: atMs, aboveSinceMs: null, criticalSinceMs: null, belowSinceMs: null };
    if (criticalSinceMs === s.criticalSinceMs && clearSinceMs === s.belowSinceMs) return s;
    return { ...s, criticalSinceMs, belowSinceMs: clearSinceMs };
  }
  // Critical: back to a warning once the risk stays below the critical threshold.
  const belowCriticalSinceMs = since(!critical, s.criticalSinceMs, atMs);
  if (belowCriticalSinceMs !== null && atMs - belowCriticalSinceMs >= p.clearMs) return { level: 'warning', sinceMs: atMs, aboveSinceMs: null, criticalSinceMs: null, belowSinceMs: clearSinceMs };
  if (belowCriticalSinceMs === s.criticalSinceMs && clearSinceMs === s.belowSinceMs) return s;
  return { ...s, criticalSinceMs: belowCriticalSinceMs, belowSinceMs: clearSinceMs };
}
