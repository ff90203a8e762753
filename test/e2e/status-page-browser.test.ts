/**
 * Proves that a field technician's browser shows the right words: headless Chromium (Debian's
 * package, driven by playwright-core) loads the status page from a real running gateway — real
 * Aedes, LevelDB, forwarder and WAN monitor, terminals as real MQTT.js clients, a stand-in cloud
 * over real HTTP — at phone (390×844) and desktop (1280×800) widths, in each state a technician
 * meets: all good, a terminal silent, rejects (tampering), dead letters, WAN down with a backlog,
 * store full. Each state is made for real (disconnect, forged event, cloud refusal, the admin WAN
 * outage toggle, a full-disk probe) and each outranks the one before, so the headline must change.
 * The first page stays open throughout and must follow along by itself (SSE). Screenshots go to
 * reports/screenshots/.
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
import { chromiumAvailable, CHROMIUM_INSTALL_HINT, launchChromium, type ChromiumSession } from '../support/chromium.js';
import { samplePayload, testSigner } from '../support/events.js';
import { endorse } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor, within } from '../support/wait.js';
import { startFakeCloud, type FakeCloud } from '../status-page/fake-cloud.js';

const STORE = 'store-42';
const ADMIN = 'admin-token-browser-test';
const TERMINALS = ['t-01', 't-02', 't-03'] as const;
const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;
const SHOTS = join(process.cwd(), 'reports', 'screenshots');

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

describe.skipIf(!haveChromium)('status page in a real browser', () => {
  let dir = '';
  let cloud: FakeCloud;
  let gw: GatewayHandle;
  let browser: ChromiumSession;
  let livePage: Page;
  let diskFull = false;
  const tills = new Map<string, Till>();
  const browserErrors: string[] = [];

  const diskProbe = async (): Promise<DiskUsage> => ({ totalBytes: 64 * 1024 ** 3, freeBytes: diskFull ? 1024 ** 3 : 40 * 1024 ** 3 });

  async function connect(till: Till): Promise<void> {
    till.client = await within(
      connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { clientId: till.id, username: till.id, password: till.password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 }),
      10_000,
      `connect ${till.id}`,
    );
  }

  /** Signs and publishes the next event(s) of a till, resolving at PUBACK. `tamper` raises the
   * amount after signing, so the signature no longer verifies. */
  async function pay(id: string, count = 1, tamper = false): Promise<number> {
    const till = tills.get(id)!;
    let amount = 0;
    for (let i = 0; i < count; i++) {
      const payload = samplePayload(STORE, id, till.seq + 1, till.hash);
      let jws = await signEvent(payload, testSigner(id));
      if (tamper) {
        const [header, , signature] = jws.split('.');
        jws = `${header}.${Buffer.from(JSON.stringify({ ...payload, amount: payload.amount * 100 })).toString('base64url')}.${signature}`;
      }
      await within(till.client!.publishAsync(topics.events(STORE, id), jws, { qos: 1 }), 10_000, `publish ${id}`);
      if (!tamper) {
        till.seq++;
        till.hash = chainHash(jws);
        amount += payload.amount;
      }
    }
    return amount;
  }

  async function status(): Promise<{ backlog: { events: number; deadLetters: number }; wan: string }> {
    return (await (await gw.app.request('/api/status')).json()) as { backlog: { events: number; deadLetters: number }; wan: string };
  }

  const headline = (page: Page) => page.locator('#headline').innerText();

  /** Loads the page at both widths, checks the headline and `figures`, saves screenshots. */
  async function checkState(state: string, expected: string | RegExp, figures: Record<string, string | RegExp> = {}): Promise<void> {
    const matches = (text: string | undefined) => text !== undefined && (expected instanceof RegExp ? expected.test(text) : text === expected);
    // The gateway reaches the state first (a disconnect is noticed, a timer passes); then the browser looks.
    await waitFor(async () => matches(/<h1 id="headline">([^<]*)<\/h1>/.exec(await (await gw.app.request('/')).text())?.[1]), {
      timeoutMs: 5_000,
      what: `the ${state} headline`,
    });
    const page = await browser.context.newPage();
    try {
      for (const vp of VIEWPORTS) {
        await page.setViewportSize({ width: vp.width, height: vp.height });
        await page.goto(gw.httpUrl, { waitUntil: 'load' });
        expect(await headline(page), `${state} at ${vp.name}`).toMatch(expected);
        for (const [selector, text] of Object.entries(figures)) {
          expect(await page.locator(selector).first().innerText(), `${state} ${selector} at ${vp.name}`).toMatch(text);
        }
        await page.screenshot({ path: join(SHOTS, `${state}-${vp.name}.png`), fullPage: true });
        // Nothing sticks out sideways on a phone.
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow, `${state} horizontal overflow at ${vp.name}`).toBeLessThanOrEqual(0);
      }
    } finally {
      await page.close();
    }
    // The page opened at the start follows along over SSE, without a reload.
    await waitFor(async () => matches(await headline(livePage)), {
      timeoutMs: 5_000,
      what: `the live page to show the ${state} headline`,
    });
    expect(await livePage.locator('#conn').innerText()).toBe('Live');
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = await makeTempDir('tillgate-browser-');
    cloud = await startFakeCloud();
    gw = await startGateway(
      {
        dataDir: dir, store: STORE, gatewayId: 'gw-1', adminToken: ADMIN, host: '127.0.0.1', mqttPort: 0, httpPort: 0, logLevel: 'silent',
        cloudUrl: cloud.url, cloudToken: cloud.token,
        wanProbeIntervalMs: 200, wanProbeIntervalOfflineMs: 200, retryDelayMsMin: 20, retryDelayMsMax: 200,
        diskCheckIntervalMs: 100, terminalSilentAfterS: 1, statusPushIntervalMs: 200,
      },
      { logger: silentLogger, diskProbe },
    );
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
      const sample = { at: new Date().toISOString(), rssiDbm: id === 't-03' ? -83 : -55, outboxDepth: 0, batteryPct: 77, rttMs: 4 };
      await till.client!.publishAsync(topics.health(STORE, id), JSON.stringify(sample), { qos: 0 });
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

  it('browser - all good: every terminal connected, nothing waiting', async () => {
    await waitFor(async () => {
      const s = await status();
      return s.backlog.events === 0 && s.wan === 'online';
    }, { timeoutMs: 10_000, what: 'the backlog to drain with the link up' });
    livePage = await browser.context.newPage();
    await livePage.setViewportSize({ width: 390, height: 844 });
    await livePage.goto(gw.httpUrl);
    await waitFor(async () => (await livePage.locator('#conn').innerText()) === 'Live', { timeoutMs: 5_000, what: 'the live stream' });
    await checkState('1-all-good', 'All good — 3 terminals connected, nothing waiting', {
      '#wan .state': 'Online',
      '#accepting': 'Yes',
      '#terminal-t-03': /-83 dBm \(very weak\)/,
    });
    expect(await livePage.title()).toMatch(/^OK: All good/);
  });

  it('browser - a terminal goes silent and is named', async () => {
    await tills.get('t-03')!.client!.endAsync(true);
    await checkState('2-terminal-silent', /^Terminal t-03 has not been seen for \d+ s$/, { '#terminal-t-03': /Not seen for \d+ s/ });
  });

  it('browser - a tampered event is called possible tampering, with its code', async () => {
    await pay('t-01', 1, true);
    await checkState('3-rejects', 'Possible tampering — terminal t-01 sent 1 event the gateway refused (BAD_SIGNATURE)', {
      '#terminal-t-01': /BAD_SIGNATURE ×1/,
      '#alarms': /BAD_SIGNATURE/,
    });
  });

  it('browser - a payment the cloud refused asks for an admin retry', async () => {
    cloud.refuseNext('t-02', 'BAD_CHAIN');
    await pay('t-02', 1);
    await waitFor(async () => (await status()).backlog.deadLetters === 1, { timeoutMs: 10_000, what: 'a dead letter' });
    await checkState('4-dead-letters', '1 payment was refused by the cloud — kept on this gateway, an admin must retry it', {
      '#dead-letters': /^1 payment — admin retry needed\s+Fix the cause/,
      '#alarms': /DEAD_LETTER/,
    });
  });

  it('browser - the internet goes down and the money waiting is shown per currency', async () => {
    const res = await gw.app.request('/api/wan/outage', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ seconds: 600 }),
    });
    expect(res.status).toBe(200);
    const amount = await pay('t-01', 12);
    await waitFor(async () => (await status()).backlog.events >= 12, { timeoutMs: 10_000, what: 'the backlog to grow' });
    const { backlog } = await status();
    const money = `EUR ${(amount / 100).toFixed(2)}`;
    expect(backlog.events).toBe(12);
    await checkState('5-wan-down', new RegExp(`^Internet down for \\d+ s — 12 payments \\(${money.replace('.', '\\.')}\\) waiting, all stored safely on this gateway$`), {
      '#wan .state': 'Down',
      '#backlog': new RegExp(`12 payments\\s+${money.replace('.', '\\.')}`),
    });
  });

  it('browser - the disk fills up and terminals keep the payments', async () => {
    diskFull = true;
    await waitFor(async () => ((await (await gw.app.request('/api/status')).json()) as { accepting: boolean }).accepting === false, {
      timeoutMs: 5_000,
      what: 'the gateway to stop accepting',
    });
    await checkState('6-store-full', 'Storage full — terminals are keeping payments on their own devices', {
      '#accepting': /^No — storage full\s+Free disk space/,
      '#more-problems': /Internet down/,
    });
    expect(browserErrors, browserErrors.join('\n')).toEqual([]);
  });
});
