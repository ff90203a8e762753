/**
 * The status page and its live stream through Hono's `app.request()`: one test per state a field
 * technician meets (all good, WAN down with a backlog, store full, terminal silent, rejects, dead
 * letters), built from the view model the gateway feeds the page.
 */
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { mountStatusPage, type StatusPageHandle } from '../../gateway/status-page/mount.js';
import type { StatusView } from '../../gateway/status-page/view.js';
import { FakeClock } from '../support/fake-clock.js';
import { waitFor, within } from '../support/wait.js';
import { deadLettersView, healthyView, rejectsView, storeFullView, terminalSilentView, wanDownView } from './fixtures.js';

const handles: StatusPageHandle[] = [];
afterEach(() => {
  for (const h of handles.splice(0)) h.close();
});

function pageApp(view: () => StatusView, options: Parameters<typeof mountStatusPage>[1]['options'] = {}) {
  const app = new Hono();
  const handle = mountStatusPage(app, { readView: view, options: { pushIntervalMs: 20, ...options } });
  handles.push(handle);
  return { app, handle };
}

async function page(view: StatusView): Promise<string> {
  const { app } = pageApp(() => view);
  const res = await app.request('/');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return res.text();
}

const headlineOf = (html: string) => /<h1 id="headline">([^<]*)<\/h1>/.exec(html)?.[1];
const badgeOf = (html: string) => /<span class="badge">([^<]*)<\/span>/.exec(html)?.[1];

/** Reads SSE events from a streamed response until `count` `status` events arrived. */
async function readEvents(
  res: Response,
  count: number,
  onFrame: (n: number) => void = () => {},
): Promise<{ frames: Record<string, string>[]; raw: string }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let raw = '';
  const frames: Record<string, string>[] = [];
  while (frames.length < count) {
    const { value, done } = await within(reader.read(), 5_000, 'an SSE chunk');
    if (done) break;
    raw += decoder.decode(value, { stream: true });
    const before = frames.length;
    frames.length = 0;
    for (const block of raw.split('\n\n')) {
      if (!block.includes('event: status')) continue;
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      try {
        frames.push(JSON.parse(data) as Record<string, string>);
      } catch {
        // the last block may still be arriving
      }
    }
    for (let n = before; n < frames.length; n++) onFrame(n + 1);
  }
  await reader.cancel();
  return { frames, raw };
}

describe('status page handler', () => {
  const now = new FakeClock().now();

  it('status page - all good says so and shows every terminal', async () => {
    const html = await page(healthyView(now));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(headlineOf(html)).toBe('All good — 12 terminals connected, nothing waiting');
    expect(badgeOf(html)).toBe('OK');
    expect(html).toContain('<title>OK: All good');
    expect(html.match(/<tr id="terminal-/g)).toHaveLength(12);
    expect(html).toContain('12.0 GiB');
    expect(html).toContain('38 ms');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
    expect(html).toContain('<meta http-equiv="refresh" content="10"/>');
    // no external assets: the store may be offline
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('status page - WAN down leads with the outage, its length and the money waiting', async () => {
    const html = await page(wanDownView(now));
    expect(headlineOf(html)).toBe('Internet down for 12 min — 342 payments (EUR 4,210.50) waiting, all stored safely on this gateway');
    expect(badgeOf(html)).toBe('PROBLEM');
    expect(html).toContain('<span class="state s-alarm">Down</span>');
    expect(html).toMatch(/<dd id="backlog">342 payments<div class="money">EUR 4,210.50<\/div><\/dd>/);
    expect(html).toContain('NETWORK');
  });

  it('status page - store full says terminals keep the payments and storage is not taking any', async () => {
    const html = await page(storeFullView(now));
    expect(headlineOf(html)).toBe('Storage full — terminals are keeping payments on their own devices');
    expect(html).toContain('<dd id="accepting"><span class="state s-alarm">No — storage full</span><div class="hint">Free disk space');
    expect(html).toContain('STORE_FULL ×5');
    expect(html).toContain('80.0 MiB');
  });

  it('status page - a silent terminal is named in the headline and marked in the table', async () => {
    const html = await page(terminalSilentView(now));
    expect(headlineOf(html)).toBe('Terminal t-07 has not been seen for 25 min');
    expect(badgeOf(html)).toBe('ATTENTION');
    expect(html).toMatch(/<tr id="terminal-t-07" class="has-problem">.*?Not seen for 25 min.*?-91 dBm \(very weak\)/);
    // Problem terminals first: t-07 is the first row.
    expect(/<tbody><tr id="terminal-([^"]+)"/.exec(html)?.[1]).toBe('t-07');
  });

  it('status page - rejects show with their codes, in the headline and the table and the alarms', async () => {
    const html = await page(rejectsView(now));
    expect(headlineOf(html)).toBe('Possible tampering — terminal t-03 sent 3 transactions the gateway refused (BAD_SIGNATURE)');
    expect(html).toContain('BAD_SIGNATURE ×3, SEQ_GAP ×1');
    expect(html).toMatch(/<section id="alarms".*BAD_SIGNATURE.*t-03 — event signature does not verify/);
  });

  it('status page - dead letters ask for an admin retry', async () => {
    const html = await page(deadLettersView(now));
    expect(headlineOf(html)).toBe('2 payments were refused by the cloud — kept on this gateway, an admin must retry them');
    expect(html).toContain('<dd id="dead-letters"><span class="state s-alarm">2 payments — admin retry needed</span><div class="hint">');
  });

  it('status page - several problems list the rest under the headline', async () => {
    const both = { ...wanDownView(now), storage: storeFullView(now).storage };
    const html = await page(both);
    expect(headlineOf(html)).toBe('Storage full — terminals are keeping payments on their own devices');
    expect(html).toMatch(/<ul id="more-problems"[^>]*><li class="problem p-alarm" data-code="WAN_OFFLINE"><span class="problem-sentence">Internet down for 12 min/);
    // Every problem says what to do: the first under the headline, the others under their own sentence.
    expect(html).toMatch(/<div class="action" id="headline-action"><strong>What to do:<\/strong> Free space on the gateway/);
    expect(html).toMatch(/Internet down for 12 min[^<]*<\/span><div class="action"><strong>What to do:<\/strong> Check the router and the internet line/);
  });

  it('status page - escapes what terminals and alarms put on the page', async () => {
    const view = healthyView(now);
    const evil = { ...view, alarms: [{ atMs: now, level: 'warn' as const, code: 'SCHEMA', message: '<script>alert(1)</script>' }] };
    const html = await page(evil);
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('status stream - pushes the rendered page at once and again when it changes', async () => {
    let view = healthyView(now);
    const { app } = pageApp(() => view);
    const res = await app.request('/api/status/stream');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    // Change the state once the first frame has arrived; the next tick pushes it.
    const { frames, raw } = await readEvents(res, 2, (n) => {
      if (n === 1) view = wanDownView(now);
    });
    expect(raw.startsWith('retry: 3000\n\n')).toBe(true);
    expect(frames[0]?.headline).toBe('All good — 12 terminals connected, nothing waiting');
    expect(frames[0]?.html).toContain('<h1 id="headline">All good');
    expect(frames[1]?.level).toBe('alarm');
    expect(frames[1]?.title).toMatch(/^PROBLEM: Internet down for 12 min/);
  });

  it('status stream - refuses streams past the limit with a code, and frees the slot on disconnect', async () => {
    const { app, handle } = pageApp(() => healthyView(now), { maxStreams: 1 });
    const first = await app.request('/api/status/stream');
    const reader = first.body!.getReader();
    await within(reader.read(), 5_000, 'first chunk');
    expect(handle.streams()).toBe(1);
    const second = await app.request('/api/status/stream');
    expect(second.status).toBe(503);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_STREAMS');
    await reader.cancel();
    await waitFor(() => handle.streams() === 0, { timeoutMs: 5_000, what: 'the slot to free' });
    const third = await app.request('/api/status/stream');
    expect(third.status).toBe(200);
    await third.body!.cancel();
  });

  it('status stream - sends heartbeats while nothing changes and ends streams on close', async () => {
    const view = healthyView(now);
    const { app, handle } = pageApp(() => view, { heartbeatMs: 30 });
    const res = await app.request('/api/status/stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let raw = '';
    while (!raw.includes(': heartbeat')) {
      const { value, done } = await within(reader.read(), 5_000, 'a heartbeat');
      if (done) break;
      raw += decoder.decode(value, { stream: true });
    }
    expect(raw.match(/event: status/g)).toHaveLength(1);
    handle.close();
    for (;;) {
      const { done } = await within(reader.read(), 5_000, 'the end of the stream');
      if (done) break;
    }
    expect(handle.streams()).toBe(0);
    expect((await app.request('/api/status/stream')).status).toBe(503);
  });
});

