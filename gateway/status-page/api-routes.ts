/**
 * The status API (DESIGN §3.5), built from the same snapshot as the page so the two never disagree:
 * - `GET /api/status`          the gateway's facts, the headline and every problem with what to do,
 *                              the backlog and the link (the shapes of /api/forwarder), every terminal
 * - `GET /api/terminals`       every terminal, each in the same shape as in /api/status
 * - `GET /api/terminals/:id`   one terminal: that shape plus its keys, chain head and latest sample
 * - `GET /api/history`         the kept hours: alarms with start and end, outages, the backlog
 */
import type { Hono } from 'hono';
import type { Clock } from '../../lib/clock.js';
import { problemJson, terminalJson, wanJson, type WanLinkFacts } from '../api-shapes.js';
import { errorBody } from '../http/errors.js';
import type { HistorySnapshot } from '../history/recorder.js';
import { buildStatus, terminalDetailExtras, type StatusSources } from '../status.js';
import { buildHeadline, type HeadlineOptions } from './headline.js';
import { problemsOfTerminal, sortTerminals } from './terminal-problems.js';
import type { StatusView } from './view.js';

export interface StatusApiDeps {
  readonly sources: StatusSources;
  /** The page's snapshot (without history). */
  readonly readView: () => Promise<StatusView>;
  readonly options: HeadlineOptions;
  /** The link as the WAN monitor sees it; null without a cloud. */
  readonly wan: () => WanLinkFacts | null;
  readonly history: () => HistorySnapshot;
  readonly clock: Clock;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Every terminal, problem terminals first: the same list in /api/status and /api/terminals. */
function terminalsOf(view: StatusView, options: HeadlineOptions) {
  return sortTerminals(view, options).map((r) => terminalJson(r.t, r.problems, view, options));
}

export function mountStatusApi(app: Hono, deps: StatusApiDeps): void {
  app.get('/api/status', async (c) => {
    const view = await deps.readView();
    const headline = buildHeadline(view, deps.options);
    const wan = deps.wan();
    return c.json({
      ...buildStatus(deps.sources),
      storeName: view.storeName ?? null,
      timeZone: view.timeZone ?? 'UTC',
      headline: { level: headline.level, sentence: headline.sentence },
      problems: headline.problems.map(problemJson),
      wanLink: wan === null ? null : wanJson(wan),
      terminals: terminalsOf(view, deps.options),
    });
  });

  app.get('/api/terminals', async (c) => c.json({ terminals: terminalsOf(await deps.readView(), deps.options) }));

  app.get('/api/terminals/:id', async (c) => {
    const id = c.req.param('id');
    const view = await deps.readView();
    const t = view.terminals.find((x) => x.id === id);
    const extras = t === undefined ? undefined : terminalDetailExtras(deps.sources, id);
    if (t === undefined || extras === undefined) return c.json(errorBody('NOT_FOUND', 'no such terminal'), 404);
    return c.json({ ...terminalJson(t, problemsOfTerminal(t, view, deps.options), view, deps.options), ...extras });
  });

  app.get('/api/history', (c) => {
    const h = deps.history();
    const nowMs = deps.clock.now();
    const durationS = (from: number, to: number | null) => Math.max(0, Math.floor(((to ?? nowMs) - from) / 1000));
    return c.json({
      at: new Date(nowMs).toISOString(),
      alarms: h.alarms.map((a) => ({ code: a.code, level: a.level, subject: a.subject, title: a.title, startedAt: iso(a.startedAtMs), endedAt: iso(a.endedAtMs), durationS: durationS(a.startedAtMs, a.endedAtMs) })),
      outages: h.outages.map((o) => ({
        startedAt: iso(o.startedAtMs), endedAt: iso(o.endedAtMs), durationS: durationS(o.startedAtMs, o.endedAtMs), reason: o.reason,
        peakEvents: o.peakEvents, peakPayments: o.peakPayments, peakAmountByCurrencyMinor: { ...o.peakAmountByCurrencyMinor },
      })),
      backlog: h.samples.map((s) => ({ at: iso(s.atMs), events: s.events, payments: s.payments })),
    });
  });
}
