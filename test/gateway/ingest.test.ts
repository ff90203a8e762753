/**
 * The ingest path with a real gateway (Aedes on 127.0.0.1:0, LevelDB in a temp dir) and real
 * MQTT.js terminals: valid events are stored and acked, every reject code comes from the input
 * that should produce it, duplicates and conflicts follow DESIGN §3.3, PUBACKs keep publish order.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { signEvent } from '../../protocol/jws.js';
import { topics } from '../../protocol/topics.js';
import { samplePayload, signChain, testSigner } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import {
  connectTerminal, endClient, enroll, Inbox, publishEvent, startTestGateway, stopTestGateway, STORE, subscribe,
  type Enrolled, type TestGateway,
} from './support.js';

let t: TestGateway | undefined;
let clients: MqttClient[] = [];

beforeEach(() => {
  clients = [];
});
afterEach(async () => {
  await Promise.all(clients.map(endClient));
  await stopTestGateway(t);
  t = undefined;
});

let verifyThreads = 0;

async function terminalClient(name: string): Promise<{ who: Enrolled; client: MqttClient; inbox: Inbox }> {
  if (t === undefined) t = await startTestGateway({ verifyThreads });
  const who = await enroll(t.gw, name);
  const client = await connectTerminal(t.gw, name, who.password);
  clients.push(client);
  const inbox = new Inbox(client);
  await subscribe(client, topics.ack(STORE, name));
  await subscribe(client, topics.rejects(STORE, name));
  return { who, client, inbox };
}

describe.each([0, 1])('gateway ingest (verify threads: %i)', (threads) => {
  beforeEach(() => {
    verifyThreads = threads;
  });

  it('gateway - stores valid events, acks each after it is durable, and publishes the retained ack', async () => {
    const { who, client, inbox } = await terminalClient('t-1');
    const chain = await signChain(who.signer, STORE, 't-1', 5);
    for (const e of chain) await publishEvent(client, 't-1', e.jws);
    const last = chain[4]!;
    await waitFor(() => inbox.on(topics.ack(STORE, 't-1')).some((a) => (a as { seq: number }).seq === 5), { what: 'ack 5' });
    expect(inbox.on(topics.ack(STORE, 't-1')).at(-1)).toEqual({ seq: 5, hash: last.hash });
    const stored = await t!.gw.queue.readTerminalEvents('t-1', 1, 10);
    expect(stored.map((e) => e.jws)).toEqual(chain.map((e) => e.jws));
    expect(t!.gw.queue.head()).toBe(6); // one enrollment + five events
    expect(t!.gw.queue.backlog().events).toBe(5);
    const status = (await (await t!.gw.app.request('/api/status')).json()) as { eventsStored: number; terminals: { terminal: string; headSeq: number; connected: boolean }[] };
    expect(status.eventsStored).toBe(5);
    expect(status.terminals).toEqual([expect.objectContaining({ terminal: 't-1', headSeq: 5, connected: true })]);
  });

  it('gateway - keeps PUBACK order and stores a pipelined burst in order', async () => {
    const { who, client } = await terminalClient('t-burst');
    const chain = await signChain(who.signer, STORE, 't-burst', 300);
    const order: number[] = [];
    await Promise.all(chain.map((e) => publishEvent(client, 't-burst', e.jws).then(() => order.push(e.seq))));
    expect(order).toEqual(chain.map((e) => e.seq));
    const stored = await t!.gw.queue.readTerminalEvents('t-burst', 1, 1000);
    expect(stored.map((e) => e.seq)).toEqual(chain.map((e) => e.seq));
  });

  it('gateway - answers a duplicate with PUBACK and the ack, and a different event at a stored seq with CONFLICT', async () => {
    const { who, client, inbox } = await terminalClient('t-dup');
    const chain = await signChain(who.signer, STORE, 't-dup', 2);
    for (const e of chain) await publishEvent(client, 't-dup', e.jws);
    await publishEvent(client, 't-dup', chain[0]!.jws);
    await waitFor(() => inbox.on(topics.ack(STORE, 't-dup')).length >= 2, { what: 'ack after duplicate' });
    const forged = await signEvent(samplePayload(STORE, 't-dup', 1, '', { amount: 999 }), who.signer);
    await publishEvent(client, 't-dup', forged);
    await waitFor(() => inbox.on(topics.rejects(STORE, 't-dup')).length === 1, { what: 'conflict reject' });
    expect(inbox.on(topics.rejects(STORE, 't-dup'))[0]).toMatchObject({ seq: 1, code: 'CONFLICT' });
    expect((await t!.gw.queue.readTerminalEvents('t-dup', 1, 10)).map((e) => e.jws)).toEqual(chain.map((e) => e.jws));
  });

  it('gateway - produces each reject code from the input that should produce it', async () => {
    const { who, client, inbox } = await terminalClient('t-bad');
    const other = testSigner('someone-else');
    const [e1, e2] = await signChain(who.signer, STORE, 't-bad', 2);
    const cases: [string, string | Buffer][] = [
      ['SCHEMA', 'not a jws at all'],
      ['SCHEMA', await signEvent({ ...samplePayload(STORE, 't-bad', 1, ''), amount: -5 }, who.signer)],
      ['PAN_DETECTED', await signEvent(samplePayload(STORE, 't-bad', 1, '', { ref: '4111111111111111' }), who.signer)],
      ['TOO_LARGE', Buffer.alloc(17 * 1024, 0x61)],
      ['IDENTITY_MISMATCH', await signEvent(samplePayload(STORE, 't-other', 1, ''), who.signer)],
      ['UNKNOWN_KEY', await signEvent(samplePayload(STORE, 't-bad', 1, ''), other)],
      ['BAD_SIGNATURE', e1!.jws.slice(0, -4) + (e1!.jws.endsWith('AAAA') ? 'BBBB' : 'AAAA')],
      ['SEQ_GAP', e2!.jws],
      ['BAD_CHAIN', await signEvent(samplePayload(STORE, 't-bad', 2, 'x'.repeat(43)), who.signer)],
    ];
    for (const [, payload] of cases.slice(0, -1)) await client.publishAsync(topics.events(STORE, 't-bad'), payload, { qos: 1 });
    // BAD_CHAIN needs seq 1 stored first.
    await publishEvent(client, 't-bad', e1!.jws);
    await client.publishAsync(topics.events(STORE, 't-bad'), cases.at(-1)![1], { qos: 1 });
    await waitFor(() => inbox.on(topics.rejects(STORE, 't-bad')).length === cases.length, { what: 'all rejects' });
    const codes = inbox.on(topics.rejects(STORE, 't-bad')).map((r) => (r as { code: string }).code);
    expect(codes).toEqual(cases.map(([code]) => code));
    expect(inbox.on(topics.rejects(STORE, 't-bad')).find((r) => (r as { code: string }).code === 'SEQ_GAP')).toMatchObject({ seq: 2, expected: 1 });
    const status = (await (await t!.gw.app.request('/api/status')).json()) as { rejects: { byCode: Record<string, number> }; eventsStored: number };
    expect(status.rejects.byCode).toMatchObject({ SCHEMA: 2, PAN_DETECTED: 1, TOO_LARGE: 1, IDENTITY_MISMATCH: 1, UNKNOWN_KEY: 1, BAD_SIGNATURE: 1, SEQ_GAP: 1, BAD_CHAIN: 1 });
    expect(status.eventsStored).toBe(1);
    expect(client.connected).toBe(true);
  });

  it('gateway - refuses new events with STORE_FULL past the disk high-water mark and says so on the status topic', async () => {
    let usedPct = 50;
    t = await startTestGateway({ diskHighWaterPct: 90, diskCheckIntervalMs: 60_000, verifyThreads }, {
      diskProbe: async () => ({ totalBytes: 100 * 1024 ** 3, freeBytes: (100 - usedPct) * 1024 ** 3 }),
    });
    const { who, client, inbox } = await terminalClient('t-full');
    await subscribe(client, topics.gatewayStatus(STORE));
    const [e1, e2] = await signChain(who.signer, STORE, 't-full', 2);
    await publishEvent(client, 't-full', e1!.jws);
    usedPct = 95;
    await (t.gw.statusSources.disk).check();
    await publishEvent(client, 't-full', e2!.jws);
    await waitFor(() => inbox.on(topics.rejects(STORE, 't-full')).length === 1, { what: 'STORE_FULL' });
    expect(inbox.on(topics.rejects(STORE, 't-full'))[0]).toMatchObject({ seq: 2, code: 'STORE_FULL' });
    await waitFor(() => inbox.on(topics.gatewayStatus(STORE)).some((s) => (s as { accepting: boolean }).accepting === false), { what: 'accepting:false' });
    // A duplicate is still answered while full: it adds nothing.
    await publishEvent(client, 't-full', e1!.jws);
    usedPct = 50;
    await t.gw.statusSources.disk.check();
    await publishEvent(client, 't-full', e2!.jws);
    expect((await t.gw.queue.readTerminalEvents('t-full', 1, 10)).map((e) => e.seq)).toEqual([1, 2]);
  });
});
