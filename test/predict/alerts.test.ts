/** The alert state machine: confirmation, escalation, hysteresis, suppression while down, reset after a failure. */
import { describe, expect, it } from 'vitest';
import { INITIAL_ALERT_STATE, nextAlertState, type AlertState } from '../../gateway/predict/alerts.js';
import type { AlertParams } from '../../gateway/predict/model/model.js';

const P: AlertParams = { warnAt: 0.5, criticalAt: 0.8, clearAt: 0.3, confirmMs: 60_000, clearMs: 300_000 };
const MIN = 60_000;

function run(risks: readonly [number, number][], opts: { suppressedAt?: number[]; restartedAt?: number[] } = {}): { levels: string[]; state: AlertState } {
  let s = INITIAL_ALERT_STATE;
  const levels: string[] = [];
  for (const [atMs, risk] of risks) {
    const next = nextAlertState(s, { atMs, risk, suppressed: opts.suppressedAt?.includes(atMs) ?? false, restarted: opts.restartedAt?.includes(atMs) ?? false }, P);
    if (next.level !== s.level) levels.push(`${atMs / 1000}s:${next.level}`);
    s = next;
  }
  return { levels, state: s };
}

const every30s = (risks: number[]) => risks.map((r, i) => [i * 30_000, r] as [number, number]);

describe('alert state machine', () => {
  it('alerts - one sample over the threshold raises nothing; a minute over it raises a warning', () => {
    expect(run(every30s([0.1, 0.6, 0.1, 0.1])).levels).toEqual([]);
    expect(run(every30s([0.1, 0.6, 0.6, 0.6])).levels).toEqual(['90s:warning']);
  });

  it('alerts - goes straight to critical when the risk is critical for the whole confirmation', () => {
    expect(run(every30s([0.9, 0.9, 0.9])).levels).toEqual(['60s:critical']);
    expect(run(every30s([0.6, 0.6, 0.6, 0.9, 0.9, 0.9])).levels).toEqual(['60s:warning', '150s:critical']);
  });

  it('alerts - clears only after the risk stays under clearAt, not just under warnAt', () => {
    const high = Array(4).fill(0.6);
    expect(run(every30s([...high, ...Array(20).fill(0.4)])).levels).toEqual(['60s:warning']);
    expect(run(every30s([...high, ...Array(20).fill(0.2)])).levels).toEqual(['60s:warning', `${(4 + 10) * 30}s:clear`]);
  });

  it('alerts - a critical subject steps back to a warning when the risk stays under criticalAt', () => {
    expect(run(every30s([0.9, 0.9, 0.9, ...Array(12).fill(0.6)])).levels).toEqual(['60s:critical', `${(3 + 10) * 30}s:warning`]);
  });

  it('alerts - raises nothing while the subject is down, and clears at once when it returns healthy', () => {
    const risks = every30s([0.9, 0.9, 0.9, 0.9, 0.1]);
    expect(run(risks, { suppressedAt: [0, 30_000, 60_000, 90_000] }).levels).toEqual([]);
    const back = run(every30s([0.9, 0.9, 0.9, 0.1]), { restartedAt: [90_000] });
    expect(back.levels).toEqual(['60s:critical', '90s:clear']);
  });

  it('alerts - returns the same state object when nothing changes', () => {
    const s = INITIAL_ALERT_STATE;
    expect(nextAlertState(s, { atMs: MIN, risk: 0.1, suppressed: false, restarted: false }, P)).toBe(s);
  });
});
