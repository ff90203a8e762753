import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PacketSizeTracker } from '../../gateway/broker/packet-size-guard.js';
import { signChain, testSigner } from '../support/events.js';
import { within } from '../support/wait.js';
import { connectTerminal, endClient, enroll, publishEvent, startTestGateway, stopTestGateway, STORE, type TestGateway } from './support.js';
import type { MqttClient } from 'mqtt';

/** An MQTT fixed header ([MQTT-2.2]) declaring `length` remaining bytes. */
function fixedHeader(type: number, length: number): Buffer {
  const bytes = [type];
  let n = length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

describe('packet size tracker', () => {
  it('follows packets across chunk boundaries and accepts those within the limit', () => {
    const t = new PacketSizeTracker(1000);
    const stream = Buffer.concat([fixedHeader(0x30, 200), Buffer.alloc(200), fixedHeader(0x32, 999), Buffer.alloc(999), fixedHeader(0xc0, 0)]);
    for (let i = 0; i < stream.length; i += 7) expect(t.feed(stream.subarray(i, i + 7))).toBe(true);
  });

  it('refuses a packet that declares more than the limit, even split mid-length', () => {
    const t = new PacketSizeTracker(1000);
    const header = fixedHeader(0x32, 10 * 1024 * 1024);
    expect(t.feed(header.subarray(0, 2))).toBe(true);
    expect(t.feed(header.subarray(2))).toBe(false);
  });

  it('refuses a remaining length longer than four bytes', () => {
    expect(new PacketSizeTracker(Number.MAX_SAFE_INTEGER).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(false);
  });
});

describe('gateway - bounds the size of one MQTT packet', () => {
  let t: TestGateway | undefined;
  let client: MqttClient | undefined;
  let raw: Socket | undefined;
  afterEach(async () => {
    raw?.destroy();
    await endClient(client);
    await stopTestGateway(t);
    t = client = raw = undefined;
  });

  it('closes a connection that declares a 10 MiB packet at once, counts it, and keeps serving others', async () => {
    t = await startTestGateway({ mqttMaxPacketBytes: 64 * 1024 });
    const good = await enroll(t.gw, 't-1');
    client = await connectTerminal(t.gw, 't-1', good.password);

    const socket = connect(t.gw.mqttPort, '127.0.0.1');
    raw = socket;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(Buffer.concat([fixedHeader(0x32, 10 * 1024 * 1024), Buffer.alloc(4096)]));
    await within(closed, 5_000, 'oversized connection closed');

    const [event] = await signChain(testSigner('t-1'), STORE, 't-1', 1);
    await publishEvent(client, 't-1', event!.jws);
    const status = (await (await t.gw.app.request('/api/status')).json()) as { acl: { oversizeClosed: number }; eventsStored: number };
    expect(status.acl.oversizeClosed).toBe(1);
    expect(status.eventsStored).toBe(1);
  });
});
