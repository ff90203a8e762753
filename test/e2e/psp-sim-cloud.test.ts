/**
 * Proves the PSP side of DESIGN §3.6 over real HTTP: the simulated PSP authorises payments (passing
 * the event id as merchantReference), delivers its signed, delayed, duplicated and shuffled
 * Adyen-format notifications to a served cloud-bridge, and answers the cloud's reconciliation
 * through its status API. Every payment ends in the state the simulator's injected truth calls
 * for, and the cloud's contradiction count equals the truth's refused + never-authorised count.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { latencyReportSchema } from '../../protocol/payments.js';
import { HttpPspClient, type PspClient } from '../../cloud-bridge/lifecycle/psp-client.js';
import { startPspSim, type PspSimHandle } from '../../psp-sim/index.js';
import type { TruthRecord } from '../../psp-sim/truth.js';
import { silentLogger } from '../../lib/logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { signChain, testSigner } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { GW1 } from '../cloud-bridge/helpers.js';
import { getJson, ingest, levelLifecycleHarness, payment, type LifecycleCloudHarness, type TestLifecycleCloud } from '../cloud-bridge/lifecycle/lifecycle-cloud.js';
import { HMAC_KEY } from '../cloud-bridge/lifecycle/support.js';

const PAYMENTS = 40;

describe('simulated PSP against a served cloud', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('psp-sim e2e - notifications over HTTP and reconciliation through the status API match the injected truth', async () => {
    const harness: LifecycleCloudHarness = await levelLifecycleHarness();
    cleanups.push(() => harness.destroy());
    const clock = new FakeClock();
    // The cloud starts first (the simulator needs its URL); its PSP client is set once the simulator is up.
    const late: { client?: PspClient } = {};
    const psp: PspClient = { status: (ref) => late.client!.status(ref) };
    const cloud: TestLifecycleCloud = await harness.open({ optimisticCharge: true, clock, psp });
    cleanups.push(() => cloud.close());
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: cloud.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server)) as Server;
    });
    cleanups.push(() => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
    const cloudUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sim: PspSimHandle = await startPspSim(
      { hmacKey: HMAC_KEY, webhookUrl: [`${cloudUrl}/v1/psp/adyen/webhooks`], httpPort: 0, seed: 2026, timeScale: 5_000, refusalRate: 0.15, neverRate: 0.1, duplicateRate: 0.3, logLevel: 'silent' },
      { logger: silentLogger },
    );
    cleanups.push(() => sim.close());
    late.client = new HttpPspClient({ baseUrl: sim.url, timeoutMs: 5_000 });

    // The terminal: authorise with the PSP first, then record (here: ingest) the event.
    const signer = testSigner('psp-sim-e2e');
    const chain = await signChain(signer, GW1.store, 't-1', PAYMENTS);
    for (const e of chain) {
      const res = await fetch(`${sim.url}/v1/authorise`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ merchantReference: e.payload.id, amount: { value: e.payload.amount, currency: 'EUR' }, store: GW1.store, terminal: 't-1' }),
      });
      expect(res.status).toBe(200);
    }
    expect(await ingest(cloud, signer, 't-1', chain.map((e) => e.jws))).toEqual(Array(PAYMENTS).fill('accepted'));
    await cloud.lifecycle.catchUp();

    const truth: TruthRecord[] = ((await (await fetch(`${sim.url}/v1/truth?after=0&limit=100`)).json()) as { records: TruthRecord[] }).records;
    expect(truth).toHaveLength(PAYMENTS);
    const deliveries = truth.reduce((n, r) => n + r.deliveries, 0);
    expect(new Set(truth.map((r) => r.outcome))).toEqual(new Set(['authorised', 'refused', 'never']));
    await waitFor(() => sim.deliverer.stats.delivered === deliveries && sim.deliverer.stats.pending === 0, { timeoutMs: 20_000, what: 'every notification delivered' });
    await cloud.lifecycle.catchUp();

    for (const r of truth) {
      const p = await payment(cloud.app, r.merchantReference);
      expect(p.state, `${r.merchantReference} (${r.outcome})`).toBe(r.outcome === 'never' ? 'captured' : r.outcome);
      expect(p.chargedBy).toBe('optimistic');
    }
    // Reconciliation, 20 minutes on: the PSP's status API does not know the never-authorised ones.
    clock.advance(1_201_000);
    const run = await cloud.lifecycle.reconcileNow();
    const never = truth.filter((r) => r.outcome === 'never').length;
    expect(run).toMatchObject({ checked: never, inconsistent: never, errors: 0 });
    for (const r of truth.filter((t) => t.outcome === 'never')) expect((await payment(cloud.app, r.merchantReference)).state).toBe('inconsistent');

    const report = latencyReportSchema.parse((await getJson(cloud.app, '/v1/payments/latency')).body);
    const wrong = truth.filter((r) => r.outcome !== 'authorised').length;
    expect(report.optimistic).toEqual({ charged: PAYMENTS, contradicted: wrong, rate: wrong / PAYMENTS });
  });
});
