/**
 * Admin from a phone's browser, on a real gateway (LevelDB, the forwarder, WAN monitor and a
 * stand-in cloud over HTTP), through the app's own HTTP handling: the admin token is posted once to
 * a login form, then an HttpOnly, SameSite=Strict session cookie (Secure over TLS) and a CSRF token
 * bound to the session authorize each form; other sites, stale forms, expired sessions and guessing
 * are refused with a code; the bearer API for scripts is unchanged and never takes the cookie.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADMIN_TOKEN, startTestGateway, stopTestGateway, type TestGateway } from '../gateway/support.js';
import { startFakeCloud, type FakeCloud } from './fake-cloud.js';

const ORIGIN = 'http://gw.local:8080';
const logLines: string[] = [];

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

describe('admin login from a phone', () => {
  let t: TestGateway;
  let cloud: FakeCloud;
  const clock = new FakeClock();

  /** A request as a browser on this gateway's own page sends it. */
  const req = (path: string, init: { method?: string; cookie?: string; body?: string; headers?: Record<string, string> } = {}) =>
    t.gw.app.request(`${ORIGIN}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        host: 'gw.local:8080',
        ...(init.method === 'POST' ? { origin: ORIGIN, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(init.cookie === undefined ? {} : { cookie: init.cookie }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: init.body }),
    });

  async function login(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
    const res = await req('/login', { method: 'POST', body: form({ token: ADMIN_TOKEN }) });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?done=login#admin');
    const setCookie = res.headers.get('set-cookie') ?? '';
    const cookie = setCookie.split(';')[0] ?? '';
    const page = await (await req('/', { cookie })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    return { cookie, csrf, setCookie };
  }

  beforeAll(async () => {
    cloud = await startFakeCloud();
    t = await startTestGateway(
      { cloudUrl: cloud.url, cloudToken: cloud.token, wanProbeIntervalMs: 100, wanProbeIntervalOfflineMs: 100, logLevel: 'debug' },
      { clock, logger: createLogger({ level: 'debug', write: (line) => logLines.push(line) }) },
    );
  });
  afterAll(async () => {
    await stopTestGateway(t);
    await cloud?.close();
  });

  it('admin - the page offers a login form, a password field posting to this gateway, and no actions before login', async () => {
    const page = await (await req('/')).text();
    expect(page).toContain('<a class="admin-link" href="/login">Admin login</a>');
    expect(page).not.toContain('id="admin"');
    const loginPage = await req('/login');
    expect(loginPage.status).toBe(200);
    const html = await loginPage.text();
    expect(html).toMatch(/<form method="post" action="\/login">.*<input id="token" name="token" type="password" autocomplete="current-password"/s);
    expect(loginPage.headers.get('content-security-policy')).toContain("form-action 'self'");
  });

  it('admin - logging in sets an HttpOnly, SameSite=Strict session cookie that expires, Secure over TLS', async () => {
    const { setCookie } = await login();
    expect(setCookie).toMatch(/^tillgate_admin=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict$/);
    const tls = await req('/login', { method: 'POST', body: form({ token: ADMIN_TOKEN }), headers: { 'x-forwarded-proto': 'https' } });
    expect(tls.headers.get('set-cookie')).toMatch(/; Secure/);
    // The token was never written to the log.
    expect(logLines.some((l) => l.includes(ADMIN_TOKEN))).toBe(false);
    expect(logLines.some((l) => l.includes('admin logged in on the status page'))).toBe(true);
  });

  it('admin - the logged-in page shows the actions; each form needs the session and its CSRF token', async () => {
    const { cookie, csrf } = await login();
    const page = await (await req('/?done=login', { cookie })).text();
    expect(page).toMatch(/<section id="admin" class="wide admin"/);
    expect(page).toContain('Logged in as admin.');
    for (const id of ['action-drain', 'action-retry', 'action-cut', 'action-logout']) expect(page).toContain(`id="${id}"`);

    const noToken = await req('/admin/drain', { method: 'POST', cookie, body: form({}) });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { error: { code: string } }).error.code).toBe('CSRF_INVALID');
    expect((await req('/admin/drain', { method: 'POST', cookie, body: form({ csrf: 'x'.repeat(43) }) })).status).toBe(403);
    const noSession = await req('/admin/drain', { method: 'POST', body: form({ csrf }) });
    expect(noSession.status).toBe(303);
    expect(noSession.headers.get('location')).toBe('/login?e=expired');

    const drain = await req('/admin/drain', { method: 'POST', cookie, body: form({ csrf }) });
    expect(drain.status).toBe(303);
    expect(drain.headers.get('location')).toBe('/?done=drain#admin');
    const retry = await req('/admin/dead-letters/retry', { method: 'POST', cookie, body: form({ csrf }) });
    expect(retry.headers.get('location')).toBe('/?done=retry&n=0#admin');
    expect(await (await req('/?done=retry&n=0', { cookie })).text()).toContain('0 refused payments queued to be sent again.');
  });

  it('admin - cutting the internet link for a test and restoring it from the page', async () => {
    const { cookie, csrf } = await login();
    const cut = await req('/admin/wan-outage', { method: 'POST', cookie, body: form({ csrf, minutes: '5' }) });
    expect(cut.headers.get('location')).toBe('/?done=cut#admin');
    const status = (await (await req('/api/status')).json()) as { wanLink: { state: string; reason: string; outageUntil: string } };
    expect(status.wanLink).toMatchObject({ state: 'offline', reason: 'LINK_CUT', outageUntil: new Date(clock.now() + 5 * 60_000).toISOString() });
    const page = await (await req('/', { cookie })).text();
    expect(page).toContain('id="action-restore"');
    expect(page).toMatch(/<h1 id="headline">Internet cut for a test by an admin/);
    expect((await req('/admin/wan-outage', { method: 'POST', cookie, body: form({ csrf, minutes: '999' }) })).headers.get('location')).toBe('/?done=invalid#admin');
    const restore = await req('/admin/wan-outage', { method: 'POST', cookie, body: form({ csrf, minutes: '0' }) });
    expect(restore.headers.get('location')).toBe('/?done=restored#admin');
    expect(((await (await req('/api/status')).json()) as { wanLink: { outageUntil: string | null } }).wanLink.outageUntil).toBeNull();
  });

  it('admin - forms from another site are refused even with the session and token', async () => {
    const { cookie, csrf } = await login();
    for (const headers of [{ origin: 'http://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }] as Record<string, string>[]) {
      const res = await req('/admin/wan-outage', { method: 'POST', cookie, body: form({ csrf, minutes: '60' }), headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('CROSS_SITE');
    }
    const foreignLogin = await req('/login', { method: 'POST', body: form({ token: ADMIN_TOKEN }), headers: { origin: 'http://evil.example' } });
    expect(foreignLogin.status).toBe(403);
  });

  it('admin - the bearer API for scripts is unchanged and never takes the session cookie', async () => {
    const { cookie } = await login();
    const withCookie = await t.gw.app.request('/api/forwarder/drain', { method: 'POST', headers: { cookie } });
    expect(withCookie.status).toBe(401);
    const bearer = await t.gw.app.request('/api/forwarder/drain', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(bearer.status).toBe(202);
  });

  it('admin - logging out ends the session; an expired session is refused', async () => {
    const { cookie, csrf } = await login();
    const out = await req('/logout', { method: 'POST', cookie, body: form({ csrf }) });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^tillgate_admin=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(await (await req('/', { cookie })).text()).not.toContain('id="admin"');
    expect((await req('/admin/drain', { method: 'POST', cookie, body: form({ csrf }) })).headers.get('location')).toBe('/login?e=expired');

    const second = await login();
    clock.advance(8 * 3_600_000 + 1);
    expect((await req('/admin/drain', { method: 'POST', cookie: second.cookie, body: form({ csrf: second.csrf }) })).headers.get('location')).toBe('/login?e=expired');
  });

  it('admin - wrong tokens are refused, then the address must wait (429 with Retry-After)', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await req('/login', { method: 'POST', body: form({ token: `wrong-${i}` }) });
      expect(res.headers.get('location')).toBe('/login?e=failed');
    }
    const limited = await req('/login', { method: 'POST', body: form({ token: ADMIN_TOKEN }) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(await limited.text()).toContain('Too many wrong tries from this device');
    clock.advance(15 * 60_000 + 1);
    expect((await req('/login', { method: 'POST', body: form({ token: ADMIN_TOKEN }) })).status).toBe(303);
  });
});

describe('admin login with a status user', () => {
  it('admin - the login form is open, and a session opens reads that otherwise need basic auth', async () => {
    const t = await startTestGateway({ statusUser: 'tech', statusPassword: 'store-secret-1' });
    try {
      const post = (path: string, body: string, cookie?: string) =>
        t.gw.app.request(`${ORIGIN}${path}`, { method: 'POST', headers: { host: 'gw.local:8080', origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, body });
      expect((await t.gw.app.request('/')).status).toBe(401);
      expect((await t.gw.app.request('/login')).status).toBe(200);
      const res = await post('/login', form({ token: ADMIN_TOKEN }));
      const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      expect((await t.gw.app.request('/', { headers: { cookie } })).status).toBe(200);
      expect((await t.gw.app.request('/api/status', { headers: { cookie } })).status).toBe(200);
      // No cloud: the panel says there is nothing to do, and the actions answer so.
      const page = await (await t.gw.app.request('/', { headers: { cookie } })).text();
      expect(page).toContain('No cloud is configured on this gateway');
      const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      expect((await post('/admin/drain', form({ csrf }), cookie)).headers.get('location')).toBe('/?done=none#admin');
    } finally {
      await stopTestGateway(t);
    }
  });
});
