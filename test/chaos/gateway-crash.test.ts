/**
 * Proves DESIGN §4 "durable before acknowledged" for the gateway with a real child process: 20
 * terminals publish signed chains while `tillgate gateway` is `kill -9`ed several times and
 * restarted on the same data dir. A terminal resends only what it has not seen PUBACKed, so a lost
 * acknowledged event would show up as a SEQ_GAP or a retained ack behind what it saw; after the
 * last graceful shutdown the LevelDB dir holds every event exactly once, contiguous, chain valid.
 */
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type MqttClient } from 'mqtt';
import { LevelEventStore } from '../../gateway/store/level-event-store.js';
import { chainHash } from '../../protocol/chain.js';
import { topics } from '../../protocol/topics.js';
import { signChain, testSigner, type SignedChainEvent } from '../support/events.js';
import { endorse } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor, within } from '../support/wait.js';
import { assertBuilt, killAll } from '../support/tillgate-process.js';
import { spawnGateway, type GatewayProcess } from '../gateway/gateway-process.js';
import { ADMIN_TOKEN, STORE } from '../gateway/support.js';

const TERMINALS = 20;
const EVENTS_PER_TERMINAL = 150;
const KILLS = 4;
const ACKS_BETWEEN_KILLS = 350;
/** Publishes in flight per terminal (MQTT.js pipelines; the gateway keeps PUBACK order). */
const WINDOW = 16;

class CrashTerminal {
  acked = 0;
  readonly violations: string[] = [];
  #client: MqttClient | undefined;

  constructor(readonly name: string, readonly password: string, readonly chain: readonly SignedChainEvent[]) {}

  /** One connection: resend from acked+1 until done or the gateway goes away. */
  session(mqttPort: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const client = connect(`mqtt://127.0.0.1:${mqttPort}`, {
        clientId: this.name, username: this.name, password: this.password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000,
      });
      this.#client = client;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        client.end(true);
        resolve();
      };
      client.on('error', () => finish());
      client.on('close', () => finish());
      client.on('message', (topic, payload) => {
        const body = JSON.parse(payload.toString()) as { seq: number; code?: string };
        if (topic === topics.rejects(STORE, this.name)) this.violations.push(`reject ${body.code} at seq ${body.seq} (acked ${this.acked})`);
        // DESIGN §3.3: the retained ack covers every event this terminal saw PUBACKed.
        if (topic === topics.ack(STORE, this.name) && body.seq < this.acked) this.violations.push(`ack ${body.seq} behind acked ${this.acked}`);
      });
      client.on('connect', () => {
        client.subscribe([topics.ack(STORE, this.name), topics.rejects(STORE, this.name)], { qos: 1 }, (err) => {
          if (err) return finish();
          let next = this.acked + 1;
          const pump = () => {
            while (!finished && next <= this.chain.length && next - this.acked <= WINDOW) {
              const e = this.chain[next - 1]!;
              next++;
              client.publish(topics.events(STORE, this.name), e.jws, { qos: 1 }, (perr) => {
                if (perr || finished) return;
                if (e.seq !== this.acked + 1) this.violations.push(`PUBACK for ${e.seq} after ${this.acked}`);
                this.acked = Math.max(this.acked, e.seq);
                if (this.acked === this.chain.length) finish();
                else pump();
              });
            }
          };
          if (this.acked === this.chain.length) finish();
          else pump();
        });
      });
    });
  }

  stop(): void {
    this.#client?.end(true);
  }
}

let dataDir: string;
let gw: GatewayProcess | undefined;
let terminals: CrashTerminal[] = [];

beforeAll(async () => {
  assertBuilt();
  dataDir = await makeTempDir('tillgate-crash-');
});

afterAll(async () => {
  for (const t of terminals) t.stop();
  await killAll([gw]);
  await removeDir(dataDir);
});

async function enrollAll(p: GatewayProcess): Promise<CrashTerminal[]> {
  const out: CrashTerminal[] = [];
  for (let i = 0; i < TERMINALS; i++) {
    const name = `crash-${i}`;
    const signer = testSigner(name);
    const res = await fetch(`${p.httpUrl}/api/terminals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ terminal: name, publicKey: signer.publicKeyRaw.toString('base64url'), endorsement: endorse(STORE, name, signer) }),
    });
    expect(res.status).toBe(201);
    const { password } = (await res.json()) as { password: string };
    out.push(new CrashTerminal(name, password, await signChain(signer, STORE, name, EVENTS_PER_TERMINAL)));
  }
  return out;
}

const totalAcked = () => terminals.reduce((n, t) => n + t.acked, 0);
const allDone = () => terminals.every((t) => t.acked === EVENTS_PER_TERMINAL);

describe('gateway crash safety', () => {
  it('gateway chaos - every event a terminal saw PUBACKed survives repeated kill -9, exactly once, contiguous, chain valid', async () => {
    gw = await spawnGateway(dataDir);
    terminals = await enrollAll(gw);
    for (let kill = 0; kill < KILLS; kill++) {
      const sessions = terminals.map((t) => t.session(gw!.mqttPort));
      const target = Math.min(totalAcked() + ACKS_BETWEEN_KILLS, TERMINALS * EVENTS_PER_TERMINAL - 1);
      await waitFor(() => totalAcked() >= target || allDone(), { timeoutMs: 20_000, intervalMs: 2, what: `acks before kill ${kill + 1}` });
      await gw.kill9();
      await within(Promise.all(sessions), 10_000, 'sessions end after kill');
      gw = await spawnGateway(dataDir);
    }
    const killedAt = totalAcked();
    while (!allDone()) {
      await within(Promise.all(terminals.map((t) => t.session(gw!.mqttPort))), 30_000, 'final sessions');
    }
    expect(await gw.stop()).toBe(0);
    expect(terminals.flatMap((t) => t.violations)).toEqual([]);
    expect(killedAt).toBeGreaterThan(KILLS * 100);

    const store = await LevelEventStore.open({ dataDir, rejectsKeep: 1_000, keys: defaultDataKeys(dataDir) });
    try {
      for (const t of terminals) {
        const stored = await store.queue.readTerminalEvents(t.name, 1, EVENTS_PER_TERMINAL + 10);
        expect(stored.map((e) => e.seq)).toEqual(t.chain.map((e) => e.seq));
        expect(stored.map((e) => e.jws)).toEqual(t.chain.map((e) => e.jws));
        let prev = '';
        for (const e of stored) {
          expect(JSON.parse(Buffer.from(e.jws.split('.')[1]!, 'base64url').toString()).prev).toBe(prev);
          prev = chainHash(e.jws);
        }
        expect(store.head(t.name)).toEqual({ seq: EVENTS_PER_TERMINAL, hash: prev });
      }
      // Exactly once in the forward queue too: every (terminal, seq) at one position.
      const seen = new Set<string>();
      let events = 0;
      for (let after = 0; after < store.queue.head();) {
        const page = await store.queue.readAfter(after, 1000, 1 << 24);
        for (const e of page) {
          if (e.kind !== 'event') continue;
          const key = `${e.terminal}/${e.seq}`;
          expect(seen.has(key), key).toBe(false);
          seen.add(key);
          events++;
        }
        after = page.at(-1)!.pos;
      }
      expect(events).toBe(TERMINALS * EVENTS_PER_TERMINAL);
      expect(store.stats().eventsStored).toBe(TERMINALS * EVENTS_PER_TERMINAL);
      expect(store.stats().rejectsByCode).toEqual({});
    } finally {
      await store.close();
    }
  }, 120_000);
});
