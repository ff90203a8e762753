/** The backlog chart's line: where it breaks (the gateway was off) and how a lone point shows. */
import { describe, expect, it } from 'vitest';
import { BacklogChart } from '../../gateway/status-page/backlog-chart.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 23, 7, 0);

async function svg(samples: { atMs: number; events: number }[], startsMs: number[] = []): Promise<string> {
  const node = BacklogChart({ samples: samples.map((s) => ({ ...s, payments: s.events })), outages: [], startsMs, nowMs: NOW, timeZone: 'Europe/Berlin' });
  return String(await node?.toString());
}

const polylines = (html: string) => [...html.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => (m[1] ?? '').split(' ').length);

describe('backlog chart', () => {
  it('chart - samples taken while the gateway ran make one line, however far apart the history job looked', async () => {
    const html = await svg([0, 20, 40, 60].map((m, i) => ({ atMs: NOW - 2 * 60 * MIN + m * MIN, events: i * 10 })));
    expect(polylines(html)).toEqual([4]);
  });

  it('chart - the line breaks where the gateway started again, and a lone point is drawn as a dot', async () => {
    const t0 = NOW - 3 * 60 * MIN;
    const html = await svg(
      [{ atMs: t0, events: 5 }, { atMs: t0 + MIN, events: 6 }, { atMs: t0 + 2 * MIN, events: 7 }, { atMs: t0 + 60 * MIN, events: 2 }],
      [t0 + 59 * MIN],
    );
    expect(polylines(html)).toEqual([3]);
    expect(html.match(/<circle class="backlog-dot"/g)).toHaveLength(1);
  });
});
