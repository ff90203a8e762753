/**
 * The §3.7 scoring terms as arithmetic: an alert (a raise from clear) is true when its subject
 * fails 10 minutes to 2 hours after it; a failure is caught when such an alert came before it;
 * its lead time is from the earliest such alert. Precision is per alert, recall per failure.
 * Alerts in the last 2 hours of the data whose outcome is not known yet are left out (censored),
 * not counted false. Average precision summarizes a precision–recall curve (the PR-AUC).
 */
import { WARNING_MAX_LEAD_MS, WARNING_MIN_LEAD_MS } from '../../../protocol/prediction.js';

export interface MatchCounts {
  alerts: number;
  trueAlerts: number;
  /** Alerts too close to the end of the data to judge. */
  censored: number;
  failures: number;
  detected: number;
  leadsMs: number[];
}

export const emptyCounts = (): MatchCounts => ({ alerts: 0, trueAlerts: 0, censored: 0, failures: 0, detected: 0, leadsMs: [] });

/**
 * Matches one subject's alert times against its failure onsets (both ascending). Alerts before
 * `fromMs` and failures before `fromMs + 10 min` are outside the window; alerts after
 * `endMs - 2 h` that match nothing are censored.
 */
/** Which failures were caught: `flags[offset + i]` is set when the subject's i-th counted failure was. */
export interface CaughtFlags {
  readonly flags: Uint8Array;
  readonly offset: number;
}

/** The failures of a subject that count (those from `fromMs + 10 min` on). */
export const countedOnsets = (onsetsMs: readonly number[], fromMs: number): number[] => onsetsMs.filter((o) => o >= fromMs + WARNING_MIN_LEAD_MS);

export function matchSubject(alertsMs: readonly number[], onsetsMs: readonly number[], fromMs: number, endMs: number, into: MatchCounts, caught?: CaughtFlags): void {
  const onsets = countedOnsets(onsetsMs, fromMs);
  for (const a of alertsMs) {
    if (a < fromMs) continue;
    const hit = onsets.some((o) => o - a >= WARNING_MIN_LEAD_MS && o - a <= WARNING_MAX_LEAD_MS);
    if (hit) {
      into.alerts++;
      into.trueAlerts++;
    } else if (a > endMs - WARNING_MAX_LEAD_MS) {
      into.censored++;
    } else {
      into.alerts++;
    }
  }
  for (const [i, o] of onsets.entries()) {
    into.failures++;
    let lead = -1;
    for (const a of alertsMs) {
      if (a < fromMs) continue;
      const d = o - a;
      if (d >= WARNING_MIN_LEAD_MS && d <= WARNING_MAX_LEAD_MS) lead = Math.max(lead, d);
    }
    if (lead >= 0) {
      into.detected++;
      into.leadsMs.push(lead);
      if (caught !== undefined) caught.flags[caught.offset + i] = 1;
    }
  }
}

export function mergeCounts(a: MatchCounts, b: MatchCounts): MatchCounts {
  return {
    alerts: a.alerts + b.alerts,
    trueAlerts: a.trueAlerts + b.trueAlerts,
    censored: a.censored + b.censored,
    failures: a.failures + b.failures,
    detected: a.detected + b.detected,
    leadsMs: [...a.leadsMs, ...b.leadsMs],
  };
}

export const precisionOf = (c: MatchCounts): number | null => (c.alerts === 0 ? null : c.trueAlerts / c.alerts);
export const recallOf = (c: MatchCounts): number | null => (c.failures === 0 ? null : c.detected / c.failures);

export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/**
 * Average precision over a set of (recall, precision) operating points: the area under the
 * step-wise curve, recall ascending, each step at the best precision reachable at that recall or
 * more (the usual interpolation). 0 when nothing is ever caught.
 */
export function averagePrecision(points: readonly { readonly recall: number; readonly precision: number }[]): number {
  const pts = [...points].sort((a, b) => a.recall - b.recall || b.precision - a.precision);
  let area = 0;
  let prevRecall = 0;
  for (let i = 0; i < pts.length; i++) {
    const r = pts[i]!.recall;
    if (r <= prevRecall) continue;
    let best = 0;
    for (let j = i; j < pts.length; j++) best = Math.max(best, pts[j]!.precision);
    area += (r - prevRecall) * best;
    prevRecall = r;
  }
  return area;
}

/** Sample-level PR-AUC from risk histograms of positives and negatives (bins over 0..1). */
export function histogramAveragePrecision(pos: Float64Array, neg: Float64Array): number | null {
  const totalPos = pos.reduce((a, b) => a + b, 0);
  if (totalPos === 0) return null;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  for (let b = pos.length - 1; b >= 0; b--) {
    if (pos[b]! === 0 && neg[b]! === 0) continue;
    tp += pos[b]!;
    fp += neg[b]!;
    ap += (pos[b]! / totalPos) * (tp / (tp + fp));
  }
  return ap;
}
