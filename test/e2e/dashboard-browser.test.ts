/**
 * Proves that a payments team's browser shows the cloud dashboard (DESIGN §3.6) right: headless
 * Chromium (Debian's package, driven by playwright-core) loads `GET /` from a served cloud-bridge
 * with a real ledger and lifecycle store holding two stores' payments — short and long PSP waits,
 * a refusal after an optimistic charge, reconciliation findings, pending notifications — at phone
 * (390×844) and desktop (1280×800) widths. The headline, the SVG waiting-time chart, the
 * percentiles and the per-store lists render; nothing overflows sideways; the strict CSP blocks
 * nothing the page needs (no console errors). Screenshots go to reports/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, CHROMIUM_INSTALL_HINT, launchChromium, type ChromiumSession } from '../support/chromium.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADMIN } from '../cloud-bridge/helpers.js';
import { fillDashboard } from '../cloud-bridge/lifecycle/dashboard-data.js';
import { FakePspClient, levelLifecycleHarness, type LifecycleCloudHarness, type TestLifecycleCloud } from '../cloud-bridge/lifecycle/lifecycle-cloud.js';

const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;
const SHOTS = join(process.cwd(), 'reports', 'screenshots');

const haveChromium = chromiumAvailable();
if (!haveChromium && process.env.CI) throw new Error(`CI is set and ${CHROMIUM_INSTALL_HINT}`);
if (!haveChromium) console.warn(`dashboard browser test skipped: ${CHROMIUM_INSTALL_HINT}`);

describe.skipIf(!haveChromium)('cloud dashboard in a real browser', () => {
  let harness: LifecycleCloudHarness;
  let cloud: TestLifecycleCloud;
  let server: Server;
  let url = '';
  let browser: ChromiumSession;
  const browserErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    harness = await levelLifecycleHarness();
    const clock = new FakeClock();
    const psp = new FakePspClient();
    cloud = await harness.open({ optimisticCharge: true, clock, psp });
    await fillDashboard(cloud, clock, psp);
    server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: cloud.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server)) as Server;
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await launchChromium();
    browser.context.on('console', (m) => {
      if (m.type() === 'error') browserErrors.push(m.text());
    });
    browser.context.on('weberror', (e) => browserErrors.push(String(e.error())));
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => {
      if (server === undefined) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await cloud?.close();
    await harness?.destroy();
  });

  it('dashboard browser - shows the lifecycle at phone and desktop widths, to the admin only', async () => {
    const page = await browser.context.newPage();
    try {
      // Without credentials a browser gets the basic-auth challenge, not the data.
      const challenged = await fetch(url);
      expect([challenged.status, challenged.headers.get('www-authenticate')?.startsWith('Basic')]).toEqual([401, true]);
      await browser.context.setExtraHTTPHeaders({ authorization: `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}` });
      for (const vp of VIEWPORTS) {
        await page.setViewportSize({ width: vp.width, height: vp.height });
        const res = await page.goto(url, { waitUntil: 'load' });
        expect(res?.status()).toBe(200);
        expect(await page.locator('#headline').innerText()).toMatch(/^5 optimistic charges were contradicted \(23\.8 %\); 3 payments are inconsistent/);
        expect(await page.title()).toMatch(/^PROBLEM: /);
        expect(await page.locator('#flag').innerText()).toMatch(/^On — online payments are charged/);
        expect(await page.locator('#contradicted').innerText()).toBe('5 (23.8 %)');
        expect(await page.locator('#wait-chart rect.bar-with').count()).toBe(12); // 11 buckets and the legend
        const chart = await page.locator('#wait-chart').boundingBox();
        expect(chart?.width).toBeGreaterThan(vp.width * 0.6);
        expect(await page.locator('#percentiles tbody tr').count()).toBe(7);
        expect(await page.locator('#inconsistent-s-1 tbody tr').count()).toBe(2);
        expect(await page.locator('#waiting-s-1 tbody tr').count()).toBe(2);
        expect(await page.locator('#pending-rows tbody tr').count()).toBe(2);
        expect(await page.locator('#store-s-2 .contradicted').innerText()).toBe('2 (66.7 %)');
        await page.screenshot({ path: join(SHOTS, `dashboard-${vp.name}.png`), fullPage: true });
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow, `horizontal overflow at ${vp.name}`).toBeLessThanOrEqual(0);
      }
    } finally {
      await page.close();
    }
    expect(browserErrors, browserErrors.join('\n')).toEqual([]);
  });
});
