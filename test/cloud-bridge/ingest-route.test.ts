/**
 * The ingest API (DESIGN §3.4) through app.request(), on each real ledger: LevelDB in a temp dir
 * and PostgreSQL in a fresh database.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signEvent } from '../../protocol/jws.js';
import { ingestResponseSchema, errorBodySchema } from '../../protocol/ingest-api.js';
import { describePg } from '../support/postgres/test-database.js';
import { samplePayload, signChain, testSigner, type SignedChainEvent } from '../support/events.js';
import { ADMIN, enrollmentOf, GW1, GW2, ingestBody, makeTestCloud, postIngest, snapshot, STORAGES, type TestCloud, type TestStorage } from './helpers.js';

const alice = testSigner('ingest-alice');
const mallory = testSigner('ingest-mallory');

async function results(res: Response) {
  expect(res.status).toBe(200);
  return ingestResponseSchema.parse(await res.json()).results;
}
async function errorCode(res: Response): Promise<string> {
  return errorBodySchema.parse(await res.json()).error.code;
}
const short = (rs: Array<{ status: string; code?: string }>) => rs.map((r) => r.code ?? r.status);

for (const kind of ['LevelDB', 'PostgreSQL'] as const) {
(kind === 'PostgreSQL' ? describePg : describe)(`cloud ingest route (${kind})`, () => {
  let storage: TestStorage;
  let cloud: TestCloud;
  let chain: SignedChainEvent[];
  let t2: SignedChainEvent[];

  beforeEach(async () => {
    storage = await STORAGES[kind]();
    cloud = await makeTestCloud(storage);
    chain = await signChain(alice, 's-1', 't-1', 10);
    t2 = await signChain(alice, 's-1', 't-2', 3);
  });
  afterEach(async () => {
    await cloud.ledger.close();
    await storage.destroy();
  });

  const unchanged = async (act: () => Promise<void>) => {
    const before = await snapshot(cloud.ledger, ['s-1', 's-2'], ['t-1', 't-2']);
    await act();
    expect(await snapshot(cloud.ledger, ['s-1', 's-2'], ['t-1', 't-2'])).toEqual(before);
  };
  const extras: TestStorage[] = [];
  afterEach(async () => {
    for (const e of extras.splice(0)) await e.destroy();
  });
  const extraStorage = async () => {
    const e = await STORAGES[kind]();
    extras.push(e);
    return e;
  };
  const enrollBoth = [enrollmentOf('t-1', alice), enrollmentOf('t-2', alice)];

  it('ingest - accepts a batch with its enrollments and answers one result per event in order', async () => {
    const events = [chain[0]!.jws, t2[0]!.jws, chain[1]!.jws, t2[1]!.jws];
    const rs = await results(await postIngest(cloud.app, ingestBody(GW1, events, enrollBoth)));
    expect(rs).toEqual([
      { terminal: 't-1', seq: 1, status: 'accepted' },
      { terminal: 't-2', seq: 1, status: 'accepted' },
      { terminal: 't-1', seq: 2, status: 'accepted' },
      { terminal: 't-2', seq: 2, status: 'accepted' },
    ]);
    expect(await cloud.ledger.head('s-1', 't-1')).toEqual({ seq: 2, hash: chain[1]!.hash });
    expect(await cloud.ledger.getKey('s-1', 't-1', alice.kid)).toEqual(alice.publicKeyRaw);
  });

  it('ingest - the same batch sent twice is stored once and answered duplicate the second time', async () => {
    const body = ingestBody(GW1, chain.map((e) => e.jws), enrollBoth);
    expect(short(await results(await postIngest(cloud.app, body))).every((s) => s === 'accepted')).toBe(true);
    const before = await snapshot(cloud.ledger, ['s-1'], ['t-1']);
    expect(short(await results(await postIngest(cloud.app, body))).every((s) => s === 'duplicate')).toBe(true);
    expect(await snapshot(cloud.ledger, ['s-1'], ['t-1'])).toEqual(before);
  });

  it('ingest - the same batch sent concurrently is accepted exactly once per seq', async () => {
    const body = ingestBody(GW1, chain.map((e) => e.jws), enrollBoth);
    const all = await Promise.all([1, 2, 3, 4].map(async () => results(await postIngest(cloud.app, body))));
    for (let i = 0; i < chain.length; i++) {
      const statuses = all.map((rs) => rs[i]!.status).sort();
      expect(statuses).toEqual(['accepted', 'duplicate', 'duplicate', 'duplicate']);
    }
    expect((await cloud.ledger.readEvents('s-1', 't-1', 0, 100)).map((e) => e.jws)).toEqual(chain.map((e) => e.jws));
  });

  it('ingest - answers SEQ_GAP with expected, CONFLICT and BAD_CHAIN per event', async () => {
    await results(await postIngest(cloud.app, ingestBody(GW1, [chain[0]!.jws, chain[1]!.jws], enrollBoth)));
    const fork = await signEvent(samplePayload('s-1', 't-1', 2, chain[0]!.hash, { amount: 999 }), alice);
    const badPrev = await signEvent(samplePayload('s-1', 't-1', 3, chain[0]!.hash), alice);
    const rs = await results(await postIngest(cloud.app, ingestBody(GW1, [chain[4]!.jws, fork, badPrev, chain[2]!.jws])));
    expect(rs).toEqual([
      { terminal: 't-1', seq: 5, status: 'rejected', code: 'SEQ_GAP', expected: 3 },
      { terminal: 't-1', seq: 2, status: 'rejected', code: 'CONFLICT' },
      { terminal: 't-1', seq: 3, status: 'rejected', code: 'BAD_CHAIN' },
      { terminal: 't-1', seq: 3, status: 'accepted' },
    ]);
    expect(cloud.logs.some((l) => l.includes('CONFLICT'))).toBe(true);
  });

  it('ingest - events after a rejected one of the same terminal get SEQ_GAP, other terminals go on', async () => {
    const altered = chain[1]!.jws.replace(/\.([^.]+)\./, (_m, p: string) => `.${Buffer.from(Buffer.from(p, 'base64url').toString().replace('"amount":102', '"amount":103')).toString('base64url')}.`);
    const rs = await results(await postIngest(cloud.app, ingestBody(GW1, [chain[0]!.jws, altered, chain[2]!.jws, t2[0]!.jws], enrollBoth)));
    expect(short(rs)).toEqual(['accepted', 'BAD_SIGNATURE', 'SEQ_GAP', 'accepted']);
    expect(rs[2]).toMatchObject({ expected: 2 });
  });

  it('ingest - forged, altered, foreign, unknown-key and malformed events are rejected with codes and change nothing', async () => {
    await results(await postIngest(cloud.app, ingestBody(GW1, [chain[0]!.jws], enrollBoth)));
    const forged = await signEvent(samplePayload('s-1', 't-1', 2, chain[0]!.hash), { ...mallory, kid: alice.kid, sign: (d: Buffer) => mallory.sign(d) });
    const [alteredSig] = [chain[1]!.jws.slice(0, -4) + (chain[1]!.jws.endsWith('AAAA') ? 'BBBA' : 'AAAA')];
    const foreign = (await signChain(alice, 's-2', 't-1', 1))[0]!.jws;
    const unknownKey = (await signChain(mallory, 's-1', 't-1', 1))[0]!.jws;
    const pan = await signEvent(samplePayload('s-1', 't-1', 2, chain[0]!.hash, { note: '4111 1111 1111 1111' } as never), alice);
    const events = [forged, alteredSig, foreign, unknownKey, pan, 'not-a-jws', 'a.b.c'];
    await unchanged(async () => {
      const rs = await results(await postIngest(cloud.app, ingestBody(GW1, events)));
      expect(short(rs)).toEqual(['BAD_SIGNATURE', 'BAD_SIGNATURE', 'IDENTITY_MISMATCH', 'UNKNOWN_KEY', 'PAN_DETECTED', 'SCHEMA', 'SCHEMA']);
      expect(rs[5]).toEqual({ terminal: null, seq: null, status: 'rejected', code: 'SCHEMA' });
      expect(rs[2]).toMatchObject({ terminal: 't-1', seq: 1 });
    });
  });

  it('ingest - an enrollment whose kid is not its key thumbprint is refused and its events are UNKNOWN_KEY', async () => {
    const lying = { ...enrollmentOf('t-1', mallory), kid: alice.kid };
    await unchanged(async () => {
      const rs = await results(await postIngest(cloud.app, ingestBody(GW1, [chain[0]!.jws], [lying])));
      expect(short(rs)).toEqual(['UNKNOWN_KEY']);
    });
    expect(await cloud.ledger.getKey('s-1', 't-1', alice.kid)).toBeUndefined();
  });

  it('ingest - a key enrolled by another store\'s gateway does not verify this store\'s events', async () => {
    await results(await postIngest(cloud.app, ingestBody(GW2, [], [enrollmentOf('t-1', alice, 's-2')]), GW2.token));
    expect(await cloud.ledger.getKey('s-2', 't-1', alice.kid)).toEqual(alice.publicKeyRaw);
    const rs = await results(await postIngest(cloud.app, ingestBody(GW1, [chain[0]!.jws])));
    expect(short(rs)).toEqual(['UNKNOWN_KEY']);
  });

  it('ingest - a missing or unknown bearer token is 401 and changes nothing', async () => {
    await unchanged(async () => {
      const body = ingestBody(GW1, [chain[0]!.jws], enrollBoth);
      for (const token of [null, 'wrong-token', `${GW1.token}x`, ADMIN]) {
        const res = await postIngest(cloud.app, body, token);
        expect(res.status).toBe(401);
        expect(await errorCode(res)).toBe('UNAUTHORIZED');
      }
    });
    expect(cloud.logs.join('\n')).not.toContain('wrong-token');
  });

  it('ingest - a gateway speaking for another gateway or store is 403 and changes nothing', async () => {
    await unchanged(async () => {
      for (const body of [ingestBody(GW1, [chain[0]!.jws], enrollBoth), ingestBody({ id: 'g-2', store: 's-1' }, [chain[0]!.jws])]) {
        const res = await postIngest(cloud.app, body, GW2.token);
        expect(res.status).toBe(403);
        expect(await errorCode(res)).toBe('FORBIDDEN');
      }
    });
  });

  it('ingest - malformed bodies are 400 MALFORMED and change nothing', async () => {
    await unchanged(async () => {
      const good = ingestBody(GW1, [chain[0]!.jws], enrollBoth);
      const bodies: unknown[] = ['{not json', '[]', 'null', { ...good, batch: 'nope' }, { ...good, events: [42] }, { ...good, enrollments: undefined }, { ...good, store: 'S 1' }];
      for (const body of bodies) {
        const res = await postIngest(cloud.app, body);
        expect(res.status).toBe(400);
        expect(await errorCode(res)).toBe('MALFORMED');
      }
    });
  });

  it('ingest - oversized bodies and too many events are 413 and change nothing', async () => {
    const small = await makeTestCloud(await extraStorage(), { maxBodyBytes: 2048, maxEventsPerRequest: 3 });
    try {
      const big = ingestBody(GW1, chain.slice(0, 6).map((e) => e.jws), enrollBoth);
      const declared = await postIngest(small.app, big);
      expect(declared.status).toBe(413);
      expect(await errorCode(declared)).toBe('TOO_LARGE');
      // A chunked body declares no length: the bytes actually read are bounded too.
      const bytes = new TextEncoder().encode(JSON.stringify(big));
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.slice(i, i + 1000));
          controller.close();
        },
      });
      const chunked = await small.app.request('/v1/ingest', { method: 'POST', headers: { authorization: `Bearer ${GW1.token}` }, body: stream, duplex: 'half' } as RequestInit);
      expect(chunked.status).toBe(413);
      const many = await postIngest(small.app, ingestBody(GW1, ['a', 'b', 'c', 'd']));
      expect(many.status).toBe(413);
      expect(await errorCode(many)).toBe('TOO_MANY_EVENTS');
      expect(await small.ledger.listHeads('s-1', '', 10)).toEqual([]);
    } finally {
      await small.ledger.close();
    }
  });

  it('ingest - beyond the in-flight limit the answer is 429 BUSY with Retry-After', async () => {
    const one = await makeTestCloud(await extraStorage(), { maxInflightIngests: 1 });
    try {
      let finish!: () => void;
      const held = new Promise<void>((r) => (finish = r));
      const bytes = new TextEncoder().encode(JSON.stringify(ingestBody(GW1, [chain[0]!.jws], enrollBoth)));
      const slow = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(bytes.slice(0, 10));
          await held;
          controller.enqueue(bytes.slice(10));
          controller.close();
        },
      });
      const first = one.app.request('/v1/ingest', { method: 'POST', headers: { authorization: `Bearer ${GW1.token}` }, body: slow, duplex: 'half' } as RequestInit);
      const second = await postIngest(one.app, ingestBody(GW1, [chain[0]!.jws], enrollBoth));
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(await errorCode(second)).toBe('BUSY');
      finish();
      expect(short(await results(await first))).toEqual(['accepted']);
    } finally {
      await one.ledger.close();
    }
  });

  const admin = (path: string, init: RequestInit = {}) =>
    Promise.resolve(cloud.app.request(path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...(init.headers ?? {}) } }));
  const revoke = (terminal: string, kid: string, body?: unknown) =>
    admin(`/v1/stores/s-1/terminals/${terminal}/keys/${kid}/revoke`, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });

  it('ingest - after an admin revokes a key, its events above the point are KEY_REVOKED and those at or below still settle', async () => {
    expect(short(await results(await postIngest(cloud.app, ingestBody(GW1, chain.slice(0, 3).map((e) => e.jws), enrollBoth))))).toEqual(['accepted', 'accepted', 'accepted']);
    const res = await revoke('t-1', alice.kid);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ terminal: 't-1', kid: alice.kid, revokedAfterSeq: 3 });
    const rs = await results(await postIngest(cloud.app, ingestBody(GW1, [chain[2]!.jws, chain[3]!.jws, t2[0]!.jws])));
    expect(short(rs)).toEqual(['duplicate', 'KEY_REVOKED', 'accepted']);
    expect(rs[1]).toEqual({ terminal: 't-1', seq: 4, status: 'rejected', code: 'KEY_REVOKED' });
    // Lowering the point through the API; raising it again is ignored.
    expect(await (await revoke('t-1', alice.kid, { afterSeq: 1 })).json()).toMatchObject({ revokedAfterSeq: 1 });
    expect(await (await revoke('t-1', alice.kid, { afterSeq: 7 })).json()).toMatchObject({ revokedAfterSeq: 1 });
    const keys = await (await admin('/v1/stores/s-1/terminals/t-1/keys')).json() as { keys: Array<Record<string, unknown>> };
    expect(keys.keys).toEqual([expect.objectContaining({ kid: alice.kid, revokedAfterSeq: 1, publicKey: alice.publicKeyRaw.toString('base64url') })]);
    expect(typeof keys.keys[0]!.revokedAt).toBe('string');
    expect(await cloud.metrics.registry.getSingleMetricAsString('tillgate_cloud_key_revocations_total')).toMatch(/result="revoked"} 2/);
  });

  it('ingest - revoking is admin-only, validates its input and answers 404 for an unknown key', async () => {
    await postIngest(cloud.app, ingestBody(GW1, [], enrollBoth));
    const path = `/v1/stores/s-1/terminals/t-1/keys/${alice.kid}/revoke`;
    expect((await cloud.app.request(path, { method: 'POST' })).status).toBe(401);
    expect((await cloud.app.request(path, { method: 'POST', headers: { authorization: `Bearer ${GW1.token}` } })).status).toBe(401);
    for (const body of [{ afterSeq: -1 }, { afterSeq: 1.5 }, { afterSeq: '2' }, { other: 1 }, 'not json']) {
      const res = await admin(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('MALFORMED');
    }
    const big = await admin(path, { method: 'POST', body: JSON.stringify({ afterSeq: 1, pad: 'x'.repeat(2000) }) });
    expect(big.status).toBe(413);
    const unknown = await revoke('t-1', mallory.kid);
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe('NOT_FOUND');
    expect((await admin('/v1/stores/s-1/terminals/t-1/keys/not-a-kid/revoke', { method: 'POST' })).status).toBe(400);
    const keys = await (await admin('/v1/stores/s-1/terminals/t-1/keys')).json() as { keys: Array<Record<string, unknown>> };
    expect(keys.keys.map((k) => k.revokedAfterSeq)).toEqual([null]);
  });

  it('ingest - an event id already stored at another seq of the store is DUPLICATE_ID', async () => {
    await postIngest(cloud.app, ingestBody(GW1, [chain[0]!.jws], enrollBoth));
    const copy = await signEvent(samplePayload('s-1', 't-2', 1, '', { id: chain[0]!.payload.id }), alice);
    const rs = await results(await postIngest(cloud.app, ingestBody(GW1, [copy, chain[0]!.jws])));
    expect(rs).toEqual([{ terminal: 't-2', seq: 1, status: 'rejected', code: 'DUPLICATE_ID' }, { terminal: 't-1', seq: 1, status: 'duplicate' }]);
  });

  it('ingest - accepted events reach the feed with their decoded fields, in order (GET /v1/feed)', async () => {
    await postIngest(cloud.app, ingestBody(GW1, [chain[0]!.jws, t2[0]!.jws, chain[1]!.jws], enrollBoth));
    const res = await admin('/v1/feed?after=0&limit=2');
    expect(res.status).toBe(200);
    const page = await res.json() as { head: number; entries: Array<{ position: number; terminal: string; seq: number; jws: string; event: Record<string, unknown> }> };
    expect(page.entries.map((e) => `${e.terminal}/${e.seq}`)).toEqual(['t-1/1', 't-2/1']);
    expect(page.entries[0]!.event).toEqual({ id: chain[0]!.payload.id, type: 'payment', at: chain[0]!.payload.at, amount: chain[0]!.payload.amount, currency: 'EUR', outcome: 'approved', mode: 'online' });
    const rest = await (await admin(`/v1/feed?after=${page.entries[1]!.position}`)).json() as typeof page;
    expect(rest.entries.map((e) => e.jws)).toEqual([chain[1]!.jws]);
    expect(rest.head).toBe(rest.entries[0]!.position);
    expect((await cloud.app.request('/v1/feed')).status).toBe(401);
    expect((await admin('/v1/feed?limit=0')).status).toBe(400);
  });

  it('ingest - a valid event with odd field values (year 0000, U+0000 in ref and type) is stored, not a batch that never lands', async () => {
    const odd = await signEvent(samplePayload('s-1', 't-1', 1, '', { at: '0000-01-01T00:00:00Z', ref: 'psp\u0000ref', type: 'pay\u0000ment' }), alice);
    const rs = await results(await postIngest(cloud.app, ingestBody(GW1, [odd], enrollBoth)));
    expect(short(rs)).toEqual(['accepted']);
    expect((await cloud.ledger.readEvents('s-1', 't-1', 0, 10)).map((e) => e.jws)).toEqual([odd]);
    const [entry] = await cloud.ledger.readFeed(0, 10);
    expect(entry!.event).toMatchObject({ at: '0000-01-01T00:00:00Z', ref: 'psp\ufffdref', type: 'pay\ufffdment' });
  });

  it('ingest - a closed ledger is 503 LEDGER_UNAVAILABLE (retry), never a 200', async () => {
    await cloud.ledger.close();
    const res = await postIngest(cloud.app, ingestBody(GW1, [chain[0]!.jws], enrollBoth));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await errorCode(res)).toBe('LEDGER_UNAVAILABLE');
    cloud = await makeTestCloud(storage);
    expect(await cloud.ledger.head('s-1', 't-1')).toEqual({ seq: 0, hash: '' });
  });
});
}
