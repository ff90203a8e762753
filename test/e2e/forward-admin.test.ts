/**
 * The delivery side's admin HTTP API on a real gateway and a real cloud (in-process, real sockets):
 * the WAN outage toggle cuts the link (backlog builds, WAN offline) and lifting it drains;
 * drain and outage require the admin token; bad bodies get coded 400s; GET /api/forwarder shows
 * state, backlog, WAN and dead letters.
 */
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startCloud, type CloudHandle } from '../../cloud-bridge/index.js';
import { startGateway, type GatewayHandle } from '../../gateway/index.js';
import { silentLogger } from '../../lib/logger.js';
import { topics } from '../../protocol/topics.js';
import { cloudCount, expectExactlyOnceInOrder } from '../chaos/harness/cloud-ledger.js';
import { ADMIN_TOKEN, CLOUD_TOKEN, GATEWAY_ID, makeTerminals, publish, STORE } from '../chaos/harness/terminals.js';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

let gateway: GatewayHandle | null = null;
let cloud: CloudHandle | null = null;
let dir: string | null = null;
afterEach(async () => {
  await gateway?.close();
  await cloud?.close();
  if (dir !== null) await removeDir(dir);
  gateway = cloud = dir = null;
});

const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

describe('delivery admin API', () => {
  it('forward - the WAN outage toggle builds a backlog and lifting it drains, all behind the admin token', async () => {
    dir = await makeTempDir('tillgate-admin-');
    cloud = await startCloud({ dataDir: join(dir, 'cloud'), host: '127.0.0.1', httpPort: 0, adminToken: ADMIN_TOKEN, gateways: [`${GATEWAY_ID}:${STORE}:${CLOUD_TOKEN}`], provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY], logLevel: 'silent' }, { logger: silentLogger });
    gateway = await startGateway(
      { dataDir: join(dir, 'gateway'), host: '127.0.0.1', mqttPort: 0, httpPort: 0, store: STORE, gatewayId: GATEWAY_ID, adminToken: ADMIN_TOKEN, cloudUrl: cloud.url, cloudToken: CLOUD_TOKEN, retryDelayMsMax: 300, wanProbeIntervalOfflineMs: 200 },
      { logger: silentLogger },
    );
    const g = gateway;
    const c = cloud;
    const url = g.httpUrl;
    const forwarder = async () => (await (await fetch(`${url}/api/forwarder`)).json()) as { forwarder: { backlog: number; state: string; deadLetters: number }; wan: { state: string; outageUntil: string | null; reason: string | null }; deadLetters: unknown[] };

    // Admin only, coded refusals.
    expect((await fetch(`${url}/api/wan/outage`, { method: 'POST', body: '{"seconds":5}' })).status).toBe(401);
    expect((await fetch(`${url}/api/forwarder/drain`, { method: 'POST' })).status).toBe(401);
    const bad = await fetch(`${url}/api/wan/outage`, { method: 'POST', headers: admin, body: '{"seconds":-1}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    expect((await fetch(`${url}/api/forwarder/dead-letters/retry`, { method: 'POST', headers: admin, body: '{"positions":"all"}' })).status).toBe(400);
    expect((await fetch(`${url}/api/forwarder/dead-letters/retry`, { method: 'POST', headers: admin, body: 'x'.repeat(20_000) })).status).toBe(413);

    // Cut the link: the gateway keeps accepting, the backlog builds, the WAN shows offline.
    const cut = await fetch(`${url}/api/wan/outage`, { method: 'POST', headers: admin, body: '{"seconds":600}' });
    expect(cut.status).toBe(200);
    expect(((await cut.json()) as { wan: { state: string } }).wan.state).toBe('offline');
    const terminals = await makeTerminals(url, 2, 40);
    await Promise.all(terminals.map((t) => publish(g.mqttPort, t, t.events)));
    const during = await forwarder();
    expect(during.forwarder.backlog).toBe(80);
    expect(during.wan).toMatchObject({ state: 'offline', reason: 'LINK_CUT' });
    expect(during.wan.outageUntil).not.toBeNull();
    expect(await cloudCount(c.url, terminals)).toBe(0);

    // The retained status tells terminals the WAN is down.
    const t0 = terminals[0]!;
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${g.mqttPort}`, { clientId: t0.terminal, username: t0.terminal, password: t0.password, protocolVersion: 4, reconnectPeriod: 0 });
    const seen: { wan: string; backlog: number }[] = [];
    sub.on('message', (_t, p) => seen.push(JSON.parse(p.toString()) as { wan: string; backlog: number }));
    await sub.subscribeAsync(topics.gatewayStatus(STORE), { qos: 1 });
    await waitFor(() => seen.some((m) => m.wan === 'offline'), { what: 'retained offline status' });

    // Lift it and press drain: everything arrives, in order, once.
    expect((await fetch(`${url}/api/wan/outage`, { method: 'POST', headers: admin, body: '{"seconds":0}' })).status).toBe(200);
    expect((await fetch(`${url}/api/forwarder/drain`, { method: 'POST', headers: admin })).status).toBe(202);
    await waitFor(async () => (await cloudCount(c.url, terminals)) === 80, { what: '80 events in the cloud' });
    await expectExactlyOnceInOrder(c.url, terminals, () => 40);
    await waitFor(() => seen.some((m) => m.wan === 'online'), { what: 'status back online' });
    await sub.endAsync();
    const after = await forwarder();
    expect(after.forwarder.deadLetters).toBe(0);
    expect(after.deadLetters).toEqual([]);
    expect((await fetch(`${url}/api/forwarder/dead-letters/retry`, { method: 'POST', headers: admin })).status).toBe(202);
  });
});
