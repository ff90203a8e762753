/** The local record API (Hono app.request) and the small host/file pieces of the agent. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kidOf } from '../../protocol/keys.js';
import { createDeviceKey, loadDeviceKey } from '../../terminal-agent/device-key.js';
import { linuxHostReadings, parseWireless } from '../../terminal-agent/host-readings.js';
import { DEFAULT_OFFLINE_LIMITS } from '../../terminal-agent/limits.js';
import { MemoryOutbox } from '../../terminal-agent/outbox/memory-outbox.js';
import { createRecordApp, MAX_RECORD_BODY_BYTES } from '../../terminal-agent/record-api.js';
import { Recorder } from '../../terminal-agent/recorder.js';
import { PASSWORD_FILE, readPassword, readTerminalFile, writePassword, writeTerminalFile } from '../../terminal-agent/terminal-dir.js';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent, signEvent } from '../../protocol/jws.js';
import { samplePayload, testSigner, testUuid } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';

const tx = { type: 'payment', amount: 1_500, currency: 'EUR', outcome: 'approved', mode: 'online', card: { brand: 'visa', last4: '4242' } };
const post = (app: ReturnType<typeof createRecordApp>, body: string, headers: Record<string, string> = {}) =>
  app.request('/record', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('record API', () => {
  let outbox: MemoryOutbox;
  let app: ReturnType<typeof createRecordApp>;
  beforeEach(async () => {
    outbox = new MemoryOutbox();
    await outbox.open();
    await outbox.adoptBase({ seq: 0, hash: '' });
    const recorder = new Recorder({ store: 's-1', terminal: 't-1', signer: testSigner('t-1'), outbox, clock: new FakeClock(), limits: { ...DEFAULT_OFFLINE_LIMITS, maxOfflineTxAmountMinor: 1_000 }, isOffline: () => true });
    app = createRecordApp({ record: (t, o) => recorder.record(t, o), stats: () => ({ ...outbox.stats(), headSeq: outbox.head().seq }) as never, listSetAside: (l, a) => outbox.listSetAside(l, a) });
  });

  it('record API - answers 201 with id, seq and the offline flag', async () => {
    const res = await post(app, JSON.stringify({ ...tx, amount: 900 }));
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ seq: 1, offline: true, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('record API - answers a retry with the same Idempotency-Key 200 with the original result and replayed true', async () => {
    const body = JSON.stringify({ ...tx, amount: 900 });
    const first = await post(app, body, { 'Idempotency-Key': 'order-4711' });
    expect(first.status).toBe(201);
    const created = (await first.json()) as Record<string, unknown>;
    expect(Object.keys(created).sort()).toEqual(['id', 'offline', 'seq']); // the 201 body is unchanged
    const retry = await post(app, body, { 'Idempotency-Key': 'order-4711' });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ ...created, replayed: true });
    expect(outbox.head().seq).toBe(1);
  });

  it('record API - answers 409 IDEMPOTENCY_MISMATCH to a key reused for another amount, and 400 to a bad key', async () => {
    expect((await post(app, JSON.stringify({ ...tx, amount: 900 }), { 'Idempotency-Key': 'order-1' })).status).toBe(201);
    const reused = await post(app, JSON.stringify({ ...tx, amount: 901 }), { 'Idempotency-Key': 'order-1' });
    expect(reused.status).toBe(409);
    expect(((await reused.json()) as { error: { code: string } }).error.code).toBe('IDEMPOTENCY_MISMATCH');
    for (const key of ['', 'x'.repeat(129), 'two words']) {
      const bad = await post(app, JSON.stringify({ ...tx, amount: 900 }), { 'Idempotency-Key': key });
      expect(bad.status, JSON.stringify(key)).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_IDEMPOTENCY_KEY');
    }
    expect(outbox.head().seq).toBe(1);
  });

  it('record API - answers 422 with the offline limit code the cashier sees', async () => {
    const res = await post(app, JSON.stringify(tx));
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: { code: 'OFFLINE_LIMIT_AMOUNT', message: expect.any(String) } });
  });

  it('record API - answers 400 BAD_TRANSACTION to malformed JSON and to a schema violation', async () => {
    for (const body of ['{nope', JSON.stringify({ ...tx, currency: 'euro' }), JSON.stringify([1])]) {
      const res = await post(app, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_TRANSACTION');
    }
    expect(outbox.head().seq).toBe(0);
  });

  it('record API - answers 413 to a body over the limit without recording', async () => {
    const res = await post(app, JSON.stringify({ ...tx, note: 'x'.repeat(MAX_RECORD_BODY_BYTES) }));
    expect(res.status).toBe(413);
    expect(outbox.head().seq).toBe(0);
  });

  it('record API - answers 503 NOT_SYNCED before the terminal ever reached its gateway', async () => {
    const fresh = new MemoryOutbox();
    await fresh.open();
    const r = new Recorder({ store: 's-1', terminal: 't-1', signer: testSigner('t-1'), outbox: fresh, clock: new FakeClock(), limits: DEFAULT_OFFLINE_LIMITS, isOffline: () => false });
    const res = await post(createRecordApp({ record: (t) => r.record(t), stats: () => ({}) as never, listSetAside: (l, a) => fresh.listSetAside(l, a) }), JSON.stringify(tx));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_SYNCED');
  });

  it('record API - answers 503 RESYNCING and CHAIN_BLOCKED while the chain is moved or held, and records nothing', async () => {
    for (const [chain, code] of [[{ kind: 'resyncing', reason: 'gateway-ahead' }, 'RESYNCING'], [{ kind: 'held', seq: 3, code: 'SCHEMA' }, 'CHAIN_BLOCKED']] as const) {
      const r = new Recorder({ store: 's-1', terminal: 't-1', signer: testSigner('t-1'), outbox, clock: new FakeClock(), limits: DEFAULT_OFFLINE_LIMITS, isOffline: () => false, chain: () => chain });
      const res = await post(createRecordApp({ record: (t) => r.record(t), stats: () => ({}) as never, listSetAside: (l, a) => outbox.listSetAside(l, a) }), JSON.stringify(tx));
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    expect(outbox.head().seq).toBe(0);
  });

  it('record API - lists set-aside events in pages, with the JWS, and without any card number', async () => {
    const signer = testSigner('t-1');
    // One event with a card number in a free-text field (written below the recorder's own check),
    // one refused for its schema: both set aside through the outbox's re-sequence.
    const pan = '4111111111111111';
    let prev = '';
    for (const [seq, extra] of [[1, { ref: `card ${pan}` }], [2, { note: 'fine' }]] as const) {
      const jws = await signEvent(samplePayload('s-1', 't-1', seq, prev, extra), signer);
      await outbox.append({ seq, id: testUuid('t-1', seq), jws, hash: chainHash(jws), exposureMinor: 0, recordedAtMs: 1_000 * seq });
      prev = chainHash(jws);
    }
    const second = (await outbox.read(2, 1))[0]!;
    await outbox.resequence({ deliveredUpTo: 0, base: { seq: 0, hash: '' }, refused: { seq: 1, id: testUuid('t-1', 1), outcome: 'set-aside', code: 'PAN_DETECTED', message: 'card number', atMs: 5_000 }, moved: [{ fromSeq: 2, record: { ...second, seq: 1 } }] });
    await outbox.resequence({ deliveredUpTo: 0, base: { seq: 0, hash: '' }, refused: { seq: 1, id: testUuid('t-1', 2), outcome: 'set-aside', code: 'FUTURE_CODE', message: 'newer gateway', atMs: 6_000 }, moved: [] });
    const first = await app.request('/set-aside?limit=1');
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { events: { id: string; code: string; jws: string | null; event: { ref?: string } }[]; next?: string };
    expect(page1.events).toHaveLength(1);
    const page2 = (await (await app.request(`/set-aside?limit=1&after=${encodeURIComponent(page1.next!)}`)).json()) as typeof page1;
    const all = [...page1.events, ...page2.events];
    expect(page2.next).toBeUndefined();
    const byCode = Object.fromEntries(all.map((e) => [e.code, e]));
    expect(byCode.PAN_DETECTED).toMatchObject({ id: testUuid('t-1', 1), jws: null, event: { ref: '[card number removed]', seq: 1 }, recordedAt: new Date(1_000).toISOString(), refusedAt: new Date(5_000).toISOString() });
    expect(byCode.FUTURE_CODE).toMatchObject({ id: testUuid('t-1', 2), event: { note: 'fine' } });
    expect(decodeEvent(byCode.FUTURE_CODE!.jws!).payload.id).toBe(testUuid('t-1', 2));
    expect(JSON.stringify(all)).not.toContain(pan);
    expect((await app.request('/set-aside?limit=0')).status).toBe(400);
    expect((await app.request('/set-aside?after=%27%3B')).status).toBe(400);
  });
});

describe('terminal directory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('tillgate-tdir-');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('device key - is created with mode 0600, reloads to the same kid, and is never overwritten', async () => {
    const signer = await createDeviceKey(dir);
    expect((await stat(join(dir, 'device-key.pem'))).mode & 0o777).toBe(0o600);
    expect(signer.kid).toBe(kidOf(signer.publicKeyRaw));
    expect((await loadDeviceKey(dir)).kid).toBe(signer.kid);
    await expect(createDeviceKey(dir)).rejects.toMatchObject({ code: 'TERMINAL_DIR' });
  });

  it('terminal dir - keeps the MQTT password in its own 0600 file, and rejects a bad terminal.json with a code', async () => {
    await writeTerminalFile(dir, { store: 's-1', terminal: 't-1', kid: 'a'.repeat(43) });
    await writePassword(dir, 'secret-password');
    expect((await stat(join(dir, PASSWORD_FILE))).mode & 0o777).toBe(0o600);
    expect(await readPassword(dir)).toBe('secret-password');
    expect(await readTerminalFile(dir)).toEqual({ store: 's-1', terminal: 't-1', kid: 'a'.repeat(43) });
    await expect(readTerminalFile(join(dir, 'missing'))).rejects.toMatchObject({ code: 'TERMINAL_DIR' });
  });
});

describe('host readings', () => {
  it('host readings - parse the signal level from /proc/net/wireless', () => {
    const text = 'Inter-| sta-|   Quality        |   Discarded packets\n face | tus | link level noise |  nwid  crypt\n  wlan0: 0000   54.  -56.  -256        0      0\n';
    expect(parseWireless(text)).toBe(-56);
    expect(parseWireless('header\nheader\n')).toBeNull();
  });

  it('host readings - are null where the host has no WiFi or battery', async () => {
    const host = linuxHostReadings({ wireless: '/nonexistent/wireless', powerSupply: '/nonexistent/power' });
    expect(await host.rssiDbm()).toBeNull();
    expect(await host.batteryPct()).toBeNull();
  });
});
