/**
 * Proves the updates back to the terminal (DESIGN §3.6) with real parts: a terminal agent (real
 * LevelDB outbox, real MQTT.js) records a payment under the id it gave the PSP; a real gateway
 * (Aedes, LevelDB, forwarder) delivers it to a served cloud-bridge with optimism on; the PSP then
 * refuses the payment. The gateway's updates follower fetches the change from the cloud and
 * publishes it on `P/{terminal}/updates`, and the payment app learns from the terminal's local API
 * that the optimistic charge was contradicted. The gateway's cursor survives its restart.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type GatewayHandle } from '../../gateway/index.js';
import { silentLogger } from '../../lib/logger.js';
import { uuidv7 } from '../../protocol/uuid.js';
import { createRecordApp } from '../../terminal-agent/record-api.js';
import type { Agent } from '../../terminal-agent/agent.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { GW1 } from '../cloud-bridge/helpers.js';
import { FakePspClient, levelLifecycleHarness, payment, postWebhook, type TestLifecycleCloud } from '../cloud-bridge/lifecycle/lifecycle-cloud.js';
import { adyenItem } from '../cloud-bridge/lifecycle/support.js';
import { agentFrom, ADMIN_TOKEN, initAndEnroll, sampleTx } from '../terminal-agent/support/real-gateway.js';

describe('payment updates back to the terminal', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('updates e2e - a contradicted optimistic charge reaches the payment app through gateway and terminal', async () => {
    const root = await makeTempDir('tillgate-updates-');
    cleanups.push(() => removeDir(root));
    const harness = await levelLifecycleHarness();
    cleanups.push(() => harness.destroy());
    const clock = new FakeClock(Date.now());
    const cloud: TestLifecycleCloud = await harness.open({ optimisticCharge: true, clock, psp: new FakePspClient(), extra: { lifecyclePollIntervalMs: 20 } });
    cleanups.push(() => cloud.close());
    cloud.lifecycle.start();
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: cloud.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server)) as Server;
    });
    cleanups.push(() => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
    const cloudUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const gatewayOptions = {
      dataDir: join(root, 'gateway'), host: '127.0.0.1', mqttPort: 0, httpPort: 0, store: GW1.store, gatewayId: GW1.id, adminToken: ADMIN_TOKEN,
      cloudUrl, cloudToken: GW1.token, logLevel: 'silent' as const, updatesPollIntervalMs: 50, wanProbeIntervalMs: 200, retryDelayMsMin: 20, retryDelayMsMax: 200,
    };
    let gw: GatewayHandle = await startGateway(gatewayOptions, { logger: silentLogger });
    cleanups.push(() => gw.close());
    const dir = join(root, 't-1');
    await mkdir(dir, { recursive: true });
    await initAndEnroll(dir, 't-1', gw.httpUrl);
    let agent: Agent = await agentFrom(dir, gw);
    cleanups.push(() => agent.stop());
    await waitFor(() => !agent.isOffline() && agent.outbox.synced(), { timeoutMs: 10_000, what: 'the terminal online and synced (gateway WAN online)' });

    // The payment app authorised with the PSP under this id, then records the payment with it.
    const id = uuidv7(Date.now());
    const recorded = await agent.record({ ...sampleTx(4_200), id, ref: 'PSPREF0000000001' });
    expect(recorded.id).toBe(id);
    await waitFor(async () => (await cloud.store.get(id))?.chargedBy === 'optimistic', { timeoutMs: 10_000, what: 'the optimistic charge in the cloud' });
    await waitFor(() => agent.payments.get(id)?.state === 'captured', { timeoutMs: 10_000, what: 'the captured update at the terminal' });
    expect(agent.payments.get(id)).toMatchObject({ terminal: 't-1', seq: recorded.seq, charged: true, contradicted: false });

    // The PSP refuses it after all.
    const res = await postWebhook(cloud.app, [adyenItem({ merchantReference: id, success: 'false', pspReference: 'PSPREF0000000001', amount: { value: 4_200, currency: 'EUR' } })]);
    expect(res.status).toBe(200);
    await waitFor(() => agent.payments.get(id)?.state === 'refused', { timeoutMs: 10_000, what: 'the refusal at the terminal' });
    expect(await payment(cloud.app, id)).toMatchObject({ state: 'refused', contradicted: true });

    // The payment app reads it on the terminal's local API.
    const api = createRecordApp(agent);
    const one = await api.request(`/payments/${id}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id, state: 'refused', charged: true, contradicted: true });
    const attention = (await (await api.request('/payments?contradicted=true')).json()) as { payments: Array<{ id: string }> };
    expect(attention.payments.map((p) => p.id)).toEqual([id]);

    // The gateway kept its place: after a restart it publishes only what is new.
    // Published first, saved after: wait for the save.
    await waitFor(async () => (JSON.parse(await readFile(join(root, 'gateway', 'updates-cursor.json'), 'utf8')) as { cursor: string }).cursor === '2', {
      timeoutMs: 10_000, what: 'the cursor saved past both updates',
    });
    await agent.stop();
    await gw.close();
    gw = await startGateway(gatewayOptions, { logger: silentLogger });
    agent = await agentFrom(dir, gw);
    await waitFor(() => !agent.isOffline(), { timeoutMs: 10_000, what: 'the terminal back online' });
    await waitFor(async () => ((await (await gw.app.request('/api/updates')).json()) as { state: { kind: string } }).state.kind === 'following', { timeoutMs: 10_000, what: 'the follower running' });
    const status = (await (await gw.app.request('/api/updates')).json()) as { state: { cursor: string }; published: number };
    expect(status.state.cursor).toBe('2');
    expect(status.published).toBe(0);
  });
});
