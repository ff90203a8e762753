/** The reconciliation job's HTTP client of the PSP status API, against a real local HTTP server. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPspClient } from '../../../cloud-bridge/lifecycle/psp-client.js';
import { codeOfAsync } from '../../support/codes.js';
import { paymentId } from './support.js';

describe('PSP status client', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    const app = new Hono();
    app.get('/v1/payments/:ref', (c) => {
      const ref = c.req.param('ref');
      if (ref === paymentId('known')) return c.json({ merchantReference: ref, pspReference: 'PSP1', status: 'authorised' });
      if (ref === paymentId('other')) return c.json({ merchantReference: paymentId('someone-else'), pspReference: 'PSP2', status: 'authorised' });
      if (ref === paymentId('garbage')) return c.text('<html>oops</html>');
      if (ref === paymentId('huge')) return c.text('x'.repeat(100_000));
      if (ref === paymentId('down')) return c.json({ error: 'maintenance' }, 503);
      if (ref === paymentId('slow')) return new Promise<Response>(() => undefined);
      return c.json({ error: 'no such payment' }, 404);
    });
    server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server)) as Server;
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  it('psp client - a known payment answers its status; an unknown one (404) is "unknown"', async () => {
    const client = new HttpPspClient({ baseUrl: base, timeoutMs: 2_000 });
    expect(await client.status(paymentId('known'))).toEqual({ merchantReference: paymentId('known'), pspReference: 'PSP1', status: 'authorised' });
    expect(await client.status(paymentId('nobody'))).toEqual({ merchantReference: paymentId('nobody'), pspReference: null, status: 'unknown' });
  });

  it('psp client - errors, wrong bodies, oversized or slow answers are PSP_UNAVAILABLE, never a verdict', async () => {
    const client = new HttpPspClient({ baseUrl: base, timeoutMs: 300 });
    for (const name of ['other', 'garbage', 'huge', 'down', 'slow']) expect(await codeOfAsync(client.status(paymentId(name))), name).toBe('PSP_UNAVAILABLE');
    const nowhere = new HttpPspClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 300 });
    expect(await codeOfAsync(nowhere.status(paymentId('known')))).toBe('PSP_UNAVAILABLE');
  });
});
