/**
 * Proves DESIGN §4 "bad input gets a clear, coded answer and changes nothing else": malformed
 * JSON, non-JWS payloads, 1 MiB payloads, wrong topics and 10,000 rapid failed CONNECTs are each
 * answered (a reject code, a refused CONNACK, or a closed connection), while a well-behaved
 * terminal keeps getting its events stored and PUBACKed the whole time.
 */
import { connect as netConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { topics } from '../../protocol/topics.js';
import * as b64 from '../../protocol/base64url.js';
import { signChain } from '../support/events.js';
import { waitFor, within } from '../support/wait.js';
import {
  closedWithin, connectTerminal, endClient, enroll, Inbox, publishEvent, startTestGateway, stopTestGateway, STORE, subscribe,
  type TestGateway,
} from '../gateway/support.js';
import { percentile } from '../../bench/report.js';

const FAILED_CONNECTS = 10_000;
const CONNECT_CONCURRENCY = 100;

let t: TestGateway | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map(endClient));
  await stopTestGateway(t);
  t = undefined;
});

/** An MQTT 3.1.1 CONNECT (§3.1) with username and password, built by hand to keep it cheap. */
function connectPacket(clientId: string, username: string, password: string): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  // protocol name, level 4, flags: username + password + clean session, keepalive 30 s
  const variable = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 30])]);
  const payload = Buffer.concat([str(clientId), str(username), str(password)]);
  const remaining = variable.length + payload.length;
  if (remaining > 127) throw new TypeError('keep test CONNECTs short');
  return Buffer.concat([Buffer.from([0x10, remaining]), variable, payload]);
}

/** Sends one CONNECT on a fresh socket; resolves with the CONNACK return code (or -1 if closed first). */
function rawConnect(port: number, packet: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const done = (code: number) => {
      socket.destroy();
      resolve(code);
    };
    socket.setTimeout(10_000, () => done(-2));
    socket.on('connect', () => socket.write(packet));
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4) done(got[0] === 0x20 ? (got[3] as number) : -3);
    });
    socket.on('error', () => done(-1));
    socket.on('close', () => done(-1));
  });
}

describe('gateway bad input', () => {
  it('gateway chaos - malformed, non-JWS, 1 MiB and misaddressed publishes are each answered and change nothing else', async () => {
    t = await startTestGateway();
    const bad = await enroll(t.gw, 't-bad');
    const good = await enroll(t.gw, 't-good');
    const cb = await connectTerminal(t.gw, 't-bad', bad.password);
    const cg = await connectTerminal(t.gw, 't-good', good.password);
    clients.push(cb, cg);
    const inbox = new Inbox(cb);
    await subscribe(cb, topics.rejects(STORE, 't-bad'));
    const chain = await signChain(good.signer, STORE, 't-good', 40);
    let goodIndex = 0;
    const goodLoop = (async () => {
      for (; goodIndex < 20; goodIndex++) await publishEvent(cg, 't-good', chain[goodIndex]!.jws);
    })();
    const header = b64.encode(JSON.stringify({ alg: 'EdDSA', kid: bad.kid }));
    const malformed = [
      `${header}.${b64.encode('{"v":1,"seq":')}.${'A'.repeat(86)}`,
      `${header}.${b64.encode('[1,2,3]')}.${'A'.repeat(86)}`,
      'hello, this is not a JWS',
      '{"json":"but not a JWS"}',
      `${header}..`,
      '',
    ];
    const huge = Buffer.alloc(1024 * 1024, 0x41);
    const events = topics.events(STORE, 't-bad');
    for (const payload of malformed) await within(cb.publishAsync(events, payload, { qos: 1 }), 10_000, 'malformed');
    for (let i = 0; i < 3; i++) await within(cb.publishAsync(events, huge, { qos: 1 }), 10_000, '1 MiB event');
    cb.publish(topics.health(STORE, 't-bad'), huge, { qos: 0 });
    await waitFor(() => inbox.on(topics.rejects(STORE, 't-bad')).length === malformed.length + 3, { what: 'rejects' });
    const codes = inbox.on(topics.rejects(STORE, 't-bad')).map((r) => (r as { code: string }).code);
    expect(codes).toEqual([...malformed.map(() => 'SCHEMA'), 'TOO_LARGE', 'TOO_LARGE', 'TOO_LARGE']);
    await waitFor(() => t!.gw.statusSources.healthStats.invalid === 1, { what: 'oversized health sample dropped' });
    // Wrong topics: the connection is closed (MQTT 3.1.1 has no negative PUBACK); each time.
    for (const topic of ['tillgate/v1/s-1/t-good/events', 'tillgate/v1/other-store/t-bad/events', 'x', 'tillgate/v1/s-1/t-bad/nope']) {
      const c = await connectTerminal(t.gw, 't-bad', bad.password);
      clients.push(c);
      const closed = closedWithin(c);
      c.publish(topic, huge, { qos: 1 });
      await closed;
    }
    await goodLoop;
    expect(t.gw.statusSources.eventStore.head('t-good').seq).toBe(20);
    expect(t.gw.statusSources.eventStore.head('t-bad').seq).toBe(0);
    expect(t.gw.statusSources.eventStore.head('t-good').seq).toBe(goodIndex);
  });

  it('gateway chaos - 10,000 rapid failed CONNECTs are each refused while another terminal keeps publishing', async () => {
    t = await startTestGateway();
    const victim = await enroll(t.gw, 't-victim');
    const good = await enroll(t.gw, 't-good');
    const cg = await connectTerminal(t.gw, 't-good', good.password);
    clients.push(cg);
    // The victim has logged in before: its cached password keeps working through the lockout.
    await endClient(await connectTerminal(t.gw, 't-victim', victim.password));
    const chain = await signChain(good.signer, STORE, 't-good', 2_000);
    let stop = false;
    const latenciesMs: number[] = [];
    const goodLoop = (async () => {
      for (const e of chain) {
        if (stop) break;
        const t0 = performance.now();
        await publishEvent(cg, 't-good', e.jws);
        latenciesMs.push(performance.now() - t0);
      }
    })();
    const port = t.gw.mqttPort;
    const answers = new Map<number, number>();
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < FAILED_CONNECTS) {
        const i = next++;
        // Mostly unknown ids (fail without hashing), some wrong passwords for a known terminal.
        const packet = i % 10 === 0 ? connectPacket('t-victim', 't-victim', `guess-${i}`) : connectPacket(`nobody-${i}`, `nobody-${i}`, 'x');
        const code = await rawConnect(port, packet);
        answers.set(code, (answers.get(code) ?? 0) + 1);
      }
    };
    await within(Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker)), 60_000, 'failed CONNECTs');
    const floodS = (performance.now() - started) / 1000;
    const victimStill = await connectTerminal(t.gw, 't-victim', victim.password);
    clients.push(victimStill);
    stop = true;
    await goodLoop;
    // Every CONNECT got a CONNACK refusing it: 4 bad credentials, 5 locked out, 3 busy.
    const total = [...answers.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(FAILED_CONNECTS);
    expect([...answers.keys()].every((code) => code === 3 || code === 4 || code === 5), JSON.stringify([...answers])).toBe(true);
    expect(answers.get(5) ?? 0).toBeGreaterThan(0);
    expect(latenciesMs.length).toBeGreaterThan(10);
    expect(t.gw.statusSources.eventStore.head('t-good').seq).toBe(latenciesMs.length);
    // Others keep being served: no PUBACK waited anywhere near the flood's length.
    expect(percentile(latenciesMs, 99)).toBeLessThan(Math.max(1_000, floodS * 100));
    expect(victimStill.connected).toBe(true);
  }, 90_000);
});
