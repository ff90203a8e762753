/**
 * The status page, stream and metrics on a real gateway (startGateway on a temp dir, real Aedes and
 * LevelDB, a real MQTT.js terminal): what the gateway's wiring mounts, fed by its live parts.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type GatewayDeps, type GatewayHandle, type GatewayOptionsInput } from '../../gateway/index.js';
import { silentLogger } from '../../lib/logger.js';
import { hasCode } from '../../protocol/errors.js';
import { topics } from '../../protocol/topics.js';
import { signChain, testSigner } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { endorse } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor, within } from '../support/wait.js';
import { parsePrometheusText, valueOf } from './prometheus-text.js';
import { tillgateVersion } from '../../lib/version.js';

const ADMIN = 'admin-token-gateway-page';
const STORE = 's-9';
let gw: GatewayHandle | undefined;
let client: MqttClient | undefined;
let dir = '';

afterEach(async () => {
  await client?.endAsync(true).catch(() => {});
  client = undefined;
  await gw?.close();
  gw = undefined;
  if (dir !== '') await removeDir(dir);
  dir = '';
});

async function start(extra: Partial<GatewayOptionsInput> = {}, deps: Omit<GatewayDeps, 'logger'> = {}): Promise<GatewayHandle> {
  dir = await makeTempDir('tillgate-page-');
  gw = await startGateway(
    { dataDir: dir, store: STORE, gatewayId: 'g-9', adminToken: ADMIN, host: '127.0.0.1', mqttPort: 0, httpPort: 0, logLevel: 'silent', ...extra },
    { logger: silentLogger, ...deps },
  );
  return gw;
}

const headlineOf = (html: string) => /<h1 id="headline">([^<]*)<\/h1>/.exec(html)?.[1];

/** Enrolls `id` with an endorsed key and connects it as the shared MQTT `client`; returns its signer. */
async function enrollAndConnect(g: GatewayHandle, id: string): Promise<ReturnType<typeof testSigner>> {
  const signer = testSigner(id);
  const enrolled = await g.app.request('/api/terminals', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ terminal: id, publicKey: signer.publicKeyRaw.toString('base64url'), endorsement: endorse(STORE, id, signer) }),
  });
  const { password } = (await enrolled.json()) as { password: string };
  client = await within(
    connectAsync(`mqtt://127.0.0.1:${g.mqttPort}`, { clientId: id, username: id, password, protocolVersion: 4, reconnectPeriod: 0 }),
    10_000,
    'connect',
  );
  return signer;
}

describe('status page on a real gateway', () => {
  it('gateway page - a fresh gateway without a cloud says so in words', async () => {
    const g = await start();
    const res = await fetch(`${g.httpUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(headlineOf(html)).toBe('All good — no terminals enrolled yet, nothing waiting');
    expect(html).toContain('<span class="state s-none">Not monitored</span>');
    expect(html).toContain('off — no cloud configured');
  });

  it('gateway page - metrics count real ingest and rejects and parse as Prometheus text', async () => {
    const g = await start();
    const signer = await enrollAndConnect(g, 't-1');
    const events = await signChain(signer, STORE, 't-1', 4);
    for (const e of events.slice(0, 3)) await client!.publishAsync(topics.events(STORE, 't-1'), e.jws, { qos: 1 });
    const [h, , s] = (events[3]?.jws ?? '').split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...events[3]?.payload, amount: 1 })).toString('base64url')}.${s}`;
    await client!.publishAsync(topics.events(STORE, 't-1'), tampered, { qos: 1 });

    const res = await fetch(`${g.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    const m = parsePrometheusText(await res.text());
    expect(valueOf(m, 'tillgate_ingest_events_total', { result: 'stored' })).toBe(3);
    expect(valueOf(m, 'tillgate_ingest_events_total', { result: 'rejected' })).toBe(1);
    expect(valueOf(m, 'tillgate_rejects_total', { code: 'BAD_SIGNATURE' })).toBe(1);
    expect(valueOf(m, 'tillgate_forward_backlog_events')).toBe(3);
    expect(valueOf(m, 'tillgate_forward_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(valueOf(m, 'tillgate_wan_state', { state: 'unknown' })).toBe(1);
    expect(valueOf(m, 'tillgate_terminals_connected')).toBe(1);
    expect(valueOf(m, 'tillgate_accepting')).toBe(1);
    expect(valueOf(m, 'tillgate_disk_free_bytes')).toBeGreaterThan(0);
    expect(valueOf(m, 'tillgate_terminal_connected', { terminal: 't-1' })).toBe(1);
    expect(valueOf(m, 'tillgate_terminal_last_seen_timestamp_seconds', { terminal: 't-1' })).toBeGreaterThan(1_700_000_000);
    expect(valueOf(m, 'tillgate_build_info', { version: tillgateVersion(), node: process.version, program: 'gateway' })).toBe(1);
    expect(tillgateVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(valueOf(m, 'tillgate_problem_active', { code: 'SECURITY_REJECTS', level: 'alarm' })).toBe(1);
    expect(m.has('process_cpu_seconds_total')).toBe(true);
    // No label value is ever empty, on the real gateway's whole exposition.
    const empty = [...m.values()].flatMap((f) => f.samples.filter((x) => Object.values(x.labels).includes('')).map((x) => x.name));
    expect(empty).toEqual([]);

    const html = await (await fetch(`${g.httpUrl}/`)).text();
    expect(headlineOf(html)).toBe('Possible tampering — terminal t-1 sent 1 transaction the gateway refused (BAD_SIGNATURE)');
    expect(html).toMatch(/<tr id="terminal-t-1" class="has-problem">.*?Connected.*?Possible tampering.*?>3<\/td>.*?BAD_SIGNATURE ×1/);
  });

  it('gateway page - a disk filling toward its mark is named a day ahead, with when, in the page, the status JSON and the metrics', async () => {
    const clock = new FakeClock();
    let usedPct = 60;
    const g = await start({ diskHighWaterPct: 90, diskCheckIntervalMs: 3_600_000 }, {
      clock,
      diskProbe: async () => ({ totalBytes: 100 * 1024 ** 3, freeBytes: ((100 - usedPct) / 100) * 100 * 1024 ** 3 }),
    });
    expect(headlineOf(await (await fetch(`${g.httpUrl}/`)).text())).toMatch(/^All good/);
    // Three hours of disk checks, filling 3 % an hour: about 69 % now, the 90 % mark 7 hours away.
    for (let i = 1; i <= 36; i++) {
      clock.advance(5 * 60_000);
      usedPct = 60 + 3 * (i / 12);
      await g.statusSources.disk.check();
    }
    expect(headlineOf(await (await fetch(`${g.httpUrl}/`)).text())).toMatch(/^Disk filling up — 69 % used and rising 3\.0 % an hour: at 90 % used, where it stops taking payments in about 7 h/);
    const status = (await (await fetch(`${g.httpUrl}/api/status`)).json()) as { diskFullInS: number | null };
    expect(status.diskFullInS! / 3600).toBeCloseTo(7, 0);
    const m = parsePrometheusText(await (await fetch(`${g.httpUrl}/metrics`)).text());
    expect(valueOf(m, 'tillgate_disk_full_in_seconds')! / 3600).toBeCloseTo(7, 0);
  });

  it('gateway page - a till reporting payments held close to its offline limit is named from its health sample', async () => {
    const g = await start();
    await enrollAndConnect(g, 't-1');
    const offlineLimits = { maxTxAmountMinor: 10_000, maxUnackedAmountMinor: 50_000, maxUnackedCount: 50, maxUnackedAgeS: 4 * 3_600 };
    const sample = { at: new Date().toISOString(), rssiDbm: -55, outboxDepth: 45, outboxOldestAgeS: 600, batteryPct: 77, offlineLimits };
    await client!.publishAsync(topics.health(STORE, 't-1'), JSON.stringify(sample), { qos: 1 });
    await waitFor(async () => headlineOf(await (await fetch(`${g.httpUrl}/`)).text())?.startsWith('Terminal t-1 holds 45 payments') === true, { what: 'the offline-limit headline' });
    const html = await (await fetch(`${g.httpUrl}/`)).text();
    expect(headlineOf(html)).toBe('Terminal t-1 holds 45 payments this gateway has not stored, of the 50 its offline limit allows — past that it refuses card payments');
    expect(html).toContain('Near its offline limit');
  });

  it('gateway page - basic auth guards reads when configured, health probes stay open', async () => {
    const g = await start({ statusUser: 'tech', statusPassword: 'store-42-secret' });
    expect((await fetch(`${g.httpUrl}/`)).status).toBe(401);
    expect((await fetch(`${g.httpUrl}/api/status`)).status).toBe(401);
    expect((await fetch(`${g.httpUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${g.httpUrl}/healthz`)).status).toBe(200);
    const auth = `Basic ${Buffer.from('tech:store-42-secret').toString('base64')}`;
    expect((await fetch(`${g.httpUrl}/`, { headers: { authorization: auth } })).status).toBe(200);
    const crossSite = await fetch(`${g.httpUrl}/api/terminals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, origin: 'http://shop.example', 'content-type': 'application/json' },
      body: JSON.stringify({ terminal: 't-2', publicKey: testSigner('t-2').publicKeyRaw.toString('base64url'), endorsement: endorse(STORE, 't-2', testSigner('t-2')) }),
    });
    expect(crossSite.status).toBe(403);
  });

  it('gateway page - basic auth settings are validated at startup', async () => {
    dir = await makeTempDir('tillgate-page-');
    const err = await startGateway(
      { dataDir: dir, store: STORE, gatewayId: 'g-9', adminToken: ADMIN, host: '127.0.0.1', mqttPort: 0, httpPort: 0, statusUser: 'tech' },
      { logger: silentLogger },
    ).catch((e: unknown) => e);
    expect(hasCode(err, 'CONFIG_INVALID')).toBe(true);
  });

  it('gateway page - an open live stream over real HTTP does not hold up shutdown', async () => {
    const g = await start();
    const res = await fetch(`${g.httpUrl}/api/status/stream`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let raw = '';
    await waitFor(async () => {
      const { value } = await within(reader.read(), 5_000, 'stream chunk');
      raw += new TextDecoder().decode(value);
      return raw.includes('event: status');
    }, { timeoutMs: 5_000, what: 'the first status event' });
    const started = Date.now();
    await within(g.close(), 5_000, 'gateway close with an open stream');
    gw = undefined;
    expect(Date.now() - started).toBeLessThan(5_000);
    await reader.cancel().catch(() => {});
  });
});
