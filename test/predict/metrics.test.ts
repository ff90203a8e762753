/** The §3.7 scoring terms: which alerts are true, which failures are caught, lead times, failures from records, PR-AUC. */
import { describe, expect, it } from 'vitest';
import { FailureTracker } from '../../gateway/predict/eval/failures.js';
import { averagePrecision, emptyCounts, histogramAveragePrecision, matchSubject } from '../../gateway/predict/eval/metrics.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5);

describe('prediction scoring terms', () => {
  it('metrics - a warning is true only 10 minutes to 2 hours before its subject fails', () => {
    const c = emptyCounts();
    // Failure at T0+200 min. Alerts at 5 min (too early), 150 min (50 min ahead: true), 195 min (5 min ahead: too late).
    matchSubject([T0 + 5 * MIN, T0 + 150 * MIN, T0 + 195 * MIN], [T0 + 200 * MIN], T0, T0 + 1_000 * MIN, c);
    expect(c).toMatchObject({ alerts: 3, trueAlerts: 1, failures: 1, detected: 1, leadsMs: [50 * MIN] });
  });

  it('metrics - a failure with no warning before it is a miss, and an unjudgeable late alert is censored', () => {
    const c = emptyCounts();
    matchSubject([T0 + 990 * MIN], [T0 + 500 * MIN], T0, T0 + 1_000 * MIN, c);
    expect(c).toMatchObject({ alerts: 0, censored: 1, failures: 1, detected: 0 });
  });

  it('failures - a terminal fails after 5 minutes without a sample; the WAN after 5 minutes of failed probes', () => {
    const f = new FailureTracker();
    for (let m = 0; m <= 10; m++) f.health('s', 'terminal/a', T0 + m * 30_000);
    f.health('s', 'terminal/a', T0 + 10 * 30_000 + 4 * MIN + 59_000); // a 4 min 59 s gap does not count
    f.health('s', 'terminal/a', T0 + 30 * MIN);
    f.wan('s', 'wan', T0, true);
    for (let s = 0; s <= 180; s += 2) f.wan('s', 'wan', T0 + MIN + s * 1_000, false); // 3 minutes: a blip
    f.wan('s', 'wan', T0 + 5 * MIN, true);
    for (let s = 0; s <= 400; s += 2) f.wan('s', 'wan', T0 + 10 * MIN + s * 1_000, false);
    f.wan('s', 'wan', T0 + 20 * MIN, true);
    const failures = f.finish(T0 + 31 * MIN);
    expect(failures.map((x) => [x.subject, (x.onsetMs - T0) / 1000])).toEqual([
      ['terminal/a', 599],
      ['wan', 600],
    ]);
  });

  it('metrics - average precision is 1 for a perfect ranking and smaller for a worse one', () => {
    expect(averagePrecision([{ recall: 0.5, precision: 1 }, { recall: 1, precision: 1 }])).toBe(1);
    expect(averagePrecision([{ recall: 0.5, precision: 1 }, { recall: 1, precision: 0.5 }])).toBe(0.75);
    expect(averagePrecision([])).toBe(0);
    const pos = new Float64Array(10);
    const neg = new Float64Array(10);
    pos[9] = 5;
    neg[1] = 100;
    expect(histogramAveragePrecision(pos, neg)).toBe(1);
  });
});
