/**
 * Proves that a field technician's browser shows a failure prediction in plain words: headless
 * Chromium loads the status page of a real gateway (real Aedes, LevelDB, HTTP; a fake clock; a
 * hand-made model file) while a terminal's battery runs out over real MQTT. First the page shows
 * a warning — the risk section with the reason and what to do, the terminal's risk column, a
 * RISK_WARNING alarm — then, once it is critical, the headline says the terminal is likely to fail
 * soon. An open page follows along by itself (SSE). Screenshots go to reports/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../protocol/topics.js';
import { chromiumAvailable, CHROMIUM_INSTALL_HINT, launchChromium, type ChromiumSession } from '../support/chromium.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { connectTerminal, enroll, startTestGateway, STORE, stopTestGateway, type TestGateway } from '../gateway/support.js';
import { testModel } from '../predict/support/test-model.js';

const SHOTS = join(process.cwd(), 'reports', 'screenshots');
const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 900 },
] as const;

const haveChromium = chromiumAvailable();
if (!haveChromium && process.env.CI) throw new Error(`CI is set and ${CHROMIUM_INSTALL_HINT}`);
if (!haveChromium) console.warn(`failure-prediction browser test skipped: ${CHROMIUM_INSTALL_HINT}`);

describe.skipIf(!haveChromium)('failure prediction in a real browser', () => {
  let dir = '';
  let t: TestGateway | undefined;
  let browser: ChromiumSession;
  let livePage: Page;
  let till: MqttClient;
  const clock = new FakeClock(Date.UTC(2026, 0, 5, 11, 0, 0));
  const browserErrors: string[] = [];
  let sent = 0;

  /** One health sample per simulated 30 s: a battery off its charger, falling 30 %/h from 30 %. */
  async function sendUntil(level: 'warning' | 'critical'): Promise<void> {
    for (let i = 0; i < 200 && t!.gw.prediction.terminal('t-07')?.level !== level; i++) {
      const batteryPct = Math.max(0, Math.round(30 - (30 * sent * 30) / 3600));
      till.publish(topics.health(STORE, 't-07'), JSON.stringify({ at: new Date(clock.now()).toISOString(), batteryPct, charging: false, rssiDbm: -58, rttMs: 7, reconnects: 0, errors: 0, outboxDepth: 0 }), { qos: 0 });
      sent++;
      await waitFor(() => t!.gw.health.stats.accepted === sent, { what: `sample ${sent}` });
      clock.advance(30_000);
    }
    expect(t!.gw.prediction.terminal('t-07')?.level).toBe(level);
  }

  async function shoot(state: string, check: (page: Page) => Promise<void>): Promise<void> {
    const page = await browser.context.newPage();
    try {
      for (const vp of VIEWPORTS) {
        await page.setViewportSize({ width: vp.width, height: vp.height });
        await page.goto(t!.gw.httpUrl, { waitUntil: 'load' });
        await check(page);
        await page.screenshot({ path: join(SHOTS, `predict-${state}-${vp.name}.png`), fullPage: true });
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow, `${state} horizontal overflow at ${vp.name}`).toBeLessThanOrEqual(0);
      }
    } finally {
      await page.close();
    }
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = await makeTempDir('tillgate-predict-browser-');
    const modelFile = join(dir, 'model.json');
    await writeFile(modelFile, JSON.stringify(testModel()));
    t = await startTestGateway({ dataDir: join(dir, 'gw'), predictModel: modelFile, statusPushIntervalMs: 200 }, { clock });
    till = await connectTerminal(t.gw, 't-07', (await enroll(t.gw, 't-07')).password);
    browser = await launchChromium();
    browser.context.on('console', (m) => {
      if (m.type() === 'error') browserErrors.push(m.text());
    });
    browser.context.on('weberror', (e) => browserErrors.push(String(e.error())));
    livePage = await browser.context.newPage();
    await livePage.goto(t.gw.httpUrl);
    await waitFor(async () => (await livePage.locator('#conn').innerText()) === 'Live', { timeoutMs: 5_000, what: 'the live stream' });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await till?.endAsync(true).catch(() => {});
    await stopTestGateway(t);
    if (dir !== '') await removeDir(dir);
  });

  it('browser - shows a warning with the reason and what to do before the battery runs out', async () => {
    await sendUntil('warning');
    await shoot('1-warning', async (page) => {
      expect(await page.locator('#risk-terminal-t-07').innerText()).toMatch(/^Warning \(\d+ %\) Terminal t-07 since .+\s+battery at \d+ %, falling \d+ %\/h, empty in about \d+ min: put t-07 on its charger/);
      expect(await page.locator('#terminal-t-07').innerText()).toMatch(/Warning \(\d+ %\)/);
      expect(await page.locator('#alarms').innerText()).toMatch(/WARNING RISK_WARNING · t-07 — battery at/);
      expect(await page.locator('#headline').innerText()).toMatch(/^All good/);
    });
    await waitFor(async () => (await livePage.locator('#risk-terminal-t-07').count()) === 1, { timeoutMs: 5_000, what: 'the open page to show the warning' });
  });

  it('browser - puts a critical prediction in the headline', async () => {
    await sendUntil('critical');
    const headline = /^Terminal t-07 is likely to fail soon — battery at \d+ %, falling \d+ %\/h, empty in (about \d+ min|less than 5 min): put t-07 on its charger/;
    await shoot('2-critical', async (page) => {
      expect(await page.locator('#headline').innerText()).toMatch(headline);
      expect(await page.locator('#risk-terminal-t-07').innerText()).toMatch(/^Critical \(\d+ %\)/);
      expect(await page.locator('#alarms').innerText()).toMatch(/PROBLEM RISK_CRITICAL · t-07/);
    });
    await waitFor(async () => headline.test(await livePage.locator('#headline').innerText()), { timeoutMs: 5_000, what: 'the open page to show the headline' });
    expect(browserErrors, browserErrors.join('\n')).toEqual([]);
  });
});
