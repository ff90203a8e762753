/**
 * The shipped model on a small simulated fleet whose seed it was never trained on, measured by the
 * §3.7 terms. The floors guard against a regression in detectors, model or alerting; they are not
 * the measurement (`tillgate predict eval` on the held-out seeds 1001–1008, 20 stores × 5 terminals
 * × 14 days, is: see docs/failure-prediction.md). The fleet is deterministic, so the figures are too.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../gateway/predict/eval/evaluate.js';
import { defaultModel } from '../../gateway/predict/model/default.js';
import { simSource } from '../../gateway/predict/sources.js';

const HELD_OUT_SEED = 2001;
const FLEET = { stores: 8, terminalsPerStore: 5, days: 5, startMs: Date.UTC(2026, 0, 5), sampleIntervalMs: 30_000 };

describe('evaluation on held-out seeds', () => {
  it('eval - the shipped model warns 10 min – 2 h ahead with precision and recall above their floors', async () => {
    const model = defaultModel();
    expect((model.trained as { seeds?: number[] }).seeds).not.toContain(HELD_OUT_SEED);
    const report = await evaluate(model, simSource([HELD_OUT_SEED], FLEET));
    const { all } = report;
    // A small fleet holds about ten failures, so one more or fewer caught moves a figure by ten
    // points: the floors sit just under what the shipped model measures here (precision 0.67,
    // recall 0.36, median lead 35 min, PR-AUC 0.40) and catch a regression, not a fluctuation.
    expect(all.failures).toBeGreaterThanOrEqual(10);
    expect(all.precision).toBeGreaterThanOrEqual(0.5);
    expect(all.recall).toBeGreaterThanOrEqual(0.3);
    expect(all.medianLeadMin).toBeGreaterThanOrEqual(10);
    expect(all.prAucAlerts).toBeGreaterThan(0.3);
    // Sudden failures are in the denominator: nothing warns before them.
    expect(report.byMode?.sudden?.detected ?? 0).toBe(0);
  }, 120_000);
});
