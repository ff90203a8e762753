/**
 * Read routes of the health history (behind the status page's read protection, gateway/http/security.ts):
 * - `GET /api/health/records?since=&limit=`: the kept terminal samples and WAN probes as §3.7
 *   JSON lines in time order — exactly what `tillgate predict replay --input` reads, with the
 *   gateway's arrival time as `at` (the live scorer's time) and the terminal's own as `terminalAt`;
 * - `GET /api/health/rollups?subject=&resolution=&since=&limit=`: 1-minute or 1-hour roll-ups of
 *   one subject (`terminal/<id>` or `wan`).
 * `since` is RFC 3339 or ms since the epoch; `limit` is bounded.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { terminalIdSchema } from '../../protocol/ids.js';
import { errorBody } from '../http/errors.js';
import { healthEntryLine, probeLine } from '../predict/records.js';
import { MAX_HEALTH_READ, ROLLUP_RESOLUTIONS, type HealthEntry, type HealthStore, type HealthSubject, type WanProbe } from './health-store.js';

/** Records in one export answer by default, and at most (a day of a 40-terminal store at 30 s). */
export const DEFAULT_HEALTH_EXPORT_RECORDS = 20_000;
export const MAX_HEALTH_EXPORT_RECORDS = 200_000;

const since = z
  .string()
  .max(40)
  .transform((s, ctx) => {
    const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
    if (!Number.isFinite(ms)) ctx.addIssue({ code: 'custom', message: 'since must be RFC 3339 or ms since the epoch' });
    return ms;
  });

const recordsQuery = z.object({
  since: since.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_HEALTH_EXPORT_RECORDS).optional(),
});

const rollupsQuery = z.object({
  subject: z.union([z.literal('wan'), z.string().regex(/^terminal\/.+$/)]),
  resolution: z.enum(ROLLUP_RESOLUTIONS).default('1m'),
  since: since.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_HEALTH_READ).optional(),
});

export interface HealthRouteDeps {
  readonly health: HealthStore;
  readonly store: string;
}

export function mountHealthRoutes(app: Hono, deps: HealthRouteDeps): void {
  app.get('/api/health/records', async (c) => {
    const q = recordsQuery.safeParse(c.req.query());
    if (!q.success) return c.json(errorBody('BAD_QUERY', q.error.issues[0]?.message ?? 'bad query'), 400);
    const limit = q.data.limit ?? DEFAULT_HEALTH_EXPORT_RECORDS;
    const fromMs = q.data.since ?? 0;
    const per = Math.min(limit, MAX_HEALTH_READ);
    const lists: (HealthEntry | WanProbe)[][] = [];
    for (const t of deps.health.terminals()) lists.push(await deps.health.recent(t, fromMs, per));
    lists.push(await deps.health.recentWan(fromMs, per));
    const timeOf = (x: HealthEntry | WanProbe) => ('receivedAtMs' in x ? x.receivedAtMs : x.atMs);
    const merged = lists.flat().sort((a, b) => timeOf(a) - timeOf(b)).slice(0, limit);
    const body = merged.map((x) => ('receivedAtMs' in x ? healthEntryLine(deps.store, x) : probeLine(deps.store, x))).join('\n');
    return c.body(body === '' ? '' : `${body}\n`, 200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store' });
  });

  app.get('/api/health/rollups', async (c) => {
    const q = rollupsQuery.safeParse(c.req.query());
    if (!q.success) return c.json(errorBody('BAD_QUERY', q.error.issues[0]?.message ?? 'bad query'), 400);
    let subject: HealthSubject = { kind: 'wan' };
    if (q.data.subject !== 'wan') {
      const terminal = terminalIdSchema.safeParse(q.data.subject.slice('terminal/'.length));
      if (!terminal.success) return c.json(errorBody('BAD_QUERY', 'subject must be wan or terminal/<id>'), 400);
      subject = { kind: 'terminal', terminal: terminal.data };
    }
    const rollups = await deps.health.rollups(subject, q.data.resolution, q.data.since ?? 0, q.data.limit ?? MAX_HEALTH_READ);
    return c.json({ subject: q.data.subject, resolution: q.data.resolution, rollups });
  });
}
