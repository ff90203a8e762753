/** The health history's read routes: §3.7 lines in time order, roll-ups, and coded refusals of bad queries. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { MemoryHealthStore } from '../../gateway/health/memory-health-store.js';
import { mountHealthRoutes } from '../../gateway/health/routes.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2026, 0, 5, 9);

async function setup() {
  const clock = new FakeClock(T0);
  const health = new MemoryHealthStore(clock, { perTerminal: 100, queueMax: 100, maxTerminals: 10 });
  for (let i = 0; i < 3; i++) {
    health.record('t-1', JSON.stringify({ at: '2026-01-05T08:59:59Z', batteryPct: 50 - i }));
    clock.advance(10_000);
    health.recordWan({ atMs: clock.now(), ok: i !== 1, rttMs: i !== 1 ? 40 : null });
    health.record('t-2', JSON.stringify({ at: 'x', rssiDbm: -60 }));
    clock.advance(50_000);
  }
  await health.rollUp(clock.now() + 60_000, { graceMs: 1_000, maxMinutesPerRun: 60 });
  const app = new Hono();
  mountHealthRoutes(app, { health, store: 's-1' });
  return { app };
}

describe('health routes', () => {
  it('health routes - export every kept sample and probe as §3.7 lines in time order, from a time on', async () => {
    const { app } = await setup();
    const lines = (await (await app.request('/api/health/records')).text()).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; at: string; terminal?: string });
    expect(lines).toHaveLength(9);
    expect(lines.map((l) => l.at)).toEqual([...lines.map((l) => l.at)].sort());
    expect(lines.filter((l) => l.kind === 'wan')).toHaveLength(3);
    expect(lines[0]).toMatchObject({ store: 's-1', at: '2026-01-05T09:00:00.000Z', terminalAt: '2026-01-05T08:59:59Z', batteryPct: 50 });
    expect(lines.find((l) => l.kind === 'wan' && (l as { ok?: boolean }).ok === false)).toEqual({ kind: 'wan', store: 's-1', at: '2026-01-05T09:01:10.000Z', ok: false });
    const later = (await (await app.request(`/api/health/records?since=2026-01-05T09:02:00Z&limit=2`)).text()).trim().split('\n');
    expect(later).toHaveLength(2);
    expect(JSON.parse(later[0]!)).toMatchObject({ kind: 'health', terminal: 't-1', batteryPct: 48 });
  });

  it('health routes - serve a subject\'s roll-ups', async () => {
    const { app } = await setup();
    const wan = (await (await app.request('/api/health/rollups?subject=wan')).json()) as { rollups: { probes: number; failures: number }[] };
    expect(wan.rollups.map((r) => [r.probes, r.failures])).toEqual([[1, 0], [1, 1], [1, 0]]);
    const t1 = (await (await app.request('/api/health/rollups?subject=terminal/t-1&resolution=1m')).json()) as { rollups: unknown[] };
    expect(t1.rollups).toHaveLength(3);
  });

  it('health routes - refuse a bad query with BAD_QUERY', async () => {
    const { app } = await setup();
    for (const q of ['/api/health/records?since=yesterday', '/api/health/records?limit=0', '/api/health/records?limit=9999999', '/api/health/rollups?subject=printer', '/api/health/rollups?subject=terminal/BAD!', '/api/health/rollups?subject=wan&resolution=1d']) {
      const res = await app.request(q);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code, q).toBe('BAD_QUERY');
    }
  });
});
