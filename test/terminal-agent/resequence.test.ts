/**
 * No terminal stays stuck, and no ack deletes what the gateway does not hold: the agent against a
 * REAL Aedes broker with the DESIGN §3.3 rules (support/mini-gateway.ts, which can refuse with any
 * code, hold a different chain for the terminal, and hold its answers) and a real LevelDB outbox.
 * Refused events are set aside and the rest re-sequenced and delivered; an unknown code is a
 * permanent refusal of that one event; DUPLICATE_ID is delivered; a restored outbox behind the
 * gateway prunes nothing and refuses records (RESYNCING) until it has moved onto the gateway's
 * head; idempotency keys follow their payments; refusals in a row hold the chain (CHAIN_BLOCKED).
 */
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { SealCodec, sealedUtf8 } from '../../lib/at-rest/index.js';
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.js';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent, signEvent } from '../../protocol/jws.js';
import { startAgent, type Agent } from '../../terminal-agent/agent.js';
import { DEFAULT_OFFLINE_LIMITS } from '../../terminal-agent/limits.js';
import { LevelOutbox } from '../../terminal-agent/outbox/level-outbox.js';
import { MemoryOutbox } from '../../terminal-agent/outbox/memory-outbox.js';
import type { Outbox } from '../../terminal-agent/outbox/outbox.js';
import { Recorder } from '../../terminal-agent/recorder.js';
import { Resequencer } from '../../terminal-agent/resequence.js';
import { SerialQueue } from '../../terminal-agent/serial-queue.js';
import { codeOfAsync } from '../support/codes.js';
import { samplePayload, signChain, testSigner } from '../support/events.js';
import { silentLogger } from '../../lib/logger.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { startMiniGateway, type MiniGateway } from './support/mini-gateway.js';
import { tx } from './support/tx.js';

const STORE = 's-1';
const T = 't-1';
const signer = testSigner(T);
const creds = { [T]: { signer, password: 'pw-1' } };
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

async function gateway(): Promise<MiniGateway> {
  const g = await startMiniGateway(STORE, creds);
  gateways.push(g);
  return g;
}

async function levelOutbox(): Promise<Outbox> {
  const dir = await makeTempDir('tillgate-reseq-');
  dirs.push(dir);
  const o = new LevelOutbox(join(dir, 'outbox'), defaultDataKeys(dir));
  await o.open();
  return o;
}

async function agent(url: string, o: Outbox, extra: Partial<Parameters<typeof startAgent>[0]> = {}): Promise<Agent> {
  const a = await startAgent({
    store: STORE, terminal: T, signer, outbox: o, mqttUrl: url, password: 'pw-1',
    random: () => 0.5, backoff: { baseMs: 20, capMs: 200 }, healthIntervalS: 0, publisherLimits: fastLimits, ...extra,
  });
  agents.push(a);
  return a;
}

const storedOf = (g: MiniGateway) => (g.events.get(T) ?? []).map((jws) => decodeEvent(jws).payload);

function expectValidChain(list: readonly string[]): void {
  let prev = '';
  list.forEach((jws, i) => {
    const p = decodeEvent(jws).payload;
    expect(p.seq).toBe(i + 1);
    expect(p.prev).toBe(prev);
    prev = chainHash(jws);
  });
}

describe('re-sequencing onto the gateway head', () => {
  it('resequence - sets an event refused with PAN_DETECTED aside, moves the rest onto the gateway head and delivers them', async () => {
    const g = await gateway();
    const o = await levelOutbox();
    const a = await agent(g.url, o);
    await waitFor(() => o.synced());
    g.refuseEvent(T, 3, 'PAN_DETECTED');
    const ids: string[] = [];
    for (let i = 1; i <= 6; i++) ids.push((await a.record(tx(100 + i), { idempotencyKey: `order-${i}` })).id);
    await waitFor(() => a.stats().depth === 0 && a.stats().ackedSeq === 5, { what: 'the five others delivered' });
    expect(storedOf(g).map((p) => p.id)).toEqual([ids[0], ids[1], ids[3], ids[4], ids[5]]);
    expect(storedOf(g).map((p) => p.amount)).toEqual([101, 102, 104, 105, 106]);
    expectValidChain(g.events.get(T)!);
    const aside = (await a.listSetAside(10)).records;
    expect(aside.map((r) => [r.seq, r.id, r.code])).toEqual([[3, ids[2], 'PAN_DETECTED']]);
    expect(g.sends.get(ids[2]!)).toBe(1); // refused once, never resent
    expect(a.stats()).toMatchObject({ rejected: 1, chain: { kind: 'in-step' }, blocked: undefined, headSeq: 5 });
    // The app's retry of a moved payment gets its new seq and the same id; of the refused one, the truth.
    expect(await a.record(tx(104), { idempotencyKey: 'order-4' })).toEqual({ id: ids[3], seq: 3, offline: false, replayed: true });
    expect(await codeOfAsync(a.record(tx(103), { idempotencyKey: 'order-3' }))).toBe('SET_ASIDE');
    expect((await a.record(tx(107))).seq).toBe(6);
  });

  it('resequence - treats a reject code no gateway sends today as a permanent refusal of that one event and carries on', async () => {
    const g = await gateway();
    const o = await levelOutbox();
    const a = await agent(g.url, o);
    await waitFor(() => o.synced());
    g.refuseEvent(T, 2, 'QUOTA_EXCEEDED_V9');
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await a.record(tx(10 * i))).id);
    await waitFor(() => a.stats().depth === 0 && a.stats().rejected === 1, { what: 'the refused event aside, the rest delivered' });
    expect(storedOf(g).map((p) => p.id)).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    expectValidChain(g.events.get(T)!);
    expect(g.sends.get(ids[1]!)).toBe(1); // not resent forever
    // Refused once; the events in flight behind it were answered SEQ_GAP, then moved and delivered.
    expect(g.rejects.filter((r) => r.code !== 'SEQ_GAP').map((r) => [r.seq, r.code])).toEqual([[2, 'QUOTA_EXCEEDED_V9']]);
    expect(a.stats().ackedSeq).toBe(4);
  });

  it('resequence - an event whose id the gateway already holds (DUPLICATE_ID) counts as delivered, not refused', async () => {
    const g = await gateway();
    // The gateway holds E1..E3; E3 is the payment X the restored outbox below still has pending.
    const gw = await signChain(signer, STORE, T, 3);
    await g.setChain(T, gw.map((e) => e.jws));
    const o = await levelOutbox();
    await o.adoptBase({ seq: 2, hash: gw[1]!.hash });
    const x = gw[2]!.payload.id;
    let prev = gw[1]!.hash;
    const local: { seq: number; id: string }[] = [];
    for (const [seq, id] of [[3, '0190b2d0-0000-7000-8000-00000000000a'], [4, x], [5, '0190b2d0-0000-7000-8000-00000000000b']] as const) {
      const jws = await signEvent(samplePayload(STORE, T, seq, prev, { id, amount: 500 + seq }), signer);
      await o.append({ seq, id, jws, hash: chainHash(jws), exposureMinor: 500 + seq, recordedAtMs: seq });
      local.push({ seq, id });
      prev = chainHash(jws);
    }
    const a = await agent(g.url, o);
    await waitFor(() => a.stats().depth === 0 && a.stats().chain.kind === 'in-step', { what: 'all delivered' });
    expect(storedOf(g).map((p) => p.id)).toEqual([...gw.map((e) => e.payload.id), local[0]!.id, local[2]!.id]);
    expectValidChain(g.events.get(T)!);
    expect(g.rejects.map((r) => r.code)).toContain('DUPLICATE_ID');
    expect(a.stats().rejected).toBe(0);
    expect((await a.listSetAside(10)).records).toEqual([]);
  });
});

describe('a restored outbox', () => {
  it('resequence - an outbox behind the gateway prunes nothing, refuses records with RESYNCING, then moves its payments onto the gateway head', async () => {
    const g = await gateway();
    const gw = await signChain(signer, STORE, T, 10);
    await g.setChain(T, gw.map((e) => e.jws)); // the gateway is at 10
    const o = await levelOutbox();
    await o.adoptBase({ seq: 5, hash: gw[4]!.hash }); // the backup was taken at 5
    // Three payments recorded on the restored terminal before it reached the gateway: seqs 6..8,
    // different from the gateway's 6..8.
    const offline = new Recorder({ store: STORE, terminal: T, signer, outbox: o, clock: systemClock, limits: DEFAULT_OFFLINE_LIMITS, isOffline: () => true });
    const recorded = [];
    for (let i = 1; i <= 3; i++) recorded.push(await offline.record(tx(700 + i), { idempotencyKey: `r-${i}` }));
    expect(recorded.map((r) => r.seq)).toEqual([6, 7, 8]);
    g.pause(); // hold the gateway's answers so the out-of-step state can be seen
    const a = await agent(g.url, o);
    await waitFor(() => a.stats().chain.kind === 'resyncing', { what: 'out of step with the retained ack {10}' });
    expect(a.stats()).toMatchObject({ depth: 3, ackedSeq: 5, headSeq: 8 }); // the ack pruned nothing
    expect(await codeOfAsync(a.record(tx(1)))).toBe('RESYNCING');
    g.resume();
    await waitFor(() => a.stats().depth === 0 && a.stats().chain.kind === 'in-step', { what: 'moved and delivered' });
    const stored = storedOf(g);
    expect(stored.map((p) => p.id)).toEqual([...gw.map((e) => e.payload.id), ...recorded.map((r) => r.id)]);
    expect(stored.slice(10).map((p) => p.amount)).toEqual([701, 702, 703]);
    expectValidChain(g.events.get(T)!);
    expect(a.stats().rejected).toBe(0);
    expect(await a.record(tx(701), { idempotencyKey: 'r-1' })).toEqual({ id: recorded[0]!.id, seq: 11, offline: true, replayed: true });
    expect((await a.record(tx(2))).seq).toBe(14);
  });

  it('resequence - an outbox with nothing pending adopts the gateway head before it records', async () => {
    const g = await gateway();
    const gw = await signChain(signer, STORE, T, 10);
    await g.setChain(T, gw.map((e) => e.jws));
    const o = await levelOutbox();
    await o.adoptBase({ seq: 5, hash: gw[4]!.hash });
    const a = await agent(g.url, o);
    await waitFor(() => o.head().seq === 10 && a.stats().chain.kind === 'in-step', { what: 'adopted the gateway head' });
    expect(o.acked()).toEqual({ seq: 10, hash: gw[9]!.hash });
    expect((await a.record(tx(11))).seq).toBe(11);
    await waitFor(() => a.stats().ackedSeq === 11);
    expectValidChain(g.events.get(T)!);
  });
});

describe('an outbox an older agent left blocked', () => {
  it('resequence - a terminal an older agent blocked behind a set-aside event carries on: the events after the hole move, their keys follow', async () => {
    const g = await gateway();
    const dir = await makeTempDir('tillgate-legacy-');
    dirs.push(dir);
    const location = join(dir, 'outbox');
    let o = new LevelOutbox(location, defaultDataKeys(dir));
    await o.open();
    await o.adoptBase({ seq: 0, hash: '' });
    const r = new Recorder({ store: STORE, terminal: T, signer, outbox: o, clock: systemClock, limits: DEFAULT_OFFLINE_LIMITS, isOffline: () => false });
    const recorded = [];
    for (let i = 1; i <= 5; i++) recorded.push(await r.record(tx(i), { idempotencyKey: `old-${i}` }));
    const first = await o.read(1, 2);
    await g.setChain(T, first.map((e) => e.jws)); // the gateway has 1 and 2
    expect(await o.acknowledge({ seq: 2, hash: first[1]!.hash })).toMatchObject({ kind: 'pruned' });
    await o.close();
    // What the older agent wrote: seq 3 moved to the rejected keyspace (a hole in the pending
    // events), records without their key, and the key's age entry under the event's seq.
    const sealed = sealedUtf8(new SealCodec(defaultDataKeys(dir))); // values are sealed at rest
    const db = new ClassicLevel<string, string>(location, { valueEncoding: 'utf8' });
    const e = db.sublevel<string, string>('e', { valueEncoding: sealed });
    const rj = db.sublevel<string, string>('r', { valueEncoding: sealed });
    const ages = db.sublevel<string, string>('i', { valueEncoding: sealed });
    const pad = (n: number) => String(n).padStart(16, '0');
    const third = JSON.parse((await e.get(pad(3)))!) as Record<string, unknown>;
    await e.del(pad(3));
    await rj.put(pad(3), JSON.stringify({ ...third, code: 'PAN_DETECTED', message: 'old', rejectedAtMs: 1 }));
    for (const seq of [4, 5]) {
      const { idempotencyKey, ...legacy } = JSON.parse((await e.get(pad(seq)))!) as Record<string, unknown>;
      await e.put(pad(seq), JSON.stringify(legacy));
      for await (const [k, v] of ages.iterator()) if ((JSON.parse(v) as { key: string }).key === idempotencyKey) await ages.del(k);
      await ages.put(pad(seq), JSON.stringify({ key: idempotencyKey, recordedAtMs: legacy.recordedAtMs }));
    }
    await db.close();

    o = new LevelOutbox(location, defaultDataKeys(dir));
    const a = await agent(g.url, o);
    await waitFor(() => a.stats().depth === 0 && a.stats().chain.kind === 'in-step', { what: 'the events after the hole delivered' });
    expect(storedOf(g).map((p) => p.id)).toEqual([recorded[0]!.id, recorded[1]!.id, recorded[3]!.id, recorded[4]!.id]);
    expectValidChain(g.events.get(T)!);
    expect((await a.listSetAside(10)).records.map((x) => [x.seq, x.code])).toEqual([[3, 'PAN_DETECTED']]);
    expect(await a.record(tx(5), { idempotencyKey: 'old-5' })).toMatchObject({ id: recorded[4]!.id, seq: 4, replayed: true });
  });
});

describe('refusals in a row', () => {
  it('resequence - holds after maxConsecutiveSetAside refusals in a row, answers CHAIN_BLOCKED, reports it in health, and carries on once the gateway takes the event', async () => {
    const g = await gateway();
    const o = await levelOutbox();
    const host = { rssiDbm: async () => null, batteryPct: async () => null };
    const a = await agent(g.url, o, { publisherLimits: { ...fastLimits, maxConsecutiveSetAside: 2, heldRetryMs: 200 }, healthIntervalS: 0.05, host });
    await waitFor(() => o.synced());
    g.rejectAll(T, 'IDENTITY_MISMATCH');
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) ids.push((await a.record(tx(i))).id);
    await waitFor(() => a.stats().chain.kind === 'held', { what: 'held' });
    expect(a.stats().chain).toEqual({ kind: 'held', seq: 1, code: 'IDENTITY_MISMATCH' });
    expect(a.stats().rejected).toBe(2); // two set aside, then no more
    expect(await codeOfAsync(a.record(tx(5)))).toBe('CHAIN_BLOCKED');
    const sample = await waitFor(() => g.health.find((h) => (h as { setAside?: number; blockedCode?: string }).setAside === 2 && (h as { blockedCode?: string }).blockedCode !== undefined), { what: 'health sample while held' });
    expect(sample).toMatchObject({ blockedSeq: 1, blockedCode: 'IDENTITY_MISMATCH', setAside: 2 });
    g.rejectAll(T, undefined); // the operator fixed it
    await waitFor(() => a.stats().chain.kind === 'in-step' && a.stats().depth === 0, { what: 'carried on', timeoutMs: 10_000 });
    expect(storedOf(g).map((p) => p.id)).toEqual([ids[2], ids[3]]);
    expect((await a.listSetAside(10)).records.map((r) => r.id).sort()).toEqual([ids[0], ids[1]].sort());
    expect((await a.record(tx(6))).seq).toBe(3);
  });
});

describe('record() and re-sequencing share one queue', () => {
  it('resequence - records made while a re-sequence runs follow the new head, and the limits count what moved', async () => {
    const o = new MemoryOutbox();
    await o.open();
    await o.adoptBase({ seq: 0, hash: '' });
    const queue = new SerialQueue();
    const limits = { ...DEFAULT_OFFLINE_LIMITS, maxUnackedAmountMinor: 1_000 };
    const recorder = new Recorder({ store: STORE, terminal: T, signer, outbox: o, clock: systemClock, limits, isOffline: () => true, queue });
    const resequencer = new Resequencer({ outbox: o, signer, queue, clock: systemClock, logger: silentLogger });
    for (let i = 1; i <= 3; i++) await recorder.record(tx(200), { idempotencyKey: `k${i}` });
    expect(o.stats()).toMatchObject({ exposureCount: 3, exposureMinor: 600 });
    const first = await o.idempotencyRecord('k1');
    // The gateway refused seq 1 for good while holding nothing: 2 and 3 move to 1 and 2, and
    // records issued meanwhile queue behind the move.
    const moving = resequencer.run({ gateway: { seq: 0, hash: '' }, acceptedUpTo: 0, refusal: { seq: 1, id: first!.id, code: 'SCHEMA', message: 'x', action: 'set-aside' } });
    const during = [recorder.record(tx(300)), recorder.record(tx(300))];
    expect(await moving).toMatchObject({ kind: 'done', moved: 2, refused: { seq: 1, outcome: 'set-aside' } });
    expect((await Promise.all(during)).map((r) => r.seq)).toEqual([3, 4]);
    expect(o.stats()).toMatchObject({ depth: 4, rejected: 1, exposureCount: 4, exposureMinor: 1_000 });
    expect(await codeOfAsync(recorder.record(tx(1)))).toBe('OFFLINE_LIMIT_TOTAL');
    expect((await o.idempotencyRecord('k3'))?.seq).toBe(2);
  });
});
