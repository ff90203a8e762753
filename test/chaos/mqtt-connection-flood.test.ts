/**
 * Proves that sockets which never authenticate cannot lock terminals out of the broker (outside
 * finding: 1,000 idle TCP connections that never sent CONNECT made 9 of 10 terminal connects fail).
 * 1,000 idle sockets from one host (127.0.0.2), reopened as soon as the gateway closes them, keep
 * pressing on a real gateway (Aedes on 127.0.0.1, real MQTT.js terminals from 127.0.0.1); 10
 * enrolled terminals then each connect at the first try, promptly, and the idle sockets the flood
 * holds stay bounded. Every socket is closed at the end.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { waitFor, within } from '../support/wait.js';
import { connectTerminal, endClient, enroll, startTestGateway, stopTestGateway, type TestGateway } from '../gateway/support.js';

const IDLE_SOCKETS = 1_000;
/** The flooding host: another loopback address than the terminals' (Linux routes all of 127/8 to lo). */
const FLOOD_ADDRESS = '127.0.0.2';
const TERMINALS = 10;
/** "Promptly": a connect on an idle machine takes milliseconds; this only absorbs a loaded CI box. */
const CONNECT_WITHIN_MS = 5_000;
/** How soon a closed flood socket is opened again. */
const REOPEN_AFTER_MS = 10;

let t: TestGateway | undefined;
const clients: MqttClient[] = [];
const sockets = new Set<Socket>();
let flooding = false;
afterEach(async () => {
  flooding = false;
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(clients.splice(0).map(endClient));
  await stopTestGateway(t);
  t = undefined;
});

/** Opens an idle socket (never sends a byte); reopens it when the gateway closes it, while flooding. */
function idleSocket(port: number, opened: { count: number }): Promise<void> {
  return new Promise((resolve) => {
    const socket = netConnect({ port, host: '127.0.0.1', localAddress: FLOOD_ADDRESS });
    sockets.add(socket);
    socket.once('connect', () => {
      opened.count++;
      resolve();
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      sockets.delete(socket);
      resolve();
      // The flood keeps its 1,000 sockets coming back (a short pause, so the test box is not the victim).
      if (flooding) setTimeout(() => void idleSocket(port, opened), REOPEN_AFTER_MS);
    });
  });
}

describe('MQTT connection flood', () => {
  it('connection flood - 1,000 idle sockets from one host do not keep 10 enrolled terminals out', async () => {
    t = await startTestGateway();
    const gw = t.gw;
    const enrolled = [];
    for (let i = 1; i <= TERMINALS; i++) enrolled.push(await enroll(gw, `t-${String(i).padStart(2, '0')}`));
    flooding = true;
    const opened = { count: 0 };
    await within(Promise.all(Array.from({ length: IDLE_SOCKETS }, () => idleSocket(gw.mqttPort, opened))), 30_000, 'the idle sockets');
    expect(opened.count).toBeGreaterThanOrEqual(IDLE_SOCKETS);

    for (const who of enrolled) {
      const started = performance.now();
      const client = await connectTerminal(gw, who.terminal, who.password, { connectTimeout: CONNECT_WITHIN_MS });
      clients.push(client);
      expect(client.connected, who.terminal).toBe(true);
      expect(performance.now() - started, who.terminal).toBeLessThan(CONNECT_WITHIN_MS);
    }
    // Every terminal is still connected while the flood goes on, and the flood stays bounded.
    await waitFor(() => gw.statusSources.presence.connectedCount() === TERMINALS, { what: 'all terminals connected' });
    expect(clients.every((c) => c.connected)).toBe(true);
    const stats = gw.statusSources.connections.stats();
    expect(stats.sessions).toBe(TERMINALS);
    expect(stats.pending).toBeLessThanOrEqual(gw.options.maxPendingConnections);
    expect(stats.evicted).toBeGreaterThan(IDLE_SOCKETS - gw.options.maxPendingConnections);
  }, 60_000);
});
