/**
 * One shape for one thing: on a real gateway (LevelDB, Aedes, MQTT.js terminals, a stand-in cloud
 * over HTTP, the WAN cut by the admin toggle so a backlog builds), `/api/status`, `/api/forwarder`
 * and `/api/terminals` show the backlog, the link and every terminal identically; money is in minor
 * units under `…Minor` names, and the older names scripts may read are still there.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../protocol/topics.js';
import { FakeClock } from '../support/fake-clock.js';
import { signChain, testSigner } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { ADMIN_TOKEN, connectTerminal, endClient, enroll, publishEvent, STORE, startTestGateway, stopTestGateway, type TestGateway } from '../gateway/support.js';
import { startFakeCloud, type FakeCloud } from './fake-cloud.js';

type Json = Record<string, unknown>;

describe('status API - one shape across routes', () => {
  let t: TestGateway;
  let cloud: FakeCloud;
  const clients: MqttClient[] = [];
  // A clock that stands still: two routes read at two instants must still agree to the second.
  const clock = new FakeClock();
  let amountMinor = 0;

  const get = async (path: string): Promise<Json> => {
    const res = await t.gw.app.request(path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as Json;
  };

  beforeAll(async () => {
    cloud = await startFakeCloud();
    t = await startTestGateway({ cloudUrl: cloud.url, cloudToken: cloud.token, wanProbeIntervalMs: 100, wanProbeIntervalOfflineMs: 100, storeName: 'Corner Shop', timeZone: 'Europe/Berlin', historyCron: '* * * * * *' }, { clock });
    const cut = await t.gw.app.request('/api/wan/outage', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ seconds: 3_600 }),
    });
    expect(cut.status).toBe(200);
    for (const id of ['t-01', 't-02']) {
      const { password } = await enroll(t.gw, id);
      const client = await connectTerminal(t.gw, id, password);
      clients.push(client);
      for (const e of await signChain(testSigner(id), STORE, id, 3)) {
        await publishEvent(client, id, e.jws);
        amountMinor += e.payload.amount;
      }
      await client.publishAsync(topics.health(STORE, id), JSON.stringify({ at: new Date(clock.now() - 5 * 60_000).toISOString(), outboxDepth: 2, chain: 'in-step' }), { qos: 0 });
    }
    await waitFor(async () => ((await get('/api/status')).backlog as Json).events === 6, { timeoutMs: 5_000, what: 'the backlog of 6' });
  });

  afterAll(async () => {
    for (const c of clients) await endClient(c);
    await stopTestGateway(t);
    await cloud?.close();
  });

  it('status API - the backlog and the link are the same object in /api/status and /api/forwarder', async () => {
    const status = await get('/api/status');
    const forwarder = await get('/api/forwarder');
    expect(status.backlog).toEqual(forwarder.backlog);
    expect(status.wanLink).toEqual(forwarder.wan);
    expect(status.wanLink).toMatchObject({ state: 'offline', reason: 'LINK_CUT' });
    expect(status.backlog).toMatchObject({ events: 6, payments: 6, amountByCurrencyMinor: { EUR: amountMinor }, moneyMinor: { takings: { count: 6, byCurrencyMinor: { EUR: amountMinor } } } });
    // Older names kept for scripts written against earlier releases.
    expect(status.backlog).toMatchObject({ amountByCurrency: { EUR: amountMinor }, money: { takings: { count: 6, byCurrency: { EUR: amountMinor } } } });
    expect(forwarder.forwarder).toMatchObject({ backlog: 6, amountPendingByCurrency: { EUR: amountMinor } });
  });

  it('status API - every terminal has one shape in /api/status, /api/terminals and /api/terminals/:id', async () => {
    const status = await get('/api/status');
    const list = await get('/api/terminals');
    expect(status.terminals).toEqual(list.terminals);
    const terminals = list.terminals as Json[];
    expect(terminals.map((x) => x.terminal)).toEqual(['t-01', 't-02']);
    for (const entry of terminals) {
      const detail = await get(`/api/terminals/${String(entry.terminal)}`);
      expect(detail).toMatchObject(entry);
      expect(detail).toHaveProperty('keys');
      expect(detail).toHaveProperty('headHash');
    }
    expect(terminals[0]).toMatchObject({ terminal: 't-01', connected: true, headSeq: 3, presence: 'connected', outboxDepth: 2, chain: 'in-step', clockSkewS: -300, problems: ['CLOCK_SKEW'] });
  });

  it('status API - /api/status carries the headline, every problem with what to do, the store name and time zone', async () => {
    const status = await get('/api/status');
    expect(status).toMatchObject({ gatewayId: 'g-1', store: STORE, storeName: 'Corner Shop', timeZone: 'Europe/Berlin' });
    expect(status.headline).toMatchObject({ level: 'alarm' });
    expect(String((status.headline as Json).sentence)).toMatch(/^Internet cut for a test by an admin/);
    const problems = status.problems as Json[];
    expect(problems.map((p) => p.code)).toEqual(['WAN_OFFLINE', 'CLOCK_SKEW']);
    expect(problems[0]).toMatchObject({ level: 'alarm', title: 'Internet down', subjects: ['wan'] });
    expect(String(problems[0]?.action)).toMatch(/^Check the router and the internet line/);
    expect(problems[1]).toMatchObject({ subjects: ['t-01', 't-02'], sentence: "2 terminals' clocks are off by 5 min or more: t-01, t-02" });
  });

  it('status API - /api/history lists the outage and its alarm with start and no end yet', async () => {
    await waitFor(async () => ((await get('/api/history')).outages as Json[]).length === 1, { timeoutMs: 5_000, what: 'the history to note the outage' });
    const h = await get('/api/history');
    expect((h.outages as Json[])[0]).toMatchObject({ endedAt: null, reason: 'LINK_CUT' });
    expect((h.alarms as Json[]).map((a) => a.code)).toContain('GATEWAY_STARTED');
  });
});
