/**
 * Offline persistent sessions are bounded (outside finding: every retained status publication was
 * queued in broker memory for every offline terminal, ~2,880 a day each). With real MQTT.js clients
 * (clean session false) against a real gateway and against a bare Aedes with the same persistence:
 * a terminal that comes back after 500 status publications gets the newest one, not 500; other
 * QoS 1 messages are kept up to the per-client bound, oldest dropped first and counted; a connected
 * client's messages are never touched.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { boundedPersistence } from '../../gateway/broker/bounded-persistence.js';
import { topics } from '../../protocol/topics.js';
import { waitFor, within } from '../support/wait.js';
import { connectTerminal, endClient, enroll, Inbox, startTestGateway, stopTestGateway, STORE, subscribe, type TestGateway } from './support.js';

let t: TestGateway | undefined;
let broker: Aedes | undefined;
let server: Server | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map(endClient));
  await stopTestGateway(t);
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  await new Promise<void>((resolve) => (broker === undefined ? resolve() : broker.close(() => resolve())));
  t = broker = server = undefined;
});

describe('offline persistent sessions', () => {
  it('offline queue - a terminal back after 500 status publications gets the newest one, not 500', async () => {
    t = await startTestGateway();
    const who = await enroll(t.gw, 't-1');
    const persistent = { clean: false };
    const first = await connectTerminal(t.gw, 't-1', who.password, persistent);
    expect(await subscribe(first, topics.gatewayWildcard(STORE))).toBe(1);
    await endClient(first);
    await waitFor(() => t!.gw.statusSources.presence.connectedCount() === 0, { what: 'the terminal offline' });
    for (let i = 0; i < 500; i++) await t.gw.statusTopic.publish();

    const back = await connectTerminal(t.gw, 't-1', who.password, { ...persistent, resubscribe: false });
    clients.push(back);
    const inbox = new Inbox(back);
    // The newest status arrives from the restored session; then the line is quiet.
    await waitFor(() => inbox.on(topics.gatewayStatus(STORE)).length >= 1, { what: 'the queued status' });
    t.gw.statusTopic.update({ accepting: false }); // a live status the terminal can tell apart
    const statuses = () => inbox.on(topics.gatewayStatus(STORE)) as { accepting: boolean }[];
    await waitFor(() => statuses().some((s) => !s.accepting), { what: 'the live status after the queue' });
    expect(statuses().map((s) => s.accepting)).toEqual([true, false]);
    const status = (await (await t.gw.app.request('/api/status')).json()) as { offlineQueues: { superseded: number } };
    expect(status.offlineQueues.superseded).toBeGreaterThanOrEqual(499);
  });

  it('offline queue - other QoS 1 messages are kept up to the bound, oldest dropped first; a connected client is left alone', async () => {
    const offline = boundedPersistence({ maxQueuedPerClient: 5, isLastValueTopic: (topic) => topic === 'state' });
    broker = new Aedes({ persistence: offline.persistence });
    await broker.listen();
    server = createServer((socket) => broker!.handle(socket));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const b = broker;
    const publish = (topic: string, n: number) =>
      within(new Promise<void>((resolve, reject) => b.publish({ cmd: 'publish', topic, payload: Buffer.from(String(n)), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()))), 5_000, 'publish');
    const client = await connectAsync(url, { clientId: 'c-1', clean: false, protocolVersion: 4, reconnectPeriod: 0 });
    await client.subscribeAsync(['updates/#', 'state'], { qos: 1 });
    // Connected: every message is delivered, none dropped.
    const live: string[] = [];
    client.on('message', (_topic, payload) => live.push(payload.toString()));
    for (let i = 1; i <= 20; i++) await publish(`updates/${i}`, i);
    await waitFor(() => live.length === 20, { what: '20 live messages' });
    await client.endAsync();
    for (let i = 21; i <= 40; i++) await publish(`updates/${i}`, i);
    for (let i = 1; i <= 50; i++) await publish('state', 1000 + i);
    expect(offline.queuedFor('c-1')).toBe(5);
    expect(offline.stats.dropped).toBeGreaterThan(0);
    const back = await connectAsync(url, { clientId: 'c-1', clean: false, protocolVersion: 4, reconnectPeriod: 0, resubscribe: false });
    clients.push(back);
    const got: string[] = [];
    back.on('message', (_topic, payload) => got.push(payload.toString()));
    await waitFor(() => got.length === 5, { what: 'the bounded queue' });
    // The newest state survives every drop; the oldest updates went first.
    expect(got).toContain('1050');
    expect(got).toContain('40');
    expect(got).not.toContain('21');
  });
});
