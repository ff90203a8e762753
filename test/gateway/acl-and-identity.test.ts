/**
 * Who may do what (DESIGN §3.3), with a real gateway and real MQTT.js clients: CONNECT identity and
 * password, forged events, publish/subscribe ACL, the retained ack after a reconnect and a gateway
 * restart, key rotation, and health samples.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { signEvent } from '../../protocol/jws.js';
import { topics } from '../../protocol/topics.js';
import { samplePayload, signChain, testSigner } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import {
  closedWithin, connectTerminal, endClient, enroll, Inbox, publishEvent, startTestGateway, stopTestGateway, STORE, subscribe,
  type TestGateway,
} from './support.js';

let t: TestGateway | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map(endClient));
  await stopTestGateway(t);
  t = undefined;
});

async function connect(name: string, password: string): Promise<MqttClient> {
  const c = await connectTerminal(t!.gw, name, password);
  clients.push(c);
  return c;
}

describe('gateway ACL and identity', () => {
  it('gateway - refuses CONNECT with a wrong password, an unknown terminal, or a username that is not the client id', async () => {
    t = await startTestGateway();
    const a = await enroll(t.gw, 't-a');
    await expect(connectTerminal(t.gw, 't-a', 'wrong-password')).rejects.toMatchObject({ code: 4 });
    await expect(connectTerminal(t.gw, 't-nobody', a.password)).rejects.toMatchObject({ code: 4 });
    await expect(connectTerminal(t.gw, 't-a', a.password, { username: 't-b' })).rejects.toMatchObject({ code: 4 });
    const ok = await connect('t-a', a.password);
    expect(ok.connected).toBe(true);
  });

  it('gateway - a forged event from one terminal cannot be stored under another', async () => {
    t = await startTestGateway();
    const a = await enroll(t.gw, 't-a');
    const b = await enroll(t.gw, 't-b');
    const ca = await connect('t-a', a.password);
    const inbox = new Inbox(ca);
    await subscribe(ca, topics.rejects(STORE, 't-a'));
    // t-a signs an event naming t-b: identity mismatch. t-a sends an event naming itself signed by t-b's key: unknown key.
    await publishEvent(ca, 't-a', await signEvent(samplePayload(STORE, 't-b', 1, ''), a.signer));
    await publishEvent(ca, 't-a', await signEvent(samplePayload(STORE, 't-a', 1, ''), b.signer));
    // Publishing into t-b's topic is refused outright: the connection is closed.
    const [bEvent] = await signChain(b.signer, STORE, 't-b', 1);
    const closed = closedWithin(ca);
    ca.publish(topics.events(STORE, 't-b'), bEvent!.jws, { qos: 1 });
    await closed;
    expect(inbox.on(topics.rejects(STORE, 't-a')).map((r) => (r as { code: string }).code)).toEqual(['IDENTITY_MISMATCH', 'UNKNOWN_KEY']);
    expect(t.gw.statusSources.eventStore.head('t-b').seq).toBe(0);
    expect(t.gw.statusSources.eventStore.head('t-a').seq).toBe(0);
  });

  it('gateway - refuses subscriptions to other terminals\' topics and wildcards, allows its own and gateway/#', async () => {
    t = await startTestGateway();
    const a = await enroll(t.gw, 't-a');
    await enroll(t.gw, 't-b');
    const c = await connect('t-a', a.password);
    expect(await subscribe(c, topics.ack(STORE, 't-a'))).toBe(1);
    expect(await subscribe(c, topics.rejects(STORE, 't-a'))).toBe(1);
    expect(await subscribe(c, topics.updates(STORE, 't-a'))).toBe(1);
    expect(await subscribe(c, topics.gatewayWildcard(STORE))).toBe(1);
    for (const topic of [topics.ack(STORE, 't-b'), topics.events(STORE, 't-b'), topics.events(STORE, 't-a'), `tillgate/v1/${STORE}/+/ack`, '#', 'tillgate/v1/other/t-a/ack']) {
      expect(await subscribe(c, topic), topic).toBe(128);
    }
    expect(c.connected).toBe(true);
  });

  it('gateway - closes a terminal that publishes outside its own topics', async () => {
    t = await startTestGateway();
    const a = await enroll(t.gw, 't-a');
    for (const topic of [topics.ack(STORE, 't-a'), topics.gatewayStatus(STORE), 'some/other/topic', topics.health(STORE, 't-b')]) {
      const c = await connect('t-a', a.password);
      const closed = closedWithin(c);
      c.publish(topic, '{}', { qos: 1 });
      await closed;
    }
    const status = (await (await t.gw.app.request('/api/status')).json()) as { acl: { publishDenied: number } };
    expect(status.acl.publishDenied).toBe(4);
  });

  it('gateway - a terminal that reconnects, even after a gateway restart, reads its retained ack and continues', async () => {
    t = await startTestGateway();
    const a = await enroll(t.gw, 't-a');
    const chain = await signChain(a.signer, STORE, 't-a', 6);
    let c = await connect('t-a', a.password);
    for (const e of chain.slice(0, 3)) await publishEvent(c, 't-a', e.jws);
    await endClient(c);
    const dataDir = t.dataDir;
    await t.gw.close();
    t = await startTestGateway({ dataDir });
    c = await connect('t-a', a.password);
    const inbox = new Inbox(c);
    await subscribe(c, topics.ack(STORE, 't-a'));
    const retained = await waitFor(() => inbox.messages.find((m) => m.topic === topics.ack(STORE, 't-a')), { what: 'retained ack' });
    expect(retained).toMatchObject({ retain: true, body: { seq: 3, hash: chain[2]!.hash } });
    for (const e of chain.slice(3)) await publishEvent(c, 't-a', e.jws);
    expect((await t.gw.queue.readTerminalEvents('t-a', 1, 10)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('gateway - enrolling a known terminal with a new key adds the key and replaces the password', async () => {
    t = await startTestGateway();
    const first = await enroll(t.gw, 't-a');
    const rotated = testSigner('t-a-second-key');
    const second = await enroll(t.gw, 't-a', rotated);
    await expect(connectTerminal(t.gw, 't-a', first.password)).rejects.toMatchObject({ code: 4 });
    const c = await connect('t-a', second.password);
    const [e1] = await signChain(first.signer, STORE, 't-a', 1);
    await publishEvent(c, 't-a', e1!.jws);
    const [, e2] = await signChain(rotated, STORE, 't-a', 2);
    await publishEvent(c, 't-a', await signEvent(samplePayload(STORE, 't-a', 2, e1!.hash), rotated));
    expect(e2).toBeDefined();
    expect(t.gw.statusSources.eventStore.head('t-a').seq).toBe(2);
    const entries = await t.gw.queue.readAfter(0, 10, 1 << 20);
    expect(entries.map((e) => e.kind)).toEqual(['enrollment', 'enrollment', 'event', 'event']);
    const detail = (await (await t.gw.app.request('/api/terminals/t-a')).json()) as { keys: unknown[] };
    expect(detail.keys).toHaveLength(2);
  });

  it('gateway - keeps the latest health sample per terminal and its history, and drops invalid samples', async () => {
    t = await startTestGateway();
    const a = await enroll(t.gw, 't-a');
    const c = await connect('t-a', a.password);
    const topic = topics.health(STORE, 't-a');
    c.publish(topic, JSON.stringify({ at: '2026-11-22T09:00:00Z', rssiDbm: -60, outboxDepth: 0 }), { qos: 0 });
    c.publish(topic, 'not json', { qos: 0 });
    c.publish(topic, JSON.stringify({ at: '2026-11-22T09:01:00Z', rssiDbm: 20 }), { qos: 0 });
    c.publish(topic, JSON.stringify({ at: '2026-11-22T09:02:00Z', rssiDbm: -70, outboxDepth: 3 }), { qos: 0 });
    await waitFor(() => t!.gw.health.latest('t-a')?.sample.at === '2026-11-22T09:02:00Z', { what: 'latest sample' });
    const recent = await waitFor(async () => {
      const r = await t!.gw.health.recent('t-a', 0, 10);
      return r.length === 2 ? r : undefined;
    }, { what: 'history' });
    expect(recent.map((e) => e.sample.rssiDbm)).toEqual([-60, -70]);
    const detail = (await (await t.gw.app.request('/api/terminals/t-a')).json()) as { health: { sample: { outboxDepth: number } } };
    expect(detail.health.sample.outboxDepth).toBe(3);
    const status = (await (await t.gw.app.request('/api/status')).json()) as { health: { invalid: number; accepted: number } };
    expect(status.health).toMatchObject({ invalid: 2, accepted: 2 });
    expect(c.connected).toBe(true);
  });
});
