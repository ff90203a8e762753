/**
 * Proves that a damaged write-ahead log does not lose acknowledged events without a word (outside
 * finding: truncating, deleting or flipping bytes in the LevelDB log of a stopped gateway let it
 * start normally with hundreds of acked events missing). A real `tillgate gateway` process stores
 * 300 acknowledged events, is `kill -9`ed (they are in the log, not yet in a table), and its log is
 * truncated, deleted, or has 64 bytes flipped. On restart the gateway says what is missing (which
 * terminal, which seqs) on /api/status, the page and its log as an ALARM, keeps serving, and
 * publishes its true head as the retained ack: a terminal that still holds the lost events resends
 * them and the problem resolves.
 */
import { readdir, stat, truncate, unlink, open as openFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../protocol/topics.js';
import { signChain, testSigner, type SignedChainEvent } from '../support/events.js';
import { endorse } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { assertBuilt, killAll } from '../support/tillgate-process.js';
import { waitFor, within } from '../support/wait.js';
import { spawnGateway, type GatewayProcess } from '../gateway/gateway-process.js';
import { ADMIN_TOKEN, STORE } from '../gateway/support.js';

const EVENTS = 300;

let dir: string | null = null;
const procs: (GatewayProcess | null)[] = [];
const clients: MqttClient[] = [];
beforeAll(() => assertBuilt());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  await killAll(procs.splice(0));
  if (dir !== null) await removeDir(dir);
  dir = null;
});

interface Status {
  integrity: { state: string; problems: { code: string; terminal?: string; seqs?: { from: number; through: number }; message: string }[] };
  terminals: { terminal: string; headSeq: number }[];
}

async function status(gw: GatewayProcess): Promise<Status> {
  return (await (await fetch(`${gw.httpUrl}/api/status`)).json()) as Status;
}

async function enrollT1(gw: GatewayProcess): Promise<string> {
  const signer = testSigner('t-1');
  const res = await fetch(`${gw.httpUrl}/api/terminals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ terminal: 't-1', publicKey: signer.publicKeyRaw.toString('base64url'), endorsement: endorse(STORE, 't-1', signer) }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { password: string }).password;
}

async function terminal(gw: GatewayProcess, password: string): Promise<MqttClient> {
  const c = await within(connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { clientId: 't-1', username: 't-1', password, protocolVersion: 4, reconnectPeriod: 0 }), 10_000, 'connect t-1');
  clients.push(c);
  return c;
}

/** Stores EVENTS acknowledged events, waits for the witness to cover them, then kill -9. */
async function ackedThenKilled(chain: readonly SignedChainEvent[]): Promise<string> {
  dir = await makeTempDir('tillgate-logdamage-');
  const first = await spawnGateway(dir);
  procs.push(first);
  const password = await enrollT1(first);
  // Enrolled long before (a restart replays the log into a table): only the events are at risk.
  expect(await first.stop()).toBe(0);
  const gw = await spawnGateway(dir);
  procs.push(gw);
  const c = await terminal(gw, password);
  for (const e of chain) await within(c.publishAsync(topics.events(STORE, 't-1'), e.jws, { qos: 1 }), 10_000, `publish ${e.seq}`);
  await c.endAsync(true);
  // The witness is written within a second of the last commit.
  await waitFor(async () => JSON.parse(await readFile(join(dir!, 'tillgate-witness.json'), 'utf8').catch(() => '{}')).heads?.['t-1']?.seq === EVENTS, { timeoutMs: 10_000, what: 'the witness' });
  await gw.kill9();
  return password;
}

async function logFile(d: string): Promise<string> {
  const logs = (await readdir(d)).filter((n) => n.endsWith('.log'));
  expect(logs.length).toBeGreaterThan(0);
  const sized = await Promise.all(logs.map(async (n) => ({ n, size: (await stat(join(d, n))).size })));
  return join(d, sized.sort((a, b) => b.size - a.size)[0]!.n);
}

const damage = {
  truncate: async (file: string) => truncate(file, Math.floor((await stat(file)).size * 0.5)),
  delete: (file: string) => unlink(file),
  flip: async (file: string) => {
    const fd = await openFile(file, 'r+');
    try {
      await fd.write(Buffer.alloc(64, 0x5a), 0, 64, Math.floor((await fd.stat()).size / 2));
    } finally {
      await fd.close();
    }
  },
} as const;

describe('gateway write-ahead log damage', () => {
  it.each(['truncate', 'delete'] as const)('log damage (%s) - the acked events lost are named, and resolve when the terminal resends them', async (how) => {
    const chain = await signChain(testSigner('t-1'), STORE, 't-1', EVENTS);
    const password = await ackedThenKilled(chain);
    await damage[how](await logFile(dir!));

    const gw = await spawnGateway(dir!);
    procs.push(gw);
    const s = await status(gw);
    const head = s.terminals.find((t) => t.terminal === 't-1')?.headSeq ?? 0;
    expect(head).toBeLessThan(EVENTS);
    expect(s.integrity.state).toBe('degraded');
    expect(s.integrity.problems).toContainEqual(expect.objectContaining({ code: 'EVENTS_MISSING', terminal: 't-1', seqs: { from: head + 1, through: EVENTS } }));
    expect(gw.stderr()).toContain('ALARM storage integrity');
    const page = await (await fetch(gw.httpUrl)).text();
    expect(page).toContain(`Storage lost data — terminal t-1&#39;s transactions no. ${head + 1}–${EVENTS} are missing on this gateway`);
    // It keeps serving, and its retained ack says where it really stands.
    const c = await terminal(gw, password);
    const acks: { seq: number }[] = [];
    c.on('message', (topic, payload) => topic === topics.ack(STORE, 't-1') && acks.push(JSON.parse(payload.toString()) as { seq: number }));
    await c.subscribeAsync(topics.ack(STORE, 't-1'), { qos: 1 });
    await waitFor(() => acks.length > 0, { what: 'the retained ack' });
    expect(acks[0]?.seq).toBe(head);
    // A terminal that still holds the events resends them: the very same chain comes back.
    for (const e of chain.slice(head)) await within(c.publishAsync(topics.events(STORE, 't-1'), e.jws, { qos: 1 }), 10_000, `resend ${e.seq}`);
    await waitFor(async () => (await status(gw)).integrity.state === 'ok', { timeoutMs: 10_000, what: 'the problem to resolve' });
    // A graceful restart finds nothing more to report.
    await c.endAsync(true);
    expect(await gw.stop()).toBe(0);
    const again = await spawnGateway(dir!);
    procs.push(again);
    expect((await status(again)).integrity).toMatchObject({ state: 'ok', problems: [] });
  }, 90_000);

  it('log damage (flip) - the skipped part of the log and the seqs it held are named', async () => {
    const chain = await signChain(testSigner('t-1'), STORE, 't-1', EVENTS);
    await ackedThenKilled(chain);
    await damage.flip(await logFile(dir!));
    const gw = await spawnGateway(dir!);
    procs.push(gw);
    const s = await status(gw);
    expect(s.integrity.state).toBe('degraded');
    expect(s.integrity.problems.map((p) => p.code)).toContain('LOG_DAMAGED');
    const missing = s.integrity.problems.filter((p) => p.code === 'EVENTS_MISSING' && p.terminal === 't-1');
    expect(missing.length).toBeGreaterThan(0);
    // What is named missing is exactly what the store does not hold.
    const stored = new Set<number>();
    const head = s.terminals.find((t) => t.terminal === 't-1')?.headSeq ?? 0;
    for (let seq = 1; seq <= head; seq++) stored.add(seq);
    for (const p of missing) for (let seq = p.seqs!.from; seq <= p.seqs!.through; seq++) stored.delete(seq);
    expect(stored.size + missing.reduce((n, p) => n + p.seqs!.through - p.seqs!.from + 1, 0)).toBeGreaterThanOrEqual(head);
    expect(gw.stderr()).toContain('ALARM storage integrity');
    expect(await (await fetch(gw.httpUrl)).text()).toContain('Storage lost data');
  }, 90_000);
});
