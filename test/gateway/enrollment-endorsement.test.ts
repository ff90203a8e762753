/**
 * Enrollment with the operator's endorsement at a real gateway (DESIGN §3.1, §3.5): every way an
 * endorsement can be wrong is a 400 with its code; the gateway checks names (and with
 * `--provisioning-keys` the signature) but is never the trust anchor; it keeps the endorsement with
 * the key and in the forward queue; data of the previous release (keys without one) still opens,
 * forwards as it is and is called out on the status page.
 */
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { afterEach, describe, expect, it } from 'vitest';
import { LevelEventStore } from '../../gateway/store/level-event-store.js';
import type { TerminalRecord } from '../../gateway/store/records.js';
import { buildRequest } from '../../gateway/forwarder/request-builder.js';
import { storeEnrollments } from '../../gateway/forwarder/wire.js';
import { readGatewayView } from '../../gateway/status-page/gateway-view.js';
import { listProblems, PROBLEM_CODES } from '../../gateway/status-page/headline.js';
import { testSigner } from '../support/events.js';
import { endorse, ROGUE_PROVISIONING, TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { ADMIN_TOKEN, enroll, STORE, startTestGateway, stopTestGateway, type TestGateway } from './support.js';

let t: TestGateway | undefined;
afterEach(async () => {
  await stopTestGateway(t);
  t = undefined;
});

const keyOf = (name: string) => testSigner(name).publicKeyRaw.toString('base64url');
const post = (gw: TestGateway, body: unknown) =>
  gw.gw.app.request('/api/terminals', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
async function codeOfResponse(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
}

describe('gateway enrollment with endorsements', () => {
  it('enrollment - refuses a missing, malformed, oversized or misaddressed endorsement with 400 and its code', async () => {
    t = await startTestGateway();
    const gw = t;
    const key = keyOf('t-1');
    const cases: [string, unknown, string][] = [
      ['missing', undefined, 'ENDORSEMENT_MISSING'],
      ['not a string', 42, 'ENDORSEMENT_MALFORMED'],
      ['not a JWS', 'hello', 'ENDORSEMENT_MALFORMED'],
      ['too large', 'A'.repeat(1025), 'ENDORSEMENT_TOO_LARGE'],
      ['another store', endorse('s-2', 't-1', key), 'ENDORSEMENT_WRONG_STORE'],
      ['another terminal', endorse(STORE, 't-2', key), 'ENDORSEMENT_WRONG_TERMINAL'],
      ['another key', endorse(STORE, 't-1', keyOf('t-other')), 'ENDORSEMENT_WRONG_KEY'],
    ];
    for (const [name, endorsement, code] of cases) {
      expect(await codeOfResponse(await post(gw, { terminal: 't-1', publicKey: key, endorsement })), name).toEqual([400, code]);
    }
    expect(gw.gw.queue.head()).toBe(0);
    expect((await gw.gw.app.request('/api/terminals/t-1')).status).toBe(404);
  });

  it('enrollment - without provisioning keys the gateway takes any well-addressed endorsement (the cloud is the anchor)', async () => {
    t = await startTestGateway();
    const res = await post(t, { terminal: 't-1', publicKey: keyOf('t-1'), endorsement: endorse(STORE, 't-1', keyOf('t-1'), ROGUE_PROVISIONING) });
    expect(res.status).toBe(201);
  });

  it('enrollment - with --provisioning-keys it refuses an endorsement by any other key on the spot', async () => {
    t = await startTestGateway({ provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY] });
    const rogue = await post(t, { terminal: 't-1', publicKey: keyOf('t-1'), endorsement: endorse(STORE, 't-1', keyOf('t-1'), ROGUE_PROVISIONING) });
    expect(await codeOfResponse(rogue)).toEqual([400, 'ENDORSEMENT_UNKNOWN_ISSUER']);
    const genuine = await post(t, { terminal: 't-1', publicKey: keyOf('t-1'), endorsement: endorse(STORE, 't-1', keyOf('t-1')) });
    expect(genuine.status).toBe(201);
  });

  it('enrollment - a malformed --provisioning-keys value is a startup error that names the option', async () => {
    await expect(startTestGateway({ provisioningKeys: ['not-a-key'] })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('provisioningKeys') as unknown });
  });

  it('enrollment - keeps the endorsement with the key and in the forward queue entry, and sends it to the cloud', async () => {
    t = await startTestGateway();
    await enroll(t.gw, 't-1');
    const [entry] = await t.gw.queue.readAfter(0, 10, 1 << 20);
    expect(entry).toMatchObject({ kind: 'enrollment', terminal: 't-1', kid: testSigner('t-1').kid, endorsement: endorse(STORE, 't-1', testSigner('t-1')) });
    const detail = (await (await t.gw.app.request('/api/terminals/t-1')).json()) as { keys: { kid: string; endorsed: boolean }[] };
    expect(detail.keys).toEqual([expect.objectContaining({ kid: testSigner('t-1').kid, endorsed: true })]);
    const request = buildRequest({ gateway: 'g-1', store: STORE }, '018f0000-0000-7000-8000-000000000000', [entry!], []);
    expect(request.enrollments).toEqual([expect.objectContaining({ terminal: 't-1', endorsement: endorse(STORE, 't-1', testSigner('t-1')) })]);
  });

  it('enrollment - the same key again is a password reset (no new queue entry) unless its endorsement changed', async () => {
    t = await startTestGateway();
    await enroll(t.gw, 't-1');
    await enroll(t.gw, 't-1');
    expect(t.gw.queue.head()).toBe(1);
    const reissued = endorse(STORE, 't-1', keyOf('t-1'), ROGUE_PROVISIONING);
    expect((await post(t, { terminal: 't-1', publicKey: keyOf('t-1'), endorsement: reissued })).status).toBe(201);
    expect(t.gw.queue.head()).toBe(2);
    const entries = await t.gw.queue.readAfter(1, 10, 1 << 20);
    expect(entries).toEqual([expect.objectContaining({ kind: 'enrollment', endorsement: reissued })]);
  });
});

describe('gateway data of the previous release (keys without endorsements)', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await removeDir(dir);
    dir = undefined;
  });

  /** Writes what the previous release wrote: a terminal record and a queue entry with no endorsement. */
  async function oldReleaseData(): Promise<string> {
    const d = await makeTempDir('tillgate-old-');
    const store = await LevelEventStore.open({ dataDir: d, rejectsKeep: 100, keys: defaultDataKeys(d) });
    const signer = testSigner('t-old');
    const key = { kid: signer.kid, publicKey: signer.publicKeyRaw.toString('base64url'), at: '2026-11-01T09:00:00.000Z' };
    const record: TerminalRecord = {
      terminal: 't-old', keys: [key], enrolledAt: key.at, updatedAt: key.at,
      password: { algo: 'scrypt', n: 16384, r: 8, p: 1, salt: 'c2FsdA', hash: 'aGFzaA' },
    };
    await store.commit([{ kind: 'enrollment', record, newKey: key }], Date.UTC(2026, 10, 1));
    await store.close();
    return d;
  }

  it('old data - opens, forwards the unendorsed enrollment as it is, and the page and API call the key out', async () => {
    dir = await oldReleaseData();
    t = await startTestGateway({ dataDir: dir });
    const gw = t.gw;
    const entries = await gw.queue.readAfter(0, 10, 1 << 20);
    expect(entries).toEqual([expect.objectContaining({ kind: 'enrollment', terminal: 't-old' })]);
    expect(entries[0]).not.toHaveProperty('endorsement');
    const request = buildRequest({ gateway: 'g-1', store: STORE }, '018f0000-0000-7000-8000-000000000000', entries, []);
    expect(request.enrollments[0]).not.toHaveProperty('endorsement');
    const detail = (await (await gw.app.request('/api/terminals/t-old')).json()) as { keys: { endorsed: boolean }[] };
    expect(detail.keys).toEqual([expect.objectContaining({ endorsed: false })]);
    const view = await readGatewayView({ status: gw.statusSources });
    expect(view.terminals.find((x) => x.id === 't-old')?.keysNotEndorsed).toBe(1);
    expect(listProblems(view).map((p) => p.code)).toContain(PROBLEM_CODES.keysNotEndorsed);
    const html = await (await gw.app.request('/')).text();
    expect(html).toContain('Key not endorsed');
    expect(html).toContain('without the operator&#39;s endorsement');
  });

  it('old data - enrolling the key again with its endorsement re-sends it endorsed and clears the warning', async () => {
    dir = await oldReleaseData();
    t = await startTestGateway({ dataDir: dir });
    await enroll(t.gw, 't-old');
    const entries = await t.gw.queue.readAfter(1, 10, 1 << 20);
    expect(entries).toEqual([expect.objectContaining({ kind: 'enrollment', terminal: 't-old', endorsement: endorse(STORE, 't-old', testSigner('t-old')) })]);
    const fromRegistry = await storeEnrollments(t.gw.statusSources.eventStore).enrollmentsOf('t-old');
    expect(fromRegistry).toEqual([expect.objectContaining({ endorsement: endorse(STORE, 't-old', testSigner('t-old')) })]);
    const view = await readGatewayView({ status: t.gw.statusSources });
    expect(listProblems(view).map((p) => p.code)).not.toContain(PROBLEM_CODES.keysNotEndorsed);
  });
});
