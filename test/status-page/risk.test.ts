/** Failure risk on the page, from plain view models: the risk section, the column, the headline entry when critical. */
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHeadline, listProblems, PROBLEM_CODES } from '../../gateway/status-page/headline.js';
import { mountStatusPage, type StatusPageHandle } from '../../gateway/status-page/mount.js';
import type { RiskView, StatusView } from '../../gateway/status-page/view.js';
import { FakeClock } from '../support/fake-clock.js';
import { healthyView, MIN_MS, terminal, terminalSilentView } from './fixtures.js';

const handles: StatusPageHandle[] = [];
afterEach(() => handles.splice(0).forEach((h) => h.close()));

async function html(view: StatusView): Promise<string> {
  const app = new Hono();
  handles.push(mountStatusPage(app, { readView: () => view }));
  return (await app.request('/')).text();
}

const now = new FakeClock().now();
const battery = 'battery at 12 %, falling 30 %/h, empty in about 25 min: put t-07 on its charger';
const risk = (level: RiskView['level'], overrides: Partial<RiskView> = {}): RiskView => ({
  risk: level === 'critical' ? 0.96 : level === 'warning' ? 0.62 : 0.02,
  level,
  reasons: level === 'clear' ? [] : [battery],
  sinceMs: level === 'clear' ? null : now - 6 * MIN_MS,
  atMs: now - 20_000,
  ...overrides,
});

function withRisk(level: RiskView['level'], overrides: Partial<RiskView> = {}, wan: RiskView | null = risk('clear')): StatusView {
  const base = healthyView(now);
  return {
    ...base,
    terminals: base.terminals.map((t) => (t.id === 't-07' ? { ...t, risk: risk(level, overrides) } : { ...t, risk: risk('clear') })),
    prediction: { modelVersion: 'v1-test', wan },
  };
}

describe('failure risk on the status page', () => {
  it('risk - a warning is listed with its reason and shown in the table, and stays out of the headline', async () => {
    const view = withRisk('warning');
    expect(listProblems(view).map((p) => p.code)).not.toContain(PROBLEM_CODES.failurePredicted);
    const page = await html(view);
    expect(page).toMatch(/<li id="risk-terminal-t-07"><span class="state s-warn">Warning \(62 %\)<\/span> <strong>Terminal t-07<\/strong>/);
    expect(page).toContain(battery);
    expect(page).toMatch(/<td data-label="Failure risk"><span class="state s-warn">Warning \(62 %\)<\/span><\/td>/);
    expect(page).toContain('Model v1-test');
  });

  it('risk - a critical terminal is in the headline with its reason, after the problems of right now', () => {
    const h = buildHeadline(withRisk('critical'));
    expect(h.sentence).toBe(`Terminal t-07 is likely to fail soon — ${battery}`);
    expect(h.level).toBe('warn');
    const silent = terminalSilentView(now);
    const both = { ...silent, terminals: silent.terminals.map((t) => (t.id === 't-02' ? { ...t, risk: risk('critical') } : t)), prediction: { modelVersion: 'v', wan: null } };
    expect(listProblems(both).map((p) => p.code)).toEqual([PROBLEM_CODES.terminalSilent, PROBLEM_CODES.failurePredicted]);
  });

  it('risk - a prediction about a terminal silent for 5 minutes is no longer news: the page says it came true', async () => {
    const view = withRisk('critical', { atMs: now - 9 * MIN_MS, sinceMs: now - 30 * MIN_MS });
    expect(listProblems(view).map((p) => p.code)).not.toContain(PROBLEM_CODES.failurePredicted);
    expect(await html(view)).toMatch(/The prediction came true:<\/strong> not heard from for 9 min, 21 min after the critical/);
  });

  it('risk - the internet link at risk has its line in the section and its risk in the internet box', async () => {
    const wan = risk('critical', { reasons: ['probes to the cloud failing: 18 % of the last 10 min, usually under 1 %: check the router and call the internet provider'] });
    const view = withRisk('clear', {}, wan);
    expect(buildHeadline(view).sentence).toBe('The internet link is likely to fail soon — probes to the cloud failing: 18 % of the last 10 min, usually under 1 %: check the router and call the internet provider');
    const page = await html(view);
    expect(page).toContain('id="risk-wan"');
    expect(page).toMatch(/<dd id="wan-risk"><span class="state s-alarm">Critical \(96 %\)<\/span><\/dd>/);
  });

  it('risk - without prediction the page has no risk section or column', async () => {
    const page = await html({ ...healthyView(now), terminals: [terminal('t-01', now)] });
    expect(page).not.toContain('id="risk"');
    expect(page).not.toContain('Failure risk');
  });
});
