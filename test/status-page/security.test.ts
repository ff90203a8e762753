/** HTTP protections on the gateway app: headers everywhere, basic auth for reads, admin bearer and
 * cross-site refusal for every state-changing request. */
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { installHttpSecurity, SECURITY_HEADERS } from '../../gateway/http/security.js';
import { mountStatusPage } from '../../gateway/status-page/mount.js';
import { FakeClock } from '../support/fake-clock.js';
import { healthyView } from './fixtures.js';

const ADMIN = 'admin-token-0123456789';

function app(options: { statusUser?: string; statusPassword?: string } = {}) {
  const a = new Hono();
  installHttpSecurity(a, { adminToken: ADMIN, ...options });
  a.get('/healthz', (c) => c.json({ ok: true }));
  a.get('/api/status', (c) => c.json({ ok: true }));
  a.get('/boom', () => {
    throw new Error('boom');
  });
  a.post('/api/forwarder/drain', (c) => c.json({ drained: true }));
  a.onError((_err, c) => c.json({ error: { code: 'INTERNAL', message: 'internal error' } }, 500));
  const now = new FakeClock().now();
  const page = mountStatusPage(a, { readView: () => healthyView(now) });
  return { app: a, page };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe('gateway HTTP security', () => {
  it('security - every response carries the security headers, 404s and errors included', async () => {
    const { app: a } = app();
    for (const path of ['/', '/api/status', '/nope', '/boom', '/healthz']) {
      const res = await a.request(path);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), `${path} ${name}`).toBe(value);
    }
    const csp = SECURITY_HEADERS['Content-Security-Policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:|unsafe-inline|\*/);
  });

  it('security - the CSP hashes match the page\'s inline style and script exactly', async () => {
    const { app: a } = app();
    const html = await (await a.request('/')).text();
    const csp = (await a.request('/')).headers.get('content-security-policy') ?? '';
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(html).not.toMatch(/ style="/);
  });

  it('security - reads are open on the LAN when no status user is configured', async () => {
    const { app: a } = app();
    expect((await a.request('/')).status).toBe(200);
    expect((await a.request('/api/status')).status).toBe(200);
  });

  it('security - reads need basic auth when configured; the admin token and health probes pass', async () => {
    const { app: a } = app({ statusUser: 'tech', statusPassword: 'pa55word' });
    const denied = await a.request('/');
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(await codeOf(denied)).toBe('STATUS_AUTH_REQUIRED');
    expect((await a.request('/', { headers: { authorization: basic('tech', 'wrong') } })).status).toBe(401);
    expect((await a.request('/api/status/stream', { headers: { authorization: basic('x', 'pa55word') } })).status).toBe(401);
    expect((await a.request('/', { headers: { authorization: basic('tech', 'pa55word') } })).status).toBe(200);
    expect((await a.request('/api/status', { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
    expect((await a.request('/healthz')).status).toBe(200);
  });

  it('security - a state-changing request needs the admin bearer token', async () => {
    const { app: a } = app();
    const none = await a.request('/api/forwarder/drain', { method: 'POST' });
    expect(none.status).toBe(401);
    expect(await codeOf(none)).toBe('UNAUTHORIZED');
    expect((await a.request('/api/forwarder/drain', { method: 'POST', headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    // Basic credentials or a cookie never stand in for the bearer token.
    const withCookie = await a.request('/api/forwarder/drain', { method: 'POST', headers: { cookie: `token=${ADMIN}`, authorization: basic('admin', ADMIN) } });
    expect(withCookie.status).toBe(401);
    const ok = await a.request('/api/forwarder/drain', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(ok.status).toBe(200);
  });

  it('security - admin requests from another site are refused even with the token', async () => {
    const { app: a } = app();
    const post = (headers: Record<string, string>) =>
      a.request('http://gw.local:8080/api/forwarder/drain', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, ...headers } });
    const foreign = await post({ origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await codeOf(foreign)).toBe('CROSS_SITE');
    expect((await post({ origin: 'null' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await post({ origin: 'http://gw.local:8080', 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await post({})).status).toBe(200);
  });

  it('security - basic auth and admin token settings are validated together', () => {
    expect(() => installHttpSecurity(new Hono(), { adminToken: ADMIN, statusUser: 'tech' })).toThrow(TypeError);
  });
});
