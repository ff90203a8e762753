/** Gateway test helpers: a real gateway in a temp dir, enrolled terminals, real MQTT.js clients. */
import type { EventEmitter } from 'node:events';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { startGateway, type GatewayDeps, type GatewayHandle, type GatewayOptionsInput } from '../../gateway/index.js';
import { silentLogger } from '../../lib/logger.js';
import { topics } from '../../protocol/topics.js';
import type { KeyObjectSigner } from '../../protocol/signer.js';
import { testSigner } from '../support/events.js';
import { endorse } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { onceWithin, within } from '../support/wait.js';

export const STORE = 's-1';
export const ADMIN_TOKEN = 'admin-token-for-tests';

export interface TestGateway {
  readonly gw: GatewayHandle;
  readonly dataDir: string;
}

/** Starts a gateway on 127.0.0.1 with ephemeral ports in a fresh temp dir. */
export async function startTestGateway(overrides: Partial<GatewayOptionsInput> = {}, deps: GatewayDeps = {}): Promise<TestGateway> {
  const dataDir = overrides.dataDir ?? (await makeTempDir('tillgate-gw-'));
  const gw = await startGateway(
    { dataDir, store: STORE, gatewayId: 'g-1', adminToken: ADMIN_TOKEN, host: '127.0.0.1', mqttPort: 0, httpPort: 0, logLevel: 'silent', ...overrides },
    { logger: silentLogger, ...deps },
  );
  return { gw, dataDir };
}

export async function stopTestGateway(t: TestGateway | undefined, keepDir = false): Promise<void> {
  if (t === undefined) return;
  await t.gw.close();
  if (!keepDir) await removeDir(t.dataDir);
}

export interface Enrolled {
  readonly terminal: string;
  readonly signer: KeyObjectSigner;
  readonly password: string;
  readonly kid: string;
}

/** Enrolls `terminal` (its deterministic test key unless one is given, endorsed by the test provisioning key) over the HTTP API. */
export async function enroll(gw: GatewayHandle, terminal: string, signer: KeyObjectSigner = testSigner(terminal)): Promise<Enrolled> {
  const res = await gw.app.request('/api/terminals', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ terminal, publicKey: signer.publicKeyRaw.toString('base64url'), endorsement: endorse(STORE, terminal, signer) }),
  });
  if (res.status !== 201) throw new Error(`enroll ${terminal}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { kid: string; password: string };
  return { terminal, signer, password: body.password, kid: body.kid };
}

/** A real MQTT.js client connected as `terminal`; no automatic reconnect (tests control it). */
export async function connectTerminal(gw: GatewayHandle, terminal: string, password: string, extra: IClientOptions = {}): Promise<MqttClient> {
  return within(
    connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, {
      clientId: terminal, username: terminal, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...extra,
    }),
    10_000,
    `connect ${terminal}`,
  );
}

export async function endClient(client: MqttClient | undefined): Promise<void> {
  if (client === undefined) return;
  await within(client.endAsync(true), 5_000, 'end client').catch(() => undefined);
}

/** Publishes one event (QoS 1) and resolves at PUBACK. */
export function publishEvent(client: MqttClient, terminal: string, jws: string): Promise<unknown> {
  return within(client.publishAsync(topics.events(STORE, terminal), jws, { qos: 1 }), 10_000, `publish for ${terminal}`);
}

/** Collects JSON messages the client receives, by topic. */
export class Inbox {
  readonly messages: { topic: string; body: unknown; retain: boolean }[] = [];
  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        body = payload.toString('utf8');
      }
      this.messages.push({ topic, body, retain: packet.retain });
    });
  }
  on(topic: string): unknown[] {
    return this.messages.filter((m) => m.topic === topic).map((m) => m.body);
  }
}

/** Subscribes at QoS 1; returns the granted QoS, or 128 when the broker refused. */
export async function subscribe(client: MqttClient, topic: string): Promise<number> {
  try {
    const granted = await within(client.subscribeAsync(topic, { qos: 1 }), 5_000, `subscribe ${topic}`);
    return granted[0]?.qos ?? -1;
  } catch (err) {
    // MQTT.js rejects a SUBACK carrying 0x80 (failure, MQTT 3.1.1 §3.9.3).
    if ((err as Error).name === 'ErrorWithSubackPacket') return 128;
    throw err;
  }
}

/** Resolves when the client is closed by the broker. */
export function closedWithin(client: MqttClient, timeoutMs = 5_000): Promise<unknown> {
  return client.connected ? onceWithin(client as unknown as EventEmitter, 'close', timeoutMs) : Promise.resolve();
}
