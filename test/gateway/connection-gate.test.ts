/**
 * The connection gate's rules with real sockets (a node:net server on 127.0.0.1:0 admitting every
 * accepted socket): idle sockets are bounded per address and in all, the oldest idle one is closed
 * for a newer one, a socket whose CONNECT is being checked and a session are never closed for room,
 * and sessions are bounded on their own.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionGate, IDLE_GRACE_MS } from '../../gateway/broker/connection-gate.js';
import { FakeClock } from '../support/fake-clock.js';
import { waitFor } from '../support/wait.js';

let server: Server | undefined;
const opened: Socket[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

/** A server whose accepted sockets go through `gate`, in accept order. */
async function gated(gate: ConnectionGate): Promise<{ port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  server = createServer((socket) => {
    socket.on('error', () => undefined);
    gate.admit(socket);
    accepted.push(socket);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, accepted };
}

async function open(port: number, count: number, localAddress = '127.0.0.1'): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = connect({ port, host: '127.0.0.1', localAddress });
    s.on('error', () => undefined);
    opened.push(s);
    out.push(s);
    await new Promise((resolve) => s.once('connect', resolve));
  }
  return out;
}

describe('connection gate', () => {
  it('connection gate - past the per-address bound the oldest idle socket goes, never one whose CONNECT is being checked', async () => {
    const clock = new FakeClock();
    const gate = new ConnectionGate({ maxPending: 100, maxPendingPerAddress: 3, maxSessions: 10 }, clock);
    const { port, accepted } = await gated(gate);
    await open(port, 3);
    await waitFor(() => accepted.length === 3);
    gate.connectReceived(accepted[0]); // the oldest has sent CONNECT: it is checked, not idle
    await open(port, 1);
    await waitFor(() => accepted.length === 4);
    // Within the grace a burst from one host is let through (its CONNECTs may be on the way).
    expect(accepted.some((s) => s.destroyed)).toBe(false);
    expect(gate.stats()).toMatchObject({ pending: 3, evicted: 0 });
    clock.advance(IDLE_GRACE_MS + 1);
    await open(port, 1);
    await waitFor(() => accepted.length === 5 && accepted[1]!.destroyed);
    expect(accepted.map((s) => s.destroyed)).toEqual([false, true, false, false, false]);
    expect(gate.stats()).toMatchObject({ pending: 3, evicted: 1 });
    // Another address has its own share: nothing of the first is closed for it.
    await open(port, 3, '127.0.0.3');
    await waitFor(() => accepted.length === 8);
    expect(gate.stats()).toMatchObject({ pending: 6, evicted: 1 });
  });

  it('connection gate - sessions are never closed for room, and are bounded on their own', async () => {
    const gate = new ConnectionGate({ maxPending: 2, maxPendingPerAddress: 2, maxSessions: 1 }, new FakeClock());
    const { port, accepted } = await gated(gate);
    await open(port, 2);
    await waitFor(() => accepted.length === 2);
    expect(gate.authenticated(accepted[0])).toBe(true);
    expect(gate.authenticated(accepted[1])).toBe(false); // the one session slot is taken
    await open(port, 3);
    await waitFor(() => accepted.length === 5);
    expect(accepted[0]!.destroyed).toBe(false);
    expect(gate.stats()).toMatchObject({ sessions: 1, pending: 2, sessionsRefused: 1 });
    accepted[0]!.destroy();
    await waitFor(() => gate.stats().sessions === 0);
  });
});
