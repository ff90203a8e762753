/**
 * Terminals for whole-system tests: enroll over the gateway's HTTP API, publish pre-signed events
 * over real MQTT.js (QoS 1) and wait for every PUBACK, i.e. until the gateway made them durable.
 */
import mqtt from 'mqtt';
import { topics } from '../../../protocol/topics.js';
import { signChain, testSigner, type SignedChainEvent } from '../../support/events.js';
import { endorse } from '../../support/provisioning.js';
import { within } from '../../support/wait.js';

export const ADMIN_TOKEN = 'admin-token-for-tests';
export const CLOUD_TOKEN = 'cloud-token-for-tests';
export const STORE = 's-1';
export const GATEWAY_ID = 'g-1';

export interface TestTerminal {
  readonly terminal: string;
  /** The terminal's store (STORE unless made for another one). */
  readonly store?: string;
  readonly password: string;
  readonly events: SignedChainEvent[];
}

export async function enroll(httpUrl: string, terminal: string, store = STORE): Promise<string> {
  const res = await fetch(`${httpUrl}/api/terminals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ terminal, publicKey: testSigner(terminal).publicKeyRaw.toString('base64url'), endorsement: endorse(store, terminal, testSigner(terminal)) }),
  });
  if (res.status !== 201) throw new Error(`enroll ${terminal}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { password: string }).password;
}

/** Enrolls `count` terminals and signs `eventsEach` events for each. */
export async function makeTerminals(httpUrl: string, count: number, eventsEach: number, prefix = 't', store = STORE): Promise<TestTerminal[]> {
  const out: TestTerminal[] = [];
  for (let i = 1; i <= count; i++) {
    const terminal = `${prefix}-${i}`;
    out.push({ terminal, store, password: await enroll(httpUrl, terminal, store), events: await signChain(testSigner(terminal), store, terminal, eventsEach) });
  }
  return out;
}

/** Publishes `events` in order over one MQTT connection, QoS 1, resolving when all are PUBACKed. */
export async function publish(mqttPort: number, t: TestTerminal, events: readonly SignedChainEvent[], timeoutMs = 30_000): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: t.terminal,
    username: t.terminal,
    password: t.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
  });
  try {
    // A bounded window of publishes in flight (the gateway keeps PUBACK order per client).
    const WINDOW = 50;
    for (let i = 0; i < events.length; i += WINDOW) {
      await within(Promise.all(events.slice(i, i + WINDOW).map((e) => client.publishAsync(topics.events(t.store ?? STORE, t.terminal), e.jws, { qos: 1 }))), timeoutMs, `publish ${t.terminal}`);
    }
  } finally {
    await client.endAsync();
  }
}

/**
 * Publishes `events` in order like `publish`, a window at a time, until `keepGoing()` turns false
 * or the events run out; resolves with how many were PUBACKed (always a whole prefix).
 */
export async function publishWhile(mqttPort: number, t: TestTerminal, events: readonly SignedChainEvent[], keepGoing: () => boolean, timeoutMs = 30_000): Promise<number> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: t.terminal,
    username: t.terminal,
    password: t.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
  });
  const WINDOW = 20;
  let acked = 0;
  try {
    while (acked < events.length && keepGoing()) {
      const window = events.slice(acked, acked + WINDOW);
      await within(Promise.all(window.map((e) => client.publishAsync(topics.events(t.store ?? STORE, t.terminal), e.jws, { qos: 1 }))), timeoutMs, `publish ${t.terminal}`);
      acked += window.length;
    }
    return acked;
  } finally {
    await client.endAsync();
  }
}
