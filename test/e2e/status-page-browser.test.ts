/**
 * Proves that a field technician's browser shows the right words: headless Chromium (Debian's
 * package, driven by playwright-core) loads the status page from a real running gateway — real
 * Aedes, LevelDB, forwarder, WAN monitor and history job, terminals as real MQTT.js clients, a
 * stand-in cloud over real HTTP — at phone (390×844) and desktop (1280×800) widths, in each state a
 * technician meets: all good; a silent terminal; a blocked terminal; the internet down with a
 * backlog; the admin logged in from the phone with the actions (log in by the form, send now, log
 * out); after an outage and a gateway restart (history: the outage and the problems with start and
 * end, a till not seen since before the restart); storage full; storage damaged. Each state is made
 * for real (disconnect, a health sample, the cloud unreachable, a restart on the same data, a
 * full-disk probe) except storage damage, which is an injected integrity report. The assertions are
 * on the visible words; screenshots go to reports/screenshots/ named after the state and width.
 * Failure risk (the predict stream) is not on this page yet, so it has no state here.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayHandle } from '../../gateway/index.js';
import type { DiskUsage } from '../../gateway/disk-monitor.js';
import { silentLogger } from '../../lib/logger.js';
import { chainHash } from '../../protocol/chain.js';
import { signEvent } from '../../protocol/jws.js';
import { topics } from '../../protocol/topics.js';
import { chromiumAvailable, CHROMIUM_INSTALL_HINT, launchChromium, sectionShot, type ChromiumSession } from '../support/chromium.js';
import { samplePayload, testSigner } from '../support/events.js';
import { endorse } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor, within } from '../support/wait.js';
import { startFakeCloud, type FakeCloud } from '../status-page/fake-cloud.js';

const STORE = 'store-42';
const STORE_NAME = 'Corner Bakery, Main Street';
const TIME_ZONE = 'Europe/Berlin';
const ADMIN = 'admin-token-browser-test';
const TERMINALS = ['t-01', 't-02', 't-03'] as const;
const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;
const SHOTS = join(process.cwd(), 'reports', 'screenshots');
const OFFLINE_LIMITS = { maxTxAmountMinor: 5_000, maxUnackedAmountMinor: 50_000, maxUnackedCount: 20, maxUnackedAgeS: 86_400 };

const haveChromium = chromiumAvailable();
if (!haveChromium && process.env.CI) throw new Error(`CI is set and ${CHROMIUM_INSTALL_HINT}`);
if (!haveChromium) console.warn(`status-page browser test skipped: ${CHROMIUM_INSTALL_HINT}`);

interface Till {
  readonly id: string;
  client: MqttClient | null;
  password: string;
  seq: number;
  hash: string;
}

type Expected = string | RegExp;

describe.skipIf(!haveChromium)('status page in a real browser', () => {
  let dir = '';
  let cloud: FakeCloud;
  let gw: GatewayHandle;
  let browser: ChromiumSession;
  let livePage: Page | null = null;
  let diskFull = false;
  let payments12 = '';
  const tills = new Map<string, Till>();
  const browserErrors: string[] = [];

  const diskProbe = async (): Promise<DiskUsage> => ({ totalBytes: 64 * 1024 ** 3, freeBytes: diskFull ? 1024 ** 3 : 40 * 1024 ** 3 });

  async function start(): Promise<GatewayHandle> {
    return startGateway(
      {
        dataDir: dir, store: STORE, gatewayId: 'gw-1', adminToken: ADMIN, host: '127.0.0.1', mqttPort: 0, httpPort: 0, logLevel: 'silent',
        cloudUrl: cloud.url, cloudToken: cloud.token, storeName: STORE_NAME, timeZone: TIME_ZONE,
        wanProbeIntervalMs: 200, wanProbeIntervalOfflineMs: 200, retryDelayMsMin: 20, retryDelayMsMax: 200,
        diskCheckIntervalMs: 100, terminalSilentAfterS: 1, statusPushIntervalMs: 200, historyCron: '* * * * * *',
      },
      { logger: silentLogger, diskProbe },
    );
  }

  async function connect(till: Till): Promise<void> {
    till.client = await within(
      connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { clientId: till.id, username: till.id, password: till.password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 }),
      10_000,
      `connect ${till.id}`,
    );
  }

  async function health(id: string, extra: Record<string, unknown> = {}): Promise<void> {
    const sample = { at: new Date().toISOString(), rssiDbm: id === 't-03' ? -83 : -55, outboxDepth: 0, batteryPct: 77, rttMs: 4, chain: 'in-step', offlineLimits: OFFLINE_LIMITS, ...extra };
    await tills.get(id)!.client!.publishAsync(topics.health(STORE, id), JSON.stringify(sample), { qos: 1 });
  }

  /** Signs and publishes the next payment(s) of a till, resolving at PUBACK; returns the amount. */
  async function pay(id: string, count = 1): Promise<number> {
    const till = tills.get(id)!;
    let amount = 0;
    for (let i = 0; i < count; i++) {
      const payload = samplePayload(STORE, id, till.seq + 1, till.hash);
      const jws = await signEvent(payload, testSigner(id));
      await within(till.client!.publishAsync(topics.events(STORE, id), jws, { qos: 1 }), 10_000, `publish ${id}`);
      till.seq++;
      till.hash = chainHash(jws);
      amount += payload.amount;
    }
    return amount;
  }

  interface ApiStatus {
    backlog: { events: number };
    wan: string;
    accepting: boolean;
    problems: { code: string }[];
  }
  async function status(): Promise<ApiStatus> {
    return (await (await gw.app.request('/api/status')).json()) as ApiStatus;
  }

  const headline = (page: Page) => page.locator('#headline').innerText();
  const matches = (expected: Expected, text: string | undefined) => text !== undefined && (expected instanceof RegExp ? expected.test(text) : text === expected);

  /** Words a technician must never meet: protocol jargon, and "events" where payments are meant. */
  async function expectPlainWords(page: Page, where: string): Promise<void> {
    const text = await page.locator('body').innerText();
    expect(text, where).not.toMatch(/\bseq\b/i);
    expect(text, where).not.toMatch(/sender idle/i);
    expect(text, where).not.toMatch(/\bevents?\b/i);
    expect(await page.locator('#store-name').innerText(), where).toBe(STORE_NAME);
    expect(text, where).toMatch(/times in Europe\/Berlin/);
  }

  /** Loads `path` at both widths, checks the headline, `figures` and the words, saves screenshots. */
  async function checkState(state: string, expected: Expected, figures: Record<string, Expected> = {}, path = '/'): Promise<void> {
    // The gateway reaches the state first (a disconnect is noticed, a timer passes); then the browser looks.
    await waitFor(async () => matches(expected, /<h1 id="headline">([^<]*)<\/h1>/.exec(await (await gw.app.request('/')).text())?.[1]), {
      timeoutMs: 10_000,
      what: `the ${state} headline`,
    });
    const page = await browser.context.newPage();
    try {
      for (const vp of VIEWPORTS) {
        await page.setViewportSize({ width: vp.width, height: vp.height });
        await page.goto(`${gw.httpUrl}${path}`, { waitUntil: 'load' });
        expect(await headline(page), `${state} at ${vp.name}`).toMatch(expected);
        for (const [selector, text] of Object.entries(figures)) {
          expect(await page.locator(selector).first().innerText(), `${state} ${selector} at ${vp.name}`).toMatch(text);
        }
        await expectPlainWords(page, `${state} at ${vp.name}`);
        await page.screenshot({ path: join(SHOTS, `${state}-${vp.name}.png`), fullPage: true });
        // Nothing sticks out sideways on a phone.
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow, `${state} horizontal overflow at ${vp.name}`).toBeLessThanOrEqual(0);
      }
    } finally {
      await page.close();
    }
    if (livePage === null) return;
    // The page opened at the start follows along over SSE, without a reload.
    const live = livePage;
    await waitFor(async () => matches(expected, await headline(live)), { timeoutMs: 5_000, what: `the live page to show the ${state} headline` });
    expect(await live.locator('#conn').innerText()).toBe('Live');
  }

  /** The till the page lists first. */
  async function firstTerminalRow(): Promise<string | null> {
    const html = await (await gw.app.request('/')).text();
    return /<tr id="terminal-([^"]+)"/.exec(html)?.[1] ?? null;
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = await makeTempDir('tillgate-browser-');
    cloud = await startFakeCloud();
    gw = await start();
    for (const id of TERMINALS) {
      const res = await gw.app.request('/api/terminals', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ terminal: id, publicKey: testSigner(id).publicKeyRaw.toString('base64url'), endorsement: endorse(STORE, id, testSigner(id)) }),
      });
      expect(res.status).toBe(201);
      const till: Till = { id, client: null, password: ((await res.json()) as { password: string }).password, seq: 0, hash: '' };
      tills.set(id, till);
      await connect(till);
      await pay(id, 5);
      await health(id);
    }
    browser = await launchChromium();
    browser.context.on('console', (m) => {
      if (m.type() === 'error') browserErrors.push(m.text());
    });
    browser.context.on('weberror', (e) => browserErrors.push(String(e.error())));
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    for (const till of tills.values()) await till.client?.endAsync(true).catch(() => {});
    await gw?.close();
    await cloud?.close();
    if (dir !== '') await removeDir(dir);
  });

  it('browser - all good: the store name on top, every terminal connected, nothing waiting', async () => {
    await waitFor(async () => {
      const s = await status();
      return s.backlog.events === 0 && s.wan === 'online';
    }, { timeoutMs: 10_000, what: 'the backlog to drain with the link up' });
    const page = await browser.context.newPage();
    livePage = page;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(gw.httpUrl);
    await waitFor(async () => (await page.locator('#conn').innerText()) === 'Live', { timeoutMs: 5_000, what: 'the live stream' });
    await checkState('1-all-good', 'All good — 3 terminals connected, nothing waiting', {
      '#wan .state': 'Online',
      '#accepting': 'Yes',
      '#terminal-t-03': /-83 dBm \(very weak\)/,
      '.admin-link': 'Admin login',
    });
    expect(await page.title()).toMatch(/^OK: All good/);
  });

  it('browser - a silent terminal is named, says what to do and is listed first', async () => {
    await tills.get('t-03')!.client!.endAsync(true);
    await checkState('2-terminal-silent', /^Terminal t-03 has not been seen for \d+ s$/, {
      '#headline-action': /switched on.*WiFi/s,
      '#terminal-t-03': /Not seen for \d+ s/,
    });
    expect(await firstTerminalRow()).toBe('t-03');
  });

  it('browser - a blocked terminal outranks a silent one and is listed first', async () => {
    await health('t-02', { chain: 'held', blockedSeq: 6, blockedCode: 'BAD_CHAIN' });
    await checkState('3-terminal-blocked', 'Terminal t-02 is refusing payments — the gateway keeps refusing its transaction no. 6 (BAD_CHAIN)', {
      '#headline-action': /.+/,
      '#more-problems': /Terminal t-03 has not been seen/,
    });
    expect(await firstTerminalRow()).toBe('t-02');
  });

  it('browser - the internet goes down: the backlog and money waiting, the router to check, what tills refuse', async () => {
    cloud.setUnreachable(true);
    await waitFor(async () => (await status()).wan === 'offline', { timeoutMs: 10_000, what: 'the link to be seen down' });
    const amount = await pay('t-01', 12);
    await waitFor(async () => (await status()).backlog.events >= 12, { timeoutMs: 10_000, what: 'the backlog to grow' });
    expect((await status()).backlog.events).toBe(12);
    // The history job looks once a second: wait until it has opened the outage.
    await waitFor(async () => ((await (await gw.app.request('/api/history')).json()) as { outages: unknown[] }).outages.length === 1, {
      timeoutMs: 10_000,
      what: 'the outage to open in the history',
    });
    payments12 = `12 payments \\(EUR ${(amount / 100).toFixed(2).replace('.', '\\.')}\\)`;
    await checkState('4-internet-down-backlog', new RegExp(`^Internet down for \\d+ s — ${payments12} waiting, all stored safely on this gateway$`), {
      '#wan .state': 'Down',
      '#headline-action': /router.*approve card payments offline only up to EUR 50\.00 each/s,
      '#backlog': new RegExp(`12 payments\\s+EUR`),
      '#outages': new RegExp(`^since \\d\\d:\\d\\d \\(still on, \\d+ s\\) · at most ${payments12} waiting$`),
    });
  });

  it('browser - an admin logs in from the phone, sees the actions, sends now and logs out', async () => {
    const page = await browser.context.newPage();
    try {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(gw.httpUrl);
      await page.locator('.admin-link').click();
      await page.locator('#token').fill('not-the-token');
      await page.locator('#login-submit').click();
      expect(await page.locator('#login-message').innerText()).toMatch(/not the admin token/);
      await page.locator('#token').fill(ADMIN);
      await page.locator('#login-submit').click();
      await page.waitForURL(/#admin$/, { timeout: 10_000 });
      const [cookie] = (await browser.context.cookies(gw.httpUrl)).filter((c) => c.httpOnly);
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      for (const vp of VIEWPORTS) {
        await page.setViewportSize({ width: vp.width, height: vp.height });
        await page.reload({ waitUntil: 'load' });
        const admin = await page.locator('#admin').innerText();
        for (const words of ['Send now', 'Retry refused payments', 'Cut the link', 'Log out']) expect(admin, `${words} at ${vp.name}`).toContain(words);
        expect(await headline(page)).toMatch(/^Internet down/);
        await page.locator('#admin').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SHOTS, `5-admin-logged-in-${vp.name}.png`), fullPage: true });
        await sectionShot(page, '#admin', join(SHOTS, `5-admin-logged-in-${vp.name}-actions-only.png`));
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow, `admin view horizontal overflow at ${vp.name}`).toBeLessThanOrEqual(0);
      }
      // The line comes back; the technician does not wait for the next retry.
      cloud.setUnreachable(false);
      await waitFor(async () => (await status()).wan === 'online', { timeoutMs: 10_000, what: 'the link to be seen up' });
      await page.locator('#action-drain').click();
      expect(await page.locator('#flash').innerText()).toMatch(/.+/);
      await waitFor(async () => (await status()).backlog.events === 0, { timeoutMs: 10_000, what: 'the backlog to drain' });
      await page.locator('#action-logout').click();
      await page.waitForURL((u) => !u.hash.includes('admin'), { timeout: 10_000 });
      expect(await page.locator('.admin-link').innerText()).toBe('Admin login');
      expect(await page.locator('#admin').count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('browser - after an outage and a restart the history shows it, with start, end and what waited', async () => {
    await health('t-02'); // the till moved past its blocked transaction
    await waitFor(async () => !(await status()).problems.some((p) => p.code === 'TERMINAL_BLOCKED' || p.code === 'WAN_OFFLINE'), {
      timeoutMs: 10_000,
      what: 'the blocked till and the outage to clear',
    });
    // The history job looks once a second: wait until it has written the outage's end.
    await waitFor(async () => {
      const h = (await (await gw.app.request('/api/history')).json()) as { outages: { endedAt: string | null }[] };
      return h.outages.length === 1 && h.outages[0]?.endedAt !== null;
    }, { timeoutMs: 10_000, what: 'the outage to end in the history' });
    await livePage?.close();
    livePage = null;
    await gw.close();
    for (const till of tills.values()) await till.client?.endAsync(true).catch(() => {});
    gw = await start();
    await connect(tills.get('t-01')!);
    await connect(tills.get('t-02')!);
    await health('t-01');
    await health('t-02');
    await checkState('6-after-outage-and-restart', /^Terminal t-03 has not been seen since .+, before the gateway restarted \(.+ ago\)$/, {
      '#outages': new RegExp(`–.+ · at most ${payments12} waiting`),
      '#alarm-history': /Internet down[\s\S]*Till refusing payments — terminal t-02|Till refusing payments — terminal t-02[\s\S]*Internet down/,
      
    });
    const page = await browser.context.newPage();
    for (const vp of VIEWPORTS) {
      await page.setViewportSize({ width: vp.width, height: vp.height });
      await page.goto(gw.httpUrl);
      await sectionShot(page, '#history', join(SHOTS, `6-after-outage-and-restart-${vp.name}-history-only.png`));
    }
    await page.close();
    // The backlog chart is drawn on the server, with a title saying what it shows.
    expect(await (await gw.app.request('/')).text()).toMatch(/<svg[^>]*>\s*<title id="chart-title">[^<]+<\/title>/);
  });

  it('browser - the disk fills up and terminals keep the payments', async () => {
    diskFull = true;
    await waitFor(async () => (await status()).accepting === false, { timeoutMs: 5_000, what: 'the gateway to stop accepting' });
    await checkState('7-storage-full', 'Storage full — terminals are keeping payments on their own devices', {
      '#accepting': /^No — storage full/,
      '#headline-action': /Free space/,
    });
  });

  it('browser - damaged storage is named first, with what not to do', async () => {
    gw.statusSources.integrity.report('corrupt:browser-test', { code: 'STORE_CORRUPT', severity: 'damaged', message: 'a table of the event store failed its checksum' });
    await checkState('8-storage-damaged', /^Storage damaged — this gateway stopped taking payments; terminals are keeping them\. Call support$/, {
      '#headline-action': /Do not delete, wipe or reset anything/,
      '#more-problems': /Storage full — terminals are keeping payments[\s\S]*Terminal t-03 has not been seen/,
    });
    expect(browserErrors, browserErrors.join('\n')).toEqual([]);
  });
});
