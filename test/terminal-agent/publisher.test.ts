/**
 * Publisher mechanics against a real Aedes broker (port 0) with the DESIGN §3.3 ingest rules
 * (support/mini-gateway.ts) and real MQTT.js clients: order, acks, SEQ_GAP, rejects, STORE_FULL,
 * reconnects, reset from the retained ack, WAN status, health samples.
 */
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent } from '../../protocol/jws.js';
import { startAgent, type Agent } from '../../terminal-agent/agent.js';
import { backoffDelayMs } from '../../terminal-agent/backoff.js';
import { LevelOutbox } from '../../terminal-agent/outbox/level-outbox.js';
import type { Outbox } from '../../terminal-agent/outbox/outbox.js';
import { testSigner } from '../support/events.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { startMiniGateway, type MiniGateway } from './support/mini-gateway.js';

const STORE = 's-1';
const T = 't-1';
const creds = { [T]: { signer: testSigner(T), password: 'pw-1' } };
const tx = (amount: number) => ({ type: 'payment', amount, currency: 'EUR', outcome: 'approved', mode: 'online', card: { brand: 'visa', last4: '4242' } });
const fastLimits = { retainedAckWaitMs: 300, retryLaterMs: 200, publishTimeoutMs: 3_000, connectTimeoutMs: 2_000 };

let gateways: MiniGateway[] = [];
let agents: Agent[] = [];
let dirs: string[] = [];

afterEach(async () => {
  for (const a of agents) await a.stop();
  for (const g of gateways) await g.close();
  for (const d of dirs) await removeDir(d);
  gateways = [];
  agents = [];
  dirs = [];
});

async function gateway(port = 0): Promise<MiniGateway> {
  const g = await startMiniGateway(STORE, creds, port);
  gateways.push(g);
  return g;
}

async function outbox(): Promise<{ outbox: Outbox; dir: string }> {
  const dir = await makeTempDir('tillgate-pub-');
  dirs.push(dir);
  return { outbox: new LevelOutbox(join(dir, 'outbox'), defaultDataKeys(dir)), dir };
}

async function agent(url: string, o: Outbox, extra: Parameters<typeof startAgent>[0] extends infer A ? Partial<A> : never = {}): Promise<Agent> {
  const a = await startAgent({
    store: STORE, terminal: T, signer: creds[T].signer, outbox: o, mqttUrl: url, password: creds[T].password,
    random: () => 0.5, backoff: { baseMs: 20, capMs: 200 }, healthIntervalS: 0, publisherLimits: fastLimits, ...extra,
  });
  agents.push(a);
  return a;
}

function stored(g: MiniGateway): number[] {
  return (g.events.get(T) ?? []).map((jws) => decodeEvent(jws).payload.seq);
}

function expectValidChain(list: string[]): void {
  let prev = '';
  list.forEach((jws, i) => {
    const p = decodeEvent(jws).payload;
    expect(p.seq).toBe(i + 1);
    expect(p.prev).toBe(prev);
    prev = chainHash(jws);
  });
}

describe('publisher', () => {
  it('publisher - delivers recorded events once, in order, and the retained ack empties the outbox', async () => {
    const g = await gateway();
    const { outbox: o } = await outbox();
    const a = await agent(g.url, o);
    await waitFor(() => o.synced(), { what: 'sync' });
    for (let i = 1; i <= 50; i++) await a.record(tx(i));
    await waitFor(() => a.stats().ackedSeq === 50 && a.stats().depth === 0, { what: 'all acked' });
    expect(stored(g)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expectValidChain(g.events.get(T)!);
    expect(g.rejects).toEqual([]);
  });

  it('publisher - keeps recording while the broker is down and delivers everything when it is back', async () => {
    const g = await gateway();
    const { outbox: o } = await outbox();
    const a = await agent(g.url, o);
    await waitFor(() => a.publisher.link.kind === 'connected' && o.synced(), { what: 'connected' });
    await a.record(tx(1));
    await waitFor(() => a.stats().ackedSeq === 1);
    const port = g.port;
    const kept = g.events.get(T)!;
    await g.close();
    gateways = [];
    await waitFor(() => a.isOffline(), { what: 'offline' });
    for (let i = 2; i <= 20; i++) expect((await a.record(tx(i))).offline).toBe(true);
    expect(a.stats().depth).toBe(19);
    const g2 = await gateway(port);
    g2.restore(T, kept); // the gateway's store survives its restart
    await waitFor(() => a.stats().ackedSeq === 20, { what: 'all acked after restart', timeoutMs: 10_000 });
    expect(stored(g2)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expectValidChain(g2.events.get(T)!);
  });

  it('publisher - resends from expected after SEQ_GAP and the gateway ends with a gapless chain', async () => {
    const g = await gateway();
    const { outbox: o } = await outbox();
    const a = await agent(g.url, o);
    await waitFor(() => o.synced());
    g.dropSeq(T, 3);
    for (let i = 1; i <= 10; i++) await a.record(tx(i));
    await waitFor(() => a.stats().ackedSeq === 10, { what: 'acked after gap' });
    expect(g.rejects.some((r) => r.code === 'SEQ_GAP')).toBe(true);
    expectValidChain(g.events.get(T)!);
    expect(stored(g)).toHaveLength(10);
  });

  it('publisher - moves an event refused with BAD_CHAIN onto the gateway head instead of setting it aside', async () => {
    const g = await gateway();
    const { outbox: o } = await outbox();
    const a = await agent(g.url, o);
    await waitFor(() => o.synced());
    g.rejectSeq(T, 3, 'BAD_CHAIN');
    for (let i = 1; i <= 6; i++) await a.record(tx(i));
    await waitFor(() => a.stats().ackedSeq === 6 && a.stats().depth === 0, { what: 'all six delivered' });
    expect(g.rejects.filter((r) => r.seq === 3).map((r) => r.code)).toEqual(['BAD_CHAIN']);
    expect(stored(g)).toEqual([1, 2, 3, 4, 5, 6]);
    expectValidChain(g.events.get(T)!);
    expect((await o.listSetAside(10)).records).toEqual([]); // the event was fine: nothing set aside
    expect(a.stats()).toMatchObject({ rejected: 0, chain: { kind: 'in-step' }, blocked: undefined });
  });

  it('publisher - holds events while the gateway store is full and sends them once it accepts again', async () => {
    const g = await gateway();
    const { outbox: o } = await outbox();
    const a = await agent(g.url, o);
    await waitFor(() => o.synced());
    g.storeFull = true;
    for (let i = 1; i <= 5; i++) await a.record(tx(i));
    await waitFor(() => g.rejects.some((r) => r.code === 'STORE_FULL'));
    expect(a.stats().depth).toBe(5);
    expect(a.publisher.blocked).toBeUndefined();
    g.storeFull = false;
    await g.publishStatus({ wan: 'online', accepting: true });
    await waitFor(() => a.stats().ackedSeq === 5, { what: 'acked after STORE_FULL' });
    expectValidChain(g.events.get(T)!);
  });

  it('publisher - a wiped terminal continues from the retained ack with a valid chain', async () => {
    const g = await gateway();
    const first = await outbox();
    const a = await agent(g.url, first.outbox);
    await waitFor(() => first.outbox.synced());
    for (let i = 1; i <= 5; i++) await a.record(tx(i));
    await waitFor(() => a.stats().ackedSeq === 5);
    await a.stop();
    const wiped = await outbox(); // a new, empty outbox: the device was reset
    const b = await agent(g.url, wiped.outbox);
    await waitFor(() => wiped.outbox.synced(), { what: 'synced from retained ack' });
    expect(wiped.outbox.head().seq).toBe(5);
    expect((await b.record(tx(6))).seq).toBe(6);
    await waitFor(() => b.stats().ackedSeq === 6);
    expectValidChain(g.events.get(T)!);
    expect(g.rejects).toEqual([]);
  });

  it('publisher - reconnects after the broker drops the link and counts it', async () => {
    const g = await gateway();
    const { outbox: o } = await outbox();
    const a = await agent(g.url, o);
    await waitFor(() => a.publisher.link.kind === 'connected' && o.synced());
    g.dropClients();
    await waitFor(() => a.publisher.counters.reconnects >= 1 && a.publisher.link.kind === 'connected', { what: 'reconnected' });
    await a.record(tx(1));
    await waitFor(() => a.stats().ackedSeq === 1);
  });

  it('publisher - is offline when the gateway says the WAN is not online', async () => {
    const g = await gateway();
    const { outbox: o } = await outbox();
    const a = await agent(g.url, o);
    await waitFor(() => a.publisher.link.kind === 'connected' && o.synced());
    expect(a.isOffline()).toBe(false);
    await g.publishStatus({ wan: 'offline', accepting: true });
    await waitFor(() => a.isOffline(), { what: 'offline from status' });
    expect((await a.record(tx(100))).offline).toBe(true);
    await g.publishStatus({ wan: 'online', accepting: true });
    await waitFor(() => !a.isOffline());
  });

  it('publisher - publishes health samples with the DESIGN §5.3 fields', async () => {
    const g = await gateway();
    const { outbox: o } = await outbox();
    const host = { rssiDbm: async () => -61, batteryPct: async () => 77 };
    await agent(g.url, o, { healthIntervalS: 0.05, host });
    const sample = await waitFor(() => g.health[0], { what: 'health sample' });
    expect(sample).toMatchObject({ rssiDbm: -61, batteryPct: 77, reconnects: 0, outboxDepth: 0, errors: expect.any(Number) });
    expect(Object.keys(sample as object)).toEqual(expect.arrayContaining(['at', 'rttMs', 'outboxOldestAgeS']));
  });
});

describe('backoff', () => {
  it('backoff - grows exponentially to the cap with full jitter from the injected randomness', () => {
    const o = { baseMs: 100, capMs: 1_000 };
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelayMs(n, o, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelayMs(5, o, () => 0)).toBe(0);
  });
});
