/** The cloud dashboard's handler (GET /): admin only, strict CSP, and the figures in words. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../../cloud-bridge/dashboard/assets.js';
import { formatMoney, formatReduction, formatWait } from '../../../cloud-bridge/dashboard/format.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADMIN } from '../helpers.js';
import { fillDashboard } from './dashboard-data.js';
import { FakePspClient, levelLifecycleHarness, type LifecycleCloudHarness, type TestLifecycleCloud } from './lifecycle-cloud.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('cloud dashboard', () => {
  let harness: LifecycleCloudHarness;
  let cloud: TestLifecycleCloud;
  let clock: FakeClock;
  let psp: FakePspClient;
  beforeEach(async () => {
    harness = await levelLifecycleHarness();
    clock = new FakeClock();
    psp = new FakePspClient();
    cloud = await harness.open({ optimisticCharge: true, clock, psp });
  });
  afterEach(async () => {
    await cloud.close();
    await harness.destroy();
  });

  it('dashboard - needs the admin token (bearer, or as the basic-auth password) and says so to a browser', async () => {
    const none = await cloud.app.request('/');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="tillgate cloud"/);
    expect((await cloud.app.request('/', { headers: { authorization: basic('admin', 'wrong') } })).status).toBe(401);
    expect((await cloud.app.request('/', { headers: { authorization: basic('anyone', ADMIN) } })).status).toBe(200);
    expect((await cloud.app.request('/', { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
  });

  it('dashboard - an empty cloud says there are no payments yet', async () => {
    const html = await (await cloud.app.request('/', { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    expect(html).toContain('No payments yet');
    expect(html).toMatch(/<svg id="wait-chart"/);
  });

  it('dashboard - leads with contradictions and inconsistent payments, then waits with and without optimism, per store', async () => {
    await fillDashboard(cloud, clock, psp);
    const res = await cloud.app.request('/', { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).not.toMatch(/unsafe-inline|script-src/);
    const html = await res.text();
    expect(html).not.toMatch(/<script|https?:\/\/(?!127)/);
    expect(html).toMatch(/<header id="headline" class="headline level-alarm" role="status">5 optimistic charges were contradicted \(23\.8 %\); 3 payments are inconsistent/);
    expect(html).toMatch(/id="store-s-1"/);
    expect(html).toMatch(/id="store-s-2"/);
    expect(html).toMatch(/<table id="inconsistent-s-1" class="rows">/);
    expect(html).toMatch(/<table id="waiting-s-1" class="rows">/);
    expect(html).toMatch(/<strong id="pending-count">2<\/strong>/);
    expect(html).toMatch(/<table id="percentiles">/);
    // Every chart bar says what it is in words too.
    expect((html.match(/<title>with optimism, /g) ?? []).length).toBe(11);
  });

  it('dashboard - words for waits, money and changes', () => {
    expect([formatWait(null), formatWait(0.44), formatWait(42), formatWait(95), formatWait(1_250), formatWait(7_300)]).toEqual(['—', '0.4 s', '42 s', '1 min 35 s', '20 min 50 s', '2 h 1 min']);
    expect([formatMoney(1250, 'EUR'), formatMoney(1200, 'JPY'), formatMoney(123456789, 'EUR')]).toEqual(['EUR 12.50', 'JPY 1,200', 'EUR 1,234,567.89']);
    expect([formatReduction(100, 10), formatReduction(10, 20), formatReduction(null, 1)]).toEqual(['−90 %', '+100 %', '—']);
  });
});
