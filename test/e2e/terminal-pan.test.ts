/**
 * Proves, end to end through a real gateway and a real cloud (`tillgate gateway` and `tillgate
 * cloud` processes) with the real `tillgate terminal run` process: an event the gateway refuses
 * with PAN_DETECTED (written into the outbox below the recorder's own card-number check, as a bug
 * or an older firmware could) no longer stops the terminal. It is set aside, listed on the local
 * API and exported by `tillgate terminal set-aside` (from the running agent and from the stopped
 * one's directory) without the card number; the payments recorded after it are re-sequenced onto
 * the gateway's head and reach the cloud ledger exactly once, chained; an app's retry of one of
 * them gets its new seq. Today's agent set the event aside and sent nothing after it, ever.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { chainHash } from '../../protocol/chain.js';
import type { EventPayload } from '../../protocol/event.js';
import { decodeEvent, signEvent } from '../../protocol/jws.js';
import { cryptoRandom, uuidv7 } from '../../protocol/uuid.js';
import { loadDeviceKey } from '../../terminal-agent/device-key.js';
import { LevelOutbox } from '../../terminal-agent/outbox/level-outbox.js';
import { OUTBOX_DIR, readTerminalFile } from '../../terminal-agent/terminal-dir.js';
import { cloudEvents } from '../chaos/harness/cloud-ledger.js';
import { TestSystem } from '../chaos/harness/system.js';
import { assertBuilt, TILLGATE_BIN } from '../support/tillgate-process.js';
import { waitFor, within } from '../support/wait.js';
import { initAndEnroll } from '../terminal-agent/support/real-gateway.js';
import { drained, record, recordConfirmed, setAsideList, stopTerminalsThenSystem, startTerminal, type TerminalProcess } from '../terminal-agent/support/terminal-process.js';

const T = 't-1';
const PAN = '4111 1111 1111 1111';
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

/** `tillgate ...args` to its end: exit code and stdout lines. */
async function tillgate(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, [TILLGATE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.resume();
  const code = await within(new Promise<number | null>((resolve) => child.once('exit', resolve)), 20_000, `tillgate ${args.join(' ')}`);
  return { code, lines: out.split('\n').filter((l) => l !== '') };
}

/** Appends a signed event holding a card number to a stopped terminal's outbox, as seq head + 1. */
async function injectCardNumberEvent(dir: string): Promise<string> {
  const file = await readTerminalFile(dir);
  const signer = await loadDeviceKey(dir);
  const outbox = new LevelOutbox(join(dir, OUTBOX_DIR), defaultDataKeys(dir)); // the key `terminal run` created
  await outbox.open();
  try {
    const head = outbox.head();
    const now = Date.now();
    const payload: EventPayload = {
      v: 1, store: file.store, terminal: file.terminal, seq: head.seq + 1, prev: head.hash, id: uuidv7(now, cryptoRandom),
      type: 'payment', at: new Date(now).toISOString(), amount: 999, currency: 'EUR', outcome: 'approved', mode: 'online',
      card: { brand: 'visa', last4: '1111' }, note: `customer card ${PAN}`,
    };
    const jws = await signEvent(payload, signer);
    await outbox.append({ seq: payload.seq, id: payload.id, jws, hash: chainHash(jws), exposureMinor: 999, recordedAtMs: now });
    return payload.id;
  } finally {
    await outbox.close();
  }
}

it('terminal e2e - an event refused with PAN_DETECTED is set aside and exportable without the card number, and the payments after it reach the cloud once', async () => {
  system = await TestSystem.create();
  const s = system;
  await s.startCloud();
  await s.startGateway();
  const dir = join(s.dir, T);
  await mkdir(dir);
  await initAndEnroll(dir, T, s.gatewayUrl);
  const confirmed: string[] = [];

  const first = await terminal(dir, s.mqttPort);
  for (let i = 1; i <= 3; i++) confirmed.push((await recordConfirmed(first.api, 100 + i, `pan-${i}`)).id);
  await drained(first.api);
  expect(await first.process.stop()).toBe(0);
  const refusedId = await injectCardNumberEvent(dir); // seq 4

  // Six payments while the gateway is out of reach: seqs 5..10, behind the poisoned seq 4.
  const lostPort = s.mqttPort;
  expect(await s.gateway!.stop()).toBe(0);
  const offline = await terminal(dir, lostPort);
  const after = [];
  for (let i = 5; i <= 10; i++) after.push(await recordConfirmed(offline.api, 100 + i, `pan-${i}`));
  expect(after.map((r) => r.seq)).toEqual([5, 6, 7, 8, 9, 10]);
  confirmed.push(...after.map((r) => r.id));
  expect(await offline.process.stop()).toBe(0);

  await s.startGateway();
  const back = await terminal(dir, s.mqttPort);
  const ledger = await waitFor(async () => {
    const events = await cloudEvents(s.cloudUrl, T);
    return events.length >= 9 ? events : undefined;
  }, { what: 'the nine payments in the cloud ledger', timeoutMs: 30_000 }).catch(() => cloudEvents(s.cloudUrl, T));
  const payloads = ledger.map((e) => decodeEvent(e.jws).payload);
  expect(payloads.map((p) => p.id)).toEqual(confirmed);
  expect(payloads.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  let prev = '';
  for (const e of ledger) {
    expect(decodeEvent(e.jws).payload.prev).toBe(prev);
    prev = chainHash(e.jws);
  }
  expect(await drained(back.api)).toMatchObject({ headSeq: 9, ackedSeq: 9, rejected: 1 });

  // Listed on the local API, without the card number and without its JWS.
  const listed = await setAsideList(back.api);
  expect(listed).toHaveLength(1);
  expect(listed[0]).toMatchObject({ seq: 4, id: refusedId, code: 'PAN_DETECTED', jws: null, event: { amount: 999, note: '[card number removed]' } });
  // The app's retry of a moved payment: same id, new seq; the refused one is not in the cloud.
  expect(await record(back.api, 105, 'pan-5')).toMatchObject({ status: 200, id: after[0]!.id, seq: 4 });
  expect(payloads.some((p) => p.id === refusedId)).toBe(false);

  // Exported by the CLI from the running agent, then from the stopped agent's directory.
  const fromApi = await tillgate(['terminal', 'set-aside', '--api-url', back.api]);
  expect(fromApi.code).toBe(0);
  expect(fromApi.lines.map((l) => JSON.parse(l) as unknown)).toEqual(listed);
  expect(await back.process.stop()).toBe(0);
  const fromDir = await tillgate(['terminal', 'set-aside', '--dir', dir]);
  expect(fromDir.code).toBe(0);
  expect(fromDir.lines.map((l) => JSON.parse(l) as unknown)).toEqual(listed);
  for (const out of [...fromApi.lines, ...fromDir.lines, JSON.stringify(listed)]) expect(out.replace(/\D/g, '')).not.toContain(PAN.replace(/ /g, ''));
}, 120_000);
