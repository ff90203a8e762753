/**
 * Proves DESIGN §4 across a cloud outage with real processes: the cloud is down while terminals
 * keep publishing to the gateway (every event PUBACKed, the WAN shown offline, the backlog
 * growing); the cloud comes up; every event reaches the ledger exactly once, in order, with a
 * valid chain, and the gateway's retained status says the WAN is back.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayStatusSchema } from '../../protocol/messages.js';
import { topics } from '../../protocol/topics.js';
import { cloudCount, expectExactlyOnceInOrder } from '../chaos/harness/cloud-ledger.js';
import { TestSystem } from '../chaos/harness/system.js';
import { makeTerminals, publish, STORE } from '../chaos/harness/terminals.js';
import { waitFor } from '../support/wait.js';

let system: TestSystem | null = null;
afterEach(async () => {
  await system?.close();
  system = null;
});

describe('forwarding through a cloud outage', () => {
  it('forward - the cloud is down while terminals publish; when it returns every event is in the ledger once, in order', async () => {
    system = await TestSystem.create();
    const s = system;
    await s.startGateway();
    const terminals = await makeTerminals(s.gatewayUrl, 4, 150);
    // The gateway takes everything while the cloud is down.
    await Promise.all(terminals.map((t) => publish(s.mqttPort, t, t.events.slice(0, 100))));
    const down = await waitFor(async () => {
      const f = await s.forwarder();
      // The forwarder alternates between a failing attempt ('sending') and waiting ('backoff'):
      // wait for the wait, rather than reading whichever one a single poll happens to catch.
      return f.wan.state === 'offline' && f.forwarder.backlog === 400 && f.forwarder.state === 'backoff' ? f : null;
    }, { what: 'offline with a backlog of 400, backing off' });
    expect(down.forwarder.state).toBe('backoff');

    // A terminal sees the retained status: WAN offline.
    const watcher = terminals[0]!;
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.mqttPort}`, { clientId: `${watcher.terminal}`, username: watcher.terminal, password: watcher.password, protocolVersion: 4, reconnectPeriod: 0 });
    const statuses: string[] = [];
    sub.on('message', (_topic, payload) => statuses.push(gatewayStatusSchema.parse(JSON.parse(payload.toString())).wan));
    await sub.subscribeAsync(topics.gatewayStatus(STORE), { qos: 1 });
    await waitFor(() => statuses.includes('offline'), { what: 'retained offline status' });
    await sub.endAsync();

    await s.startCloud();
    // More events while the backlog drains.
    await Promise.all(terminals.map((t) => publish(s.mqttPort, t, t.events.slice(100))));
    await waitFor(async () => (await cloudCount(s.cloudUrl, terminals)) === 600, { timeoutMs: 20_000, what: 'all 600 events in the cloud' });
    await expectExactlyOnceInOrder(s.cloudUrl, terminals, () => 150);
    const after = await waitFor(async () => {
      const f = await s.forwarder();
      return f.forwarder.backlog === 0 && f.wan.state === 'online' ? f : null;
    }, { what: 'backlog 0, online' });
    expect(after.forwarder.cursor).toBe(after.forwarder.head);
    expect(after.forwarder.deadLetters).toBe(0);
    expect(await s.gateway!.stop()).toBe(0);
    expect(await s.cloud!.stop()).toBe(0);
  });
});
