/** The admin read side (DESIGN §3.4), health, readiness, metrics and headers, via app.request(). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventsPageSchema, errorBodySchema } from '../../protocol/ingest-api.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { signChain, testSigner, type SignedChainEvent } from '../support/events.js';
import { ADMIN, enrollmentOf, GW1, ingestBody, makeTestCloud, postIngest, type TestCloud } from './helpers.js';

const alice = testSigner('read-alice');
const admin = { authorization: `Bearer ${ADMIN}` };

describe('cloud read and ops routes', () => {
  let dir: string;
  let cloud: TestCloud;
  let chain: SignedChainEvent[];

  beforeEach(async () => {
    dir = await makeTempDir('tillgate-cloud-');
    cloud = await makeTestCloud(dir);
    chain = await signChain(alice, 's-1', 't-1', 7);
    const t2 = await signChain(alice, 's-1', 't-2', 2);
    const enroll = [enrollmentOf('t-1', alice), enrollmentOf('t-2', alice)];
    const res = await postIngest(cloud.app, ingestBody(GW1, [...chain.map((e) => e.jws), ...t2.map((e) => e.jws)], enroll));
    expect(res.status).toBe(200);
  });
  afterEach(async () => {
    await cloud.ledger.close();
    await removeDir(dir);
  });

  it('read - pages a terminal\'s events in seq order with the head', async () => {
    const res = await cloud.app.request('/v1/stores/s-1/terminals/t-1/events?after=2&limit=3', { headers: admin });
    expect(res.status).toBe(200);
    const page = eventsPageSchema.parse(await res.json());
    expect(page.head).toBe(7);
    expect(page.events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(page.events.map((e) => e.jws)).toEqual(chain.slice(2, 5).map((e) => e.jws));
    expect(page.events[0]!.receivedAt).toBe(new Date(cloud.clock.now()).toISOString());
    const empty = eventsPageSchema.parse(await (await cloud.app.request('/v1/stores/s-1/terminals/t-9/events', { headers: admin })).json());
    expect(empty).toEqual({ head: 0, events: [] });
  });

  it('read - lists a store\'s terminals with their heads', async () => {
    const res = await cloud.app.request('/v1/stores/s-1/terminals', { headers: admin });
    const body = (await res.json()) as { terminals: Array<{ terminal: string; seq: number }> };
    expect(body.terminals.map((t) => [t.terminal, t.seq])).toEqual([['t-1', 7], ['t-2', 2]]);
    const after = (await (await cloud.app.request('/v1/stores/s-1/terminals?after=t-1', { headers: admin })).json()) as typeof body;
    expect(after.terminals.map((t) => t.terminal)).toEqual(['t-2']);
  });

  it('read - needs the admin token: none, a gateway token or a wrong one is 401', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${GW1.token}` }, { authorization: 'Bearer nope' }, { authorization: ADMIN }]) {
      const res = await cloud.app.request('/v1/stores/s-1/terminals/t-1/events', { headers });
      expect(res.status).toBe(401);
      expect(errorBodySchema.parse(await res.json()).error.code).toBe('UNAUTHORIZED');
    }
  });

  it('read - a gateway reads the head of its own store\'s terminals with its token (a restored gateway confirms its chains), never another store\'s or anything else', async () => {
    const res = await cloud.app.request('/v1/stores/s-1/terminals/t-1/head', { headers: { authorization: `Bearer ${GW1.token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ seq: 7, hash: chain[6]!.hash });
    expect(await (await cloud.app.request('/v1/stores/s-1/terminals/t-9/head', { headers: admin })).json()).toEqual({ seq: 0, hash: '' });
    const other = await cloud.app.request('/v1/stores/s-2/terminals/t-1/head', { headers: { authorization: `Bearer ${GW1.token}` } });
    expect(other.status).toBe(403);
    expect(errorBodySchema.parse(await other.json()).error.code).toBe('FORBIDDEN');
    const none = await cloud.app.request('/v1/stores/s-1/terminals/t-1/head');
    expect(none.status).toBe(401);
  });

  it('read - bad ids, after and limit are 400 MALFORMED', async () => {
    const bad = [
      '/v1/stores/S-1/terminals/t-1/events',
      '/v1/stores/s-1/terminals/gateway/events',
      '/v1/stores/s-1/terminals/t-1/events?after=-1',
      '/v1/stores/s-1/terminals/t-1/events?after=1e3',
      '/v1/stores/s-1/terminals/t-1/events?limit=0',
      '/v1/stores/s-1/terminals/t-1/events?limit=1001',
      '/v1/stores/s-1/terminals?after=BAD',
    ];
    for (const path of bad) {
      const res = await cloud.app.request(path, { headers: admin });
      expect(res.status, path).toBe(400);
      expect(errorBodySchema.parse(await res.json()).error.code).toBe('MALFORMED');
    }
  });

  it('ops - healthz, readyz and metrics answer; readyz is 503 once the ledger is closed', async () => {
    expect(await (await cloud.app.request('/healthz')).json()).toMatchObject({ status: 'ok', enrollmentTrust: 'provisioning-keys' });
    expect((await cloud.app.request('/readyz')).status).toBe(200);
    const metrics = await (await cloud.app.request('/metrics')).text();
    expect(metrics).toContain('tillgate_cloud_ingest_requests_total{status="200"} 1');
    expect(metrics).toContain('tillgate_cloud_ingest_events_total{result="accepted",code=""} 9');
    expect(metrics).toContain('tillgate_cloud_enrollments_total{result="added"} 2');
    expect(metrics).toContain('tillgate_cloud_ingest_batch_events_count 1');
    expect(metrics).toContain('tillgate_cloud_ledger_append_duration_seconds_count 1');
    expect(metrics).toContain('tillgate_cloud_ingest_request_duration_seconds_count 1');
    await cloud.ledger.close();
    expect((await cloud.app.request('/readyz')).status).toBe(503);
    expect((await cloud.app.request('/v1/stores/s-1/terminals', { headers: admin })).status).toBe(503);
    cloud = await makeTestCloud(dir);
  });

  it('ops - answers carry security headers and unknown routes are a coded 404', async () => {
    const res = await cloud.app.request('/nope');
    expect(res.status).toBe(404);
    expect(errorBodySchema.parse(await res.json()).error.code).toBe('NOT_FOUND');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('ops - logs carry neither tokens nor event bytes', async () => {
    await postIngest(cloud.app, ingestBody(GW1, ['x.y.z']), 'a-secret-guess');
    await postIngest(cloud.app, ingestBody(GW1, [chain[0]!.jws.replace(/.$/, 'A'), 'x.y.z']));
    const text = cloud.logs.join('\n');
    expect(text).not.toContain(GW1.token);
    expect(text).not.toContain('a-secret-guess');
    expect(text).not.toContain(chain[0]!.jws.slice(0, 40));
  });
});
