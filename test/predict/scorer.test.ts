/** The scorer: alerts on level changes only, subjects independent of interleaving, order and bounds enforced, reasons in words. */
import { describe, expect, it } from 'vitest';
import { parseRecordLine, requireRecord } from '../../gateway/predict/records.js';
import { TERMINAL_FEATURES } from '../../gateway/predict/features/terminal.js';
import { aboutDuration, terminalReasons } from '../../gateway/predict/reasons.js';
import { FleetScorer } from '../../gateway/predict/scorer.js';
import type { PredictionAlert } from '../../protocol/prediction.js';
import { drainingBattery, testModel } from './support/test-model.js';

const T0 = Date.UTC(2026, 0, 5, 9);

function score(lines: readonly string[], maxSubjects?: number): { alerts: PredictionAlert[]; scorer: FleetScorer } {
  const scorer = new FleetScorer(testModel(), maxSubjects === undefined ? {} : { maxSubjects });
  const alerts: PredictionAlert[] = [];
  for (const line of lines) {
    const a = scorer.ingest(requireRecord(parseRecordLine(line)));
    if (a !== null) alerts.push(a);
  }
  return { alerts, scorer };
}

describe('scorer', () => {
  it('scorer - warns once about a battery running out, says how fast and when, and what to do', () => {
    const { alerts, scorer } = score(drainingBattery('s-1', 't-07', T0, 140, 40, 30));
    expect(alerts.map((a) => a.level)).toEqual(['warning', 'critical']);
    expect(alerts[0]!.subject).toBe('terminal/t-07');
    expect(alerts[0]!.reasons[0]).toMatch(/^battery at \d+ %, falling (2[6-9]|3[0-4]) %\/h, empty in (about|less than) .+: put t-07 on its charger/);
    expect(scorer.get('s-1', 'terminal/t-07')).toMatchObject({ level: 'critical' });
  });

  it('scorer - gives each subject the same alerts however the input interleaves subjects', () => {
    const a = drainingBattery('s-1', 't-01', T0, 100, 30, 25);
    const b = drainingBattery('s-1', 't-02', T0 + 7_000, 100, 60, 40);
    const together = score([...a, ...b].sort((x, y) => (JSON.parse(x).at < JSON.parse(y).at ? -1 : 1))).alerts;
    const apart = [...score(a).alerts, ...score(b).alerts];
    const key = (x: PredictionAlert) => `${x.subject} ${x.at} ${x.level}`;
    expect(together.map(key).sort()).toEqual(apart.map(key).sort());
    expect(together.length).toBeGreaterThan(0);
  });

  it('scorer - skips a record older than its subject\'s last one, and subjects past its bound', () => {
    const lines = drainingBattery('s-1', 't-01', T0, 3, 50, 10);
    const { scorer } = score([lines[0]!, lines[2]!, lines[1]!, ...drainingBattery('s-1', 't-02', T0, 2, 50, 10)], 1);
    expect(scorer.stats).toEqual({ scored: 2, outOfOrder: 1, subjectsRefused: 2 });
  });

  it('scorer - warns about a WAN losing probes and raises nothing while it is down', () => {
    const lines: string[] = [];
    let t = T0;
    const probe = (ok: boolean) => {
      lines.push(JSON.stringify({ kind: 'wan', store: 's-1', at: new Date(t).toISOString(), ok, ...(ok ? { rttMs: 40 } : {}) }));
    };
    for (let i = 0; i < 200; i++, t += 15_000) probe(true);
    for (let i = 0; i < 60; i++, t += 15_000) probe(i % 2 === 0); // half the probes lost for 15 minutes
    const lossy = score(lines).alerts;
    expect(lossy[0]).toMatchObject({ subject: 'wan', level: 'warning' });
    expect(lossy[0]!.reasons[0]).toMatch(/^probes to the cloud failing: \d+ % of the last 10 min, usually under 1 %: check the router and call the internet provider$/);
    const down: string[] = lines.slice(0, 200);
    t = T0 + 200 * 15_000;
    lines.length = 0;
    for (let i = 0; i < 300; i++, t += 2_000) probe(false); // the link is simply down for 10 minutes
    expect(score([...down, ...lines]).alerts).toEqual([]);
  });

  it('reasons - call a battery worn when it drains much faster than its own usual, and not when it drains as usual', () => {
    const facts = {
      batteryPct: 31, charging: false, drainPctPerH: 24, usualDrainPctPerH: 8, emptyInMin: 78, rssiDbm: -60, rssiUsualDbm: -60, rssiFallingDbPerH: 0,
      reconnects15Min: 0, errors15Min: 0, errorsUsualPerH: 0, outboxDepth: 0, outboxOldestAgeS: 0, rttMs: 8, rttUsualMs: 8, firmware: '4.3.0',
    };
    const c = Float64Array.from(TERMINAL_FEATURES, (f) => (f.startsWith('battery.') ? 1 : 0));
    const [worn] = terminalReasons('lane 7', facts, TERMINAL_FEATURES, c);
    expect(worn).toBe('battery at 31 %, falling 24 %/h, empty in about 1 h 20 min: put lane 7 on its charger (it drains 3× faster than usual: the battery is worn, replace it)');
    const [usual] = terminalReasons('lane 7', { ...facts, usualDrainPctPerH: 20 }, TERMINAL_FEATURES, c);
    expect(usual).not.toContain('worn');
    // A terminal with no history yet: only a drain no shift could last through is called unusual.
    const [fresh] = terminalReasons('lane 7', { ...facts, usualDrainPctPerH: null, drainPctPerH: 30 }, TERMINAL_FEATURES, c);
    expect(fresh).toContain('(the battery drains unusually fast: replace it if this repeats)');
    const [freshSlow] = terminalReasons('lane 7', { ...facts, usualDrainPctPerH: null, drainPctPerH: 12 }, TERMINAL_FEATURES, c);
    expect(freshSlow).not.toContain('unusually');
  });

  it('reasons - say durations the way people do', () => {
    expect(aboutDuration(3)).toBe('less than 5 min');
    expect(aboutDuration(41)).toBe('about 40 min');
    expect(aboutDuration(128)).toBe('about 2 h 10 min');
    expect(aboutDuration(178)).toBe('about 3 h');
  });
});
