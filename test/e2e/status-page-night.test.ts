/**
 * Proves what a technician sees in the morning after a night outage: a real gateway (real Aedes,
 * LevelDB, forwarder, WAN monitor and history job; tills as real MQTT.js clients; a stand-in cloud
 * over real HTTP that becomes unreachable at night) runs a whole evening and night on a fake clock
 * (the only fake: time moves in 20-minute steps, each one looked at by the history job), so the
 * page's Last 24 hours holds a real night: the backlog chart rising during the outage and falling
 * after it, the outage with its start, end, duration and the payments that waited, and the problem
 * with when it started and ended. Headless Chromium checks the words at phone and desktop widths
 * and saves screenshots to reports/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayHandle } from '../../gateway/index.js';
import { silentLogger } from '../../lib/logger.js';
import { chainHash } from '../../protocol/chain.js';
import { signEvent } from '../../protocol/jws.js';
import { topics } from '../../protocol/topics.js';
import { chromiumAvailable, CHROMIUM_INSTALL_HINT, launchChromium, sectionShot, type ChromiumSession } from '../support/chromium.js';
import { samplePayload, testSigner } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { endorse } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor, within } from '../support/wait.js';
import { startFakeCloud, type FakeCloud } from '../status-page/fake-cloud.js';

const STORE = 'store-42';
const ADMIN = 'admin-token-night-test';
const TERMINALS = ['t-01', 't-02'] as const;
const MIN = 60_000;
const STEP_MS = 20 * MIN;
const SHOTS = join(process.cwd(), 'reports', 'screenshots');
const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;

const haveChromium = chromiumAvailable();
if (!haveChromium && process.env.CI) throw new Error(`CI is set and ${CHROMIUM_INSTALL_HINT}`);

describe.skipIf(!haveChromium)('status page after a night outage', () => {
  let dir = '';
  let cloud: FakeCloud;
  let gw: GatewayHandle;
  let browser: ChromiumSession;
  // 21:00 in Berlin (UTC+1 in November).
  const clock = new FakeClock(Date.UTC(2026, 10, 22, 20, 0));
  const clients = new Map<string, { client: MqttClient; seq: number; hash: string }>();

  async function pay(id: string, count: number): Promise<void> {
    const till = clients.get(id)!;
    for (let i = 0; i < count; i++) {
      const payload = samplePayload(STORE, id, till.seq + 1, till.hash, { at: new Date(clock.now()).toISOString() });
      const jws = await signEvent(payload, testSigner(id));
      await within(till.client.publishAsync(topics.events(STORE, id), jws, { qos: 1 }), 10_000, `publish ${id}`);
      till.seq++;
      till.hash = chainHash(jws);
    }
  }

  async function health(id: string): Promise<void> {
    const sample = { at: new Date(clock.now()).toISOString(), rssiDbm: -58, outboxDepth: 0, batteryPct: 90, chain: 'in-step' };
    await clients.get(id)!.client.publishAsync(topics.health(STORE, id), JSON.stringify(sample), { qos: 1 });
  }

  async function api<T>(path: string): Promise<T> {
    return (await (await gw.app.request(path)).json()) as T;
  }

  /** Moves the clock one step and waits for the history job to have looked at that moment. */
  async function step(): Promise<void> {
    clock.advance(STEP_MS);
    for (const id of TERMINALS) await health(id);
    const at = new Date(clock.now()).toISOString();
    await waitFor(async () => (await api<{ backlog: { at: string }[] }>('/api/history')).backlog.at(-1)?.at === at, {
      timeoutMs: 10_000,
      what: `the history to look at ${at}`,
    });
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = await makeTempDir('tillgate-night-');
    cloud = await startFakeCloud();
    gw = await startGateway(
      {
        dataDir: dir, store: STORE, gatewayId: 'gw-1', adminToken: ADMIN, host: '127.0.0.1', mqttPort: 0, httpPort: 0, logLevel: 'silent',
        cloudUrl: cloud.url, cloudToken: cloud.token, storeName: 'Corner Bakery, Main Street', timeZone: 'Europe/Berlin',
        wanProbeIntervalMs: 200, wanProbeIntervalOfflineMs: 200, retryDelayMsMin: 20, retryDelayMsMax: 200, historyCron: '* * * * * *',
      },
      { logger: silentLogger, clock },
    );
    for (const id of TERMINALS) {
      const res = await gw.app.request('/api/terminals', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ terminal: id, publicKey: testSigner(id).publicKeyRaw.toString('base64url'), endorsement: endorse(STORE, id, testSigner(id)) }),
      });
      expect(res.status).toBe(201);
      const { password } = (await res.json()) as { password: string };
      const client = await within(
        connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { clientId: id, username: id, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 }),
        10_000,
        `connect ${id}`,
      );
      clients.set(id, { client, seq: 0, hash: '' });
      await health(id);
    }
    browser = await launchChromium();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    for (const { client } of clients.values()) await client.endAsync(true).catch(() => {});
    await gw?.close();
    await cloud?.close();
    if (dir !== '') await removeDir(dir);
  });

  it('night - in the morning the page shows the night outage, what waited and the chart, and says all is well now', async () => {
    // Evening: the line is up, the takings go straight to the cloud (21:00–01:00).
    for (let i = 0; i < 12; i++) {
      await pay('t-01', 1);
      await step();
    }
    // 01:00: the line goes down for the night; the late shift keeps selling.
    cloud.setUnreachable(true);
    await waitFor(async () => (await api<{ wan: string }>('/api/status')).wan === 'offline', { timeoutMs: 10_000, what: 'the link to be seen down' });
    for (let i = 0; i < 12; i++) {
      await pay(i % 2 === 0 ? 't-01' : 't-02', 3);
      await step();
    }
    // 05:00: the line is back; the gateway sends what waited by itself.
    cloud.setUnreachable(false);
    await waitFor(async () => {
      const s = await api<{ wan: string; backlog: { events: number } }>('/api/status');
      return s.wan === 'online' && s.backlog.events === 0;
    }, { timeoutMs: 20_000, what: 'the backlog to drain after the night' });
    // Until 08:20, when the technician arrives.
    for (let i = 0; i < 10; i++) await step();

    const history = await api<{ outages: { startedAt: string; endedAt: string | null; peakPayments: number }[] }>('/api/history');
    expect(history.outages).toHaveLength(1);
    expect(history.outages[0]?.peakPayments).toBe(36);
    expect(history.outages[0]?.endedAt).not.toBeNull();

    const page = await browser.context.newPage();
    try {
      for (const vp of VIEWPORTS) {
        await page.setViewportSize({ width: vp.width, height: vp.height });
        await page.goto(gw.httpUrl, { waitUntil: 'load' });
        expect(await page.locator('#headline').innerText()).toBe('All good — 2 terminals connected, nothing waiting');
        // Start and end in the store's time zone, how long, and what waited at most.
        expect(await page.locator('#outages').innerText()).toMatch(/^0[01]:\d\d–0[45]:\d\d \(\d+ h( \d+ min)?\) · at most 36 payments \(EUR [\d.,]+\) waiting$/);
        expect(await page.locator('#alarm-history').innerText()).toMatch(/PROBLEM Internet down 0[01]:\d\d–0[45]:\d\d \(\d+ h/);
        const chart = await page.locator('#chart-title').textContent();
        expect(chart).toMatch(/at most 36 transactions at 0[45]:\d\d/);
        // One unbroken line over the evening and the night (the gateway ran throughout).
        expect(await page.locator('#history polyline.backlog-line').count()).toBe(1);
        await page.screenshot({ path: join(SHOTS, `9-morning-after-night-outage-${vp.name}.png`), fullPage: true });
        await sectionShot(page, '#history', join(SHOTS, `9-morning-after-night-outage-${vp.name}-history-only.png`));
      }
    } finally {
      await page.close();
    }
  }, 120_000);
});
