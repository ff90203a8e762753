/**
 * Event ids are unique in the store (DESIGN §3.2: the `id` is the idempotency key), through a real
 * gateway with real MQTT.js terminals: the same id at another seq of the terminal, or at any seq of
 * another terminal of the store, is refused with DUPLICATE_ID (a durable reject record and a coded
 * message, the event not stored); a byte-identical resend of the same seq stays a duplicate; two
 * terminals racing with one id never both get it stored; retention removes pruned ids from the index.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { chainHash } from '../../protocol/chain.js';
import { signEvent } from '../../protocol/jws.js';
import { topics } from '../../protocol/topics.js';
import { samplePayload, signChain, testUuid } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import {
  connectTerminal, endClient, enroll, Inbox, publishEvent, startTestGateway, stopTestGateway, STORE, subscribe,
  type Enrolled, type TestGateway,
} from './support.js';

let t: TestGateway | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map(endClient));
  await stopTestGateway(t);
  t = undefined;
});

async function terminal(name: string): Promise<{ who: Enrolled; client: MqttClient; inbox: Inbox }> {
  t ??= await startTestGateway();
  const who = await enroll(t.gw, name);
  const client = await connectTerminal(t.gw, name, who.password);
  clients.push(client);
  const inbox = new Inbox(client);
  await subscribe(client, topics.rejects(STORE, name));
  await subscribe(client, topics.ack(STORE, name));
  return { who, client, inbox };
}

const rejectsOf = (inbox: Inbox, name: string) => inbox.on(topics.rejects(STORE, name)) as { seq: number; id: string; code: string }[];

describe('gateway event ids', () => {
  it('gateway ids - the same id at a second seq of the terminal is refused with DUPLICATE_ID; a resend stays a duplicate', async () => {
    const { who, client, inbox } = await terminal('t-1');
    const first = await signEvent(samplePayload(STORE, 't-1', 1, ''), who.signer);
    const again = await signEvent(samplePayload(STORE, 't-1', 2, chainHash(first), { id: testUuid('t-1', 1) }), who.signer);
    await publishEvent(client, 't-1', first);
    await publishEvent(client, 't-1', again);
    await waitFor(() => rejectsOf(inbox, 't-1').length === 1, { what: 'the DUPLICATE_ID reject' });
    expect(rejectsOf(inbox, 't-1')[0]).toMatchObject({ seq: 2, id: testUuid('t-1', 1), code: 'DUPLICATE_ID' });
    expect(t!.gw.statusSources.eventStore.head('t-1').seq).toBe(1);
    // Durable like every reject: in the reject records and the counts by code.
    expect((await t!.gw.statusSources.eventStore.recentRejects(5))[0]).toMatchObject({ terminal: 't-1', seq: 2, code: 'DUPLICATE_ID' });
    expect(t!.gw.statusSources.eventStore.stats().rejectsByCode).toMatchObject({ DUPLICATE_ID: 1 });
    // The byte-identical resend of seq 1 is a duplicate, not a DUPLICATE_ID.
    await publishEvent(client, 't-1', first);
    await waitFor(() => inbox.on(topics.ack(STORE, 't-1')).length >= 2, { what: 'the ack after the duplicate' });
    expect(rejectsOf(inbox, 't-1')).toHaveLength(1);
    // The terminal's chain goes on with a fresh id.
    const next = await signEvent(samplePayload(STORE, 't-1', 2, chainHash(first)), who.signer);
    await publishEvent(client, 't-1', next);
    expect(t!.gw.statusSources.eventStore.head('t-1').seq).toBe(2);
  });

  it('gateway ids - an id stored by one terminal is refused to another terminal of the store', async () => {
    const a = await terminal('t-a');
    const b = await terminal('t-b');
    const [ea] = await signChain(a.who.signer, STORE, 't-a', 1);
    await publishEvent(a.client, 't-a', ea!.jws);
    const copy = await signEvent(samplePayload(STORE, 't-b', 1, '', { id: ea!.payload.id }), b.who.signer);
    await publishEvent(b.client, 't-b', copy);
    await waitFor(() => rejectsOf(b.inbox, 't-b').length === 1, { what: 'the DUPLICATE_ID reject' });
    expect(rejectsOf(b.inbox, 't-b')[0]).toMatchObject({ seq: 1, code: 'DUPLICATE_ID' });
    expect(t!.gw.statusSources.eventStore.head('t-b').seq).toBe(0);
  });

  it('gateway ids - two terminals racing with one id never both get it stored', async () => {
    const racers: Awaited<ReturnType<typeof terminal>>[] = [];
    for (const name of ['t-r1', 't-r2', 't-r3', 't-r4']) racers.push(await terminal(name));
    const store = t!.gw.statusSources.eventStore;
    const heads = new Map(racers.map((r) => [r.who.terminal, 0]));
    const id = testUuid('shared', 1);
    for (let round = 0; round < 5; round++) {
      const roundId = `${id.slice(0, -2)}${String(round).padStart(2, '0')}`;
      const events = await Promise.all(
        racers.map(async (r) => {
          const head = t!.gw.statusSources.eventStore.head(r.who.terminal);
          return signEvent(samplePayload(STORE, r.who.terminal, head.seq + 1, head.hash, { id: roundId }), r.who.signer);
        }),
      );
      await Promise.all(racers.map((r, i) => publishEvent(r.client, r.who.terminal, events[i]!)));
      const owner = await store.eventIdOwner(roundId);
      // Exactly one terminal's head moved this round, and the index names that one.
      const moved = racers.filter((r) => store.head(r.who.terminal).seq > heads.get(r.who.terminal)!);
      expect(moved.map((r) => r.who.terminal), `round ${round}`).toEqual([owner?.terminal]);
      for (const r of racers) heads.set(r.who.terminal, store.head(r.who.terminal).seq);
    }
    const codes = racers.flatMap((r) => rejectsOf(r.inbox, r.who.terminal).map((x) => x.code));
    await waitFor(() => racers.flatMap((r) => rejectsOf(r.inbox, r.who.terminal)).length === 5 * 3, { what: 'every loser refused' });
    expect(new Set(racers.flatMap((r) => rejectsOf(r.inbox, r.who.terminal).map((x) => x.code)))).toEqual(new Set(['DUPLICATE_ID']));
    expect(codes.every((c) => c === 'DUPLICATE_ID')).toBe(true);
  });

  it('gateway ids - retention removes the ids of pruned events from the index', async () => {
    const { who, client } = await terminal('t-old');
    const chain = await signChain(who.signer, STORE, 't-old', 3);
    for (const e of chain) await publishEvent(client, 't-old', e.jws);
    const store = t!.gw.statusSources.eventStore;
    await t!.gw.queue.advanceCursor(t!.gw.queue.head());
    expect(await store.eventIdOwner(chain[0]!.payload.id)).toEqual({ terminal: 't-old', seq: 1 });
    expect(await t!.gw.queue.pruneAccepted(Date.now() + 1, 100)).toBe(3);
    expect(await store.eventIdOwner(chain[0]!.payload.id)).toBeUndefined();
  });
});
