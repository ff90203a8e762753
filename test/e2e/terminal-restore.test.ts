/**
 * Proves, end to end through a real gateway and a real cloud (`tillgate gateway` and `tillgate
 * cloud` processes) with the real `tillgate terminal run` process: a terminal whose directory is
 * restored from a backup taken at seq 5 while the gateway is at 10 never deletes a payment it
 * confirmed. Every payment the app got a 201 for reaches the cloud ledger exactly once (by event
 * id), in one gapless valid chain, whether the restored terminal reaches the gateway before it
 * records (it adopts the gateway's head first) or records while the gateway is out of reach (its
 * payments are re-sequenced onto the gateway's head). Today's agent pruned its own, different seqs
 * up to the gateway's retained ack on the restart, and blocked on the first CONFLICT.
 */
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent } from '../../protocol/jws.js';
import { cloudEvents } from '../chaos/harness/cloud-ledger.js';
import { TestSystem } from '../chaos/harness/system.js';
import { assertBuilt } from '../support/tillgate-process.js';
import { waitFor } from '../support/wait.js';
import { initAndEnroll } from '../terminal-agent/support/real-gateway.js';
import { drained, recordConfirmed, restore, stopTerminalsThenSystem, startTerminal, terminalStatus, type TerminalProcess } from '../terminal-agent/support/terminal-process.js';

const T = 't-1';
let system: TestSystem | null = null;
let terminals: TerminalProcess[] = [];

beforeAll(() => assertBuilt());
afterEach(async () => {
  await stopTerminalsThenSystem(terminals, system);
  [terminals, system] = [[], null];
}, 60_000);

async function terminal(dir: string, mqttPort: number): Promise<TerminalProcess> {
  const t = await startTerminal(dir, mqttPort);
  terminals.push(t);
  return t;
}

async function stop(t: TerminalProcess): Promise<void> {
  expect(await t.process.stop()).toBe(0);
}

/** Records `count` payments, as the app does (retrying "not now"); returns their ids, in order. */
async function pay(t: TerminalProcess, from: number, count: number, confirmed: Map<string, number>): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const r = await recordConfirmed(t.api, 100 + i, `pay-${i}`);
    confirmed.set(r.id, 100 + i);
  }
}

/** The state before the restore: 5 payments, a backup of the stopped terminal, 5 more, all acked. */
async function backupAtFiveGatewayAtTen(s: TestSystem, confirmed: Map<string, number>): Promise<{ dir: string; backup: string }> {
  const dir = join(s.dir, T);
  const backup = join(s.dir, `${T}-backup`);
  await mkdir(dir);
  await initAndEnroll(dir, T, s.gatewayUrl);
  const first = await terminal(dir, s.mqttPort);
  await pay(first, 1, 5, confirmed);
  expect((await drained(first.api)).ackedSeq).toBe(5);
  await stop(first);
  await cp(dir, backup, { recursive: true }); // the backup: the agent is stopped at seq 5
  const second = await terminal(dir, s.mqttPort);
  await pay(second, 6, 5, confirmed);
  expect((await drained(second.api)).ackedSeq).toBe(10);
  await stop(second);
  return { dir, backup };
}

/** Every confirmed payment in the cloud ledger exactly once, and nothing else; seqs 1..n chained. */
async function expectLedgerHoldsEveryConfirmedPaymentOnce(s: TestSystem, confirmed: ReadonlyMap<string, number>): Promise<void> {
  // Bounded wait for the ledger to fill; if it does not, the checks below say what is missing.
  const ledger = await waitFor(async () => {
    const events = await cloudEvents(s.cloudUrl, T);
    return events.length >= confirmed.size ? events : undefined;
  }, { what: `${confirmed.size} confirmed payments in the cloud ledger`, timeoutMs: 30_000 }).catch(() => cloudEvents(s.cloudUrl, T));
  const payloads = ledger.map((e) => decodeEvent(e.jws).payload);
  const ids = payloads.map((p) => p.id);
  expect(ids.filter((id) => !confirmed.has(id))).toEqual([]); // nothing that was not confirmed
  expect([...confirmed.keys()].filter((id) => !ids.includes(id))).toEqual([]); // nothing lost
  expect(new Set(ids).size).toBe(ids.length); // nothing twice
  expect(payloads.map((p) => p.amount)).toEqual(payloads.map((p) => confirmed.get(p.id)));
  let prev = '';
  ledger.forEach((e, i) => {
    expect(e.seq).toBe(i + 1);
    expect(decodeEvent(e.jws).payload.prev).toBe(prev);
    prev = chainHash(e.jws);
  });
}

describe('a terminal restored from a backup', () => {
  it('terminal e2e - restored at seq 5 while the gateway is at 10, records 30 and restarts: every confirmed payment is in the cloud ledger once', async () => {
    system = await TestSystem.create();
    const s = system;
    await s.startCloud();
    await s.startGateway();
    const confirmed = new Map<string, number>();
    const { dir, backup } = await backupAtFiveGatewayAtTen(s, confirmed);

    await restore(backup, dir);
    const restored = await terminal(dir, s.mqttPort);
    await pay(restored, 11, 30, confirmed); // all 201 (the app retries while the terminal answers 503)
    await stop(restored);
    const restarted = await terminal(dir, s.mqttPort);

    await expectLedgerHoldsEveryConfirmedPaymentOnce(s, confirmed);
    expect(confirmed.size).toBe(40);
    const status = await drained(restarted.api);
    expect(status).toMatchObject({ headSeq: 40, ackedSeq: 40, rejected: 0 });
  }, 120_000);

  it('terminal e2e - restored, records 30 while the gateway is out of reach, then meets it: the payments move onto its head, none lost', async () => {
    system = await TestSystem.create();
    const s = system;
    await s.startCloud();
    await s.startGateway();
    const confirmed = new Map<string, number>();
    const { dir, backup } = await backupAtFiveGatewayAtTen(s, confirmed);

    await restore(backup, dir);
    const lostPort = s.mqttPort;
    expect(await s.gateway!.stop()).toBe(0); // the gateway is out of reach
    const restored = await terminal(dir, lostPort);
    const offline = [];
    for (let i = 11; i <= 40; i++) {
      const r = await recordConfirmed(restored.api, 100 + i, `pay-${i}`);
      confirmed.set(r.id, 100 + i);
      offline.push(r);
    }
    // Recorded on the restored chain, continuing from the backup's seq 5: seqs 6..35, offline.
    expect(offline.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 6 + i));
    expect(offline.every((r) => r.offline === true)).toBe(true);
    await stop(restored);

    await s.startGateway(); // back, on the same data (new port)
    const restarted = await terminal(dir, s.mqttPort);
    await expectLedgerHoldsEveryConfirmedPaymentOnce(s, confirmed);
    const status = await drained(restarted.api);
    expect(status).toMatchObject({ headSeq: 40, ackedSeq: 40, rejected: 0 });
    // The app's retry of a moved payment: same id, its new seq (was 6, now 11).
    const again = await fetch(`${restarted.api}/record`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'pay-11' },
      body: JSON.stringify({ type: 'payment', amount: 111, currency: 'EUR', outcome: 'approved', mode: 'online', card: { brand: 'visa', last4: '4242' } }),
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: offline[0]!.id, seq: 11, replayed: true });
    expect((await terminalStatus(restarted.api)).headSeq).toBe(40);
  }, 120_000);
});
