/**
 * The gateway's HTTP API through Hono's `app.request()` on a real gateway: probes, enrollment
 * validation and admin auth, terminal views, and the ready JSON of the CLI's options parse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, enroll, startTestGateway, stopTestGateway, type TestGateway } from './support.js';
import { testSigner } from '../support/events.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => {
  await stopTestGateway(t);
});

const post = (body: string, token = ADMIN_TOKEN) =>
  t.gw.app.request('/api/terminals', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });

describe('gateway HTTP API', () => {
  it('gateway http - answers healthz and readyz', async () => {
    expect((await t.gw.app.request('/healthz')).status).toBe(200);
    expect(await (await t.gw.app.request('/readyz')).json()).toEqual({ ready: true });
  });

  it('gateway http - enrollment needs the admin token', async () => {
    const body = JSON.stringify({ terminal: 't-x', publicKey: testSigner('t-x').publicKeyRaw.toString('base64url') });
    const res = await post(body, 'wrong-token-value');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    expect((await t.gw.app.request('/api/terminals', { method: 'POST', body })).status).toBe(401);
  });

  it('gateway http - refuses bad enrollment bodies with 400 and a code', async () => {
    const key = testSigner('t-x').publicKeyRaw.toString('base64url');
    const cases: [string, string][] = [
      ['not json', 'BAD_REQUEST'],
      [JSON.stringify({ terminal: 'T X', publicKey: key }), 'BAD_REQUEST'],
      [JSON.stringify({ terminal: 'gateway', publicKey: key }), 'BAD_REQUEST'],
      [JSON.stringify({ terminal: 't-x' }), 'BAD_REQUEST'],
      [JSON.stringify({ terminal: 't-x', publicKey: key, extra: 1 }), 'BAD_REQUEST'],
      [JSON.stringify({ terminal: 't-x', publicKey: 'AAAA' }), 'BAD_PUBLIC_KEY'],
    ];
    for (const [body, code] of cases) {
      const res = await post(body);
      expect(res.status, body).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code } });
    }
    const big = await post(JSON.stringify({ terminal: 't-x', publicKey: 'A'.repeat(10_000) }));
    expect(big.status).toBe(413);
  });

  it('gateway http - enrolls, shows the terminal, and returns 404 for an unknown one', async () => {
    const e = await enroll(t.gw, 't-view');
    expect(e.kid).toBe(testSigner('t-view').kid);
    expect(e.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const list = (await (await t.gw.app.request('/api/terminals')).json()) as { terminals: { terminal: string }[] };
    expect(list.terminals.map((x) => x.terminal)).toContain('t-view');
    const detail = await (await t.gw.app.request('/api/terminals/t-view')).json();
    expect(detail).toMatchObject({ terminal: 't-view', connected: false, lastSeenAt: null, headSeq: 0, health: null });
    expect(JSON.stringify(detail)).not.toContain(e.password);
    const missing = await t.gw.app.request('/api/terminals/nope');
    expect(missing.status).toBe(404);
  });

  it('gateway http - status has the DESIGN §3.5 fields', async () => {
    const status = (await (await t.gw.app.request('/api/status')).json()) as Record<string, unknown>;
    for (const key of ['gatewayId', 'store', 'uptimeS', 'wan', 'accepting', 'eventsStored', 'rejects', 'diskFreeBytes', 'backlog', 'terminals']) {
      expect(status, key).toHaveProperty(key);
    }
    expect(status).toMatchObject({ gatewayId: 'g-1', store: 's-1', wan: 'offline', wanSource: 'unknown', accepting: true });
  });
});
