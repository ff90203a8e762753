/** The history's decisions as pure functions, checked by properties: alarms follow the problems exactly; outages open, peak and close. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlarmRecord } from '../../gateway/history/records.js';
import { alarmKey, alarmTransitions, outageStep, type CurrentProblem } from '../../gateway/history/tracker.js';

const problemArb = fc.record({
  code: fc.constantFrom('WAN_OFFLINE', 'TERMINAL_SILENT', 'DEAD_LETTERS'),
  subject: fc.constantFrom('wan', 't-01', 't-02', 'cloud'),
  level: fc.constantFrom('alarm' as const, 'warn' as const),
  title: fc.constant('x'),
});

describe('history - alarm transitions', () => {
  it('history - after every look the open alarms are exactly the problems of that look, and ends never precede starts', () => {
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(problemArb, { selector: alarmKey, maxLength: 6 }), { minLength: 1, maxLength: 30 }), (looks: CurrentProblem[][]) => {
        let all: AlarmRecord[] = [];
        looks.forEach((current, i) => {
          const nowMs = 1_000 * (i + 1);
          const open = all.filter((a) => a.endedAtMs === null);
          const { opened, closed } = alarmTransitions(open, current, nowMs);
          const closedKeys = new Set(closed.map((a) => `${alarmKey(a)}@${a.startedAtMs}`));
          all = [...all.map((a) => (closedKeys.has(`${alarmKey(a)}@${a.startedAtMs}`) ? (closed.find((c) => alarmKey(c) === alarmKey(a)) ?? a) : a)), ...opened];
          const openKeys = all.filter((a) => a.endedAtMs === null).map(alarmKey).sort();
          expect(openKeys).toEqual(current.map(alarmKey).sort());
          for (const a of all) if (a.endedAtMs !== null) expect(a.endedAtMs).toBeGreaterThanOrEqual(a.startedAtMs);
        });
      }),
    );
  });

  it('history - an alarm that ended while the gateway was off ends when it last looked', () => {
    const open: AlarmRecord[] = [{ code: 'WAN_OFFLINE', subject: 'wan', level: 'alarm', title: 'Internet down', startedAtMs: 1_000, endedAtMs: null }];
    const { closed, opened } = alarmTransitions(open, [], 90_000, 5_000);
    expect(closed).toEqual([{ ...open[0], endedAtMs: 5_000 }]);
    expect(opened).toEqual([]);
  });
});

describe('history - outages', () => {
  const link = (offline: boolean, events: number) => ({ offline, reason: offline ? 'NETWORK' : null, backlog: { atMs: 0, events, payments: events, }, amountByCurrencyMinor: { EUR: events * 100 } });

  it('history - an outage opens when the link goes down, keeps its peak, and ends when it is back', () => {
    const opened = outageStep(null, link(true, 3), 1_000);
    expect(opened).toEqual({ startedAtMs: 1_000, endedAtMs: null, reason: 'NETWORK', peakEvents: 3, peakPayments: 3, peakAmountByCurrencyMinor: { EUR: 300 } });
    const higher = outageStep(opened, link(true, 12), 2_000);
    expect(higher).toMatchObject({ startedAtMs: 1_000, peakEvents: 12, peakAmountByCurrencyMinor: { EUR: 1_200 } });
    expect(outageStep(higher, link(true, 5), 3_000)).toBeNull();
    expect(outageStep(higher, link(false, 0), 4_000)).toMatchObject({ endedAtMs: 4_000, peakEvents: 12 });
    expect(outageStep(null, link(false, 0), 5_000)).toBeNull();
  });
});
