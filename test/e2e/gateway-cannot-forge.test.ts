/**
 * Proves DESIGN §3.1 and §3.4 against the attack itself, with real processes: a gateway cannot
 * forge money.
 * (1) Holding only a gateway's cloud token, an attacker posts ingest requests that enroll a key of
 *     their own for a real terminal — without an endorsement, with one signed by a key that is not a
 *     provisioning key, with genuine endorsements of another terminal, another store or another key —
 *     followed by payments signed with that key: the cloud refuses every one (UNKNOWN_KEY), none
 *     reaches the ledger, and the real terminal's payments still do.
 * (2) Holding only the gateway's admin token, an attacker enrolls a key of their own for a real
 *     terminal at the gateway and publishes forged payments over MQTT: the gateway may store them
 *     (it is not the trust anchor), but the cloud ledger never holds them, and the gateway's status
 *     page, API and alarms show the cloud's refusal.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestResponseSchema, type IngestRequest } from '../../protocol/ingest-api.js';
import { topics } from '../../protocol/topics.js';
import { uuidv7 } from '../../protocol/uuid.js';
import { cloudEvents } from '../chaos/harness/cloud-ledger.js';
import { TestSystem } from '../chaos/harness/system.js';
import { ADMIN_TOKEN, CLOUD_TOKEN, GATEWAY_ID, makeTerminals, publish, STORE } from '../chaos/harness/terminals.js';
import { signChain, testSigner, type SignedChainEvent } from '../support/events.js';
import { endorse, ROGUE_PROVISIONING } from '../support/provisioning.js';
import { waitFor, within } from '../support/wait.js';

let system: TestSystem | null = null;
afterEach(async () => {
  await system?.close();
  system = null;
});

const attacker = testSigner('attacker-device');
const attackerKey = attacker.publicKeyRaw.toString('base64url');

/** An ingest request as the gateway sends it, posted with the gateway's cloud token: all the attacker has. */
async function ingestAsGateway(cloudUrl: string, enrollments: IngestRequest['enrollments'], events: readonly string[]) {
  const body: IngestRequest = { gateway: GATEWAY_ID, store: STORE, batch: uuidv7(Date.now()), enrollments, events: [...events] };
  const res = await fetch(`${cloudUrl}/v1/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CLOUD_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return ingestResponseSchema.parse(await res.json()).results;
}

/** The value of one sample (`name{labels}`) of a Prometheus text exposition, or undefined. */
async function metric(url: string, sample: string): Promise<number | undefined> {
  const line = (await (await fetch(`${url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('a gateway cannot forge money', () => {
  it('attack - with only the gateway cloud token, no self-enrolled key gets a forged payment into the ledger', async () => {
    system = await TestSystem.create();
    const s = system;
    await s.startCloud();
    const cloudUrl = s.cloudUrl;
    // The real terminal: its key endorsed by the operator, 3 payments in the ledger.
    const real = testSigner('real-t-1');
    const realChain = await signChain(real, STORE, 't-1', 6);
    const genuine = { terminal: 't-1', kid: real.kid, publicKey: real.publicKeyRaw.toString('base64url'), at: new Date().toISOString(), endorsement: endorse(STORE, 't-1', real) };
    expect((await ingestAsGateway(cloudUrl, [genuine], realChain.slice(0, 3).map((e) => e.jws))).map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);

    // Forged payments for t-1, signed by the attacker's key and chained onto the real head.
    const forged: SignedChainEvent[] = await signChain(attacker, STORE, 't-1', 2, { seq: 3, hash: realChain[2]!.hash });
    const enrollAttacker = (endorsement: string | undefined) => ({
      terminal: 't-1', kid: attacker.kid, publicKey: attackerKey, at: new Date().toISOString(), ...(endorsement === undefined ? {} : { endorsement }),
    });
    const attempts: [string, string | undefined, string][] = [
      ['(a) no endorsement', undefined, 'ENDORSEMENT_MISSING'],
      ['(b) endorsed by a key that is not a provisioning key', endorse(STORE, 't-1', attacker, ROGUE_PROVISIONING), 'ENDORSEMENT_UNKNOWN_ISSUER'],
      ['(c) a genuine endorsement of the attacker key for another terminal', endorse(STORE, 't-9', attacker), 'ENDORSEMENT_WRONG_TERMINAL'],
      ['(c) a genuine endorsement of the attacker key for another store', endorse('s-2', 't-1', attacker), 'ENDORSEMENT_WRONG_STORE'],
      ['(c) the real terminal\'s genuine endorsement, with the attacker key', genuine.endorsement, 'ENDORSEMENT_WRONG_KEY'],
    ];
    for (const [name, endorsement, reason] of attempts) {
      const results = await ingestAsGateway(cloudUrl, [enrollAttacker(endorsement)], forged.map((e) => e.jws));
      expect(results.map((r) => [r.status, r.code]), name).toEqual([['rejected', 'UNKNOWN_KEY'], ['rejected', 'UNKNOWN_KEY']]);
      expect(await metric(cloudUrl, `tillgate_cloud_enrollments_refused_total{reason="${reason}"}`), name).toBe(1);
    }

    // The ledger holds only the real terminal's payments, and the real terminal carries on.
    const ledger = await cloudEvents(cloudUrl, 't-1');
    expect(ledger.map((e) => e.jws)).toEqual(realChain.slice(0, 3).map((e) => e.jws));
    expect((await ingestAsGateway(cloudUrl, [], realChain.slice(3).map((e) => e.jws))).map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    const after = await cloudEvents(cloudUrl, 't-1');
    expect(after.map((e) => e.jws)).toEqual(realChain.map((e) => e.jws));
    for (const f of forged) expect(after.map((e) => e.jws)).not.toContain(f.jws);
  });

  it('attack - with only the gateway admin token, forged payments published over MQTT never reach the ledger, and the gateway shows the refusal', async () => {
    system = await TestSystem.create();
    const s = system;
    await s.startCloud();
    await s.startGateway();
    // The real terminal t-1 pays 5 times; the cloud has them.
    const [realTerminal] = await makeTerminals(s.gatewayUrl, 1, 5);
    const real = realTerminal!;
    await publish(s.mqttPort, real, real.events);
    await waitFor(async () => (await cloudEvents(s.cloudUrl, real.terminal)).length === 5, { what: 'the real payments in the ledger' });

    // The attacker enrolls a key of their own for t-1 with an endorsement they made themselves:
    // the gateway takes it (it checks names, and is not the trust anchor) and hands out a password.
    const res = await fetch(`${s.gatewayUrl}/api/terminals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ terminal: real.terminal, publicKey: attackerKey, endorsement: endorse(STORE, real.terminal, attacker, ROGUE_PROVISIONING) }),
    });
    expect(res.status).toBe(201);
    const { password } = (await res.json()) as { password: string };

    // Forged payments, signed with the attacker key, chained onto t-1's head, published as t-1.
    const forged = await signChain(attacker, STORE, real.terminal, 3, { seq: 5, hash: real.events[4]!.hash });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.mqttPort}`, { clientId: real.terminal, username: real.terminal, password, protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    const rejects: unknown[] = [];
    client.on('message', (topic, payload) => {
      if (topic === topics.rejects(STORE, real.terminal)) rejects.push(JSON.parse(payload.toString()));
    });
    await client.subscribeAsync(topics.rejects(STORE, real.terminal), { qos: 1 });
    for (const f of forged) await within(client.publishAsync(topics.events(STORE, real.terminal), f.jws, { qos: 1 }), 10_000, 'forged publish');
    await client.endAsync();
    expect(rejects).toEqual([]); // the gateway stored them: it cannot tell, the cloud can

    // The forwarder settles everything it holds (the cursor reaches the queue head)…
    type Forwarding = { forwarder: { deadLetters: number; backlog: number; cursor: number; head: number }; deadLetters: { terminal: string; seq: number; code: string }[] };
    const fwd = await waitFor(async () => {
      const body = (await (await fetch(`${s.gatewayUrl}/api/forwarder`)).json()) as Forwarding;
      return body.forwarder.backlog === 0 && body.forwarder.cursor === body.forwarder.head ? body : null;
    }, { timeoutMs: 20_000, what: 'the gateway to settle every forged payment with the cloud' });

    // …and the ledger never holds a forged payment.
    const ledger = await cloudEvents(s.cloudUrl, real.terminal);
    expect(ledger.map((e) => e.jws)).toEqual(real.events.map((e) => e.jws));
    // The cloud refused them: the gateway dead-lettered all three with UNKNOWN_KEY.
    expect(fwd.deadLetters.map((d) => [d.terminal, d.seq, d.code])).toEqual([[real.terminal, 6, 'UNKNOWN_KEY'], [real.terminal, 7, 'UNKNOWN_KEY'], [real.terminal, 8, 'UNKNOWN_KEY']]);
    expect(await metric(s.cloudUrl, 'tillgate_cloud_enrollments_refused_total{reason="ENDORSEMENT_UNKNOWN_ISSUER"}')).toBeGreaterThanOrEqual(1);

    // The technician sees it: status API, the page's headline and its alarm list, and metrics.
    const status = (await (await fetch(`${s.gatewayUrl}/api/status`)).json()) as { backlog: { deadLetters: number } };
    expect(status.backlog.deadLetters).toBe(3);
    const page = await (await fetch(`${s.gatewayUrl}/`)).text();
    expect(page).toContain('3 payments were refused by the cloud');
    expect(page).toContain('the cloud does not trust the key that signed it');
    expect(await metric(s.gatewayUrl, 'tillgate_forward_dead_letters_events')).toBe(3);
  });
});
