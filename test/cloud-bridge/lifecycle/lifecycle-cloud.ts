/**
 * An in-process cloud-bridge with the payment lifecycle on (real Hono app, real ledger, real
 * lifecycle storage, fake clock, fake PSP status API), and the helpers the scenario tests speak
 * through: ingest signed events, post signed webhooks, read payments. One harness per ledger.
 */
import type { Hono } from 'hono';
import { Registry } from 'prom-client';
import { createLogger } from '../../../lib/logger.js';
import { inlineVerifier } from '../../../lib/verify-pool.js';
import { KeyCache } from '../../../protocol/keys.js';
import type { NotificationRequestItem } from '../../../protocol/adyen.js';
import { paymentViewSchema, type PaymentView } from '../../../protocol/payments.js';
import type { PspPaymentStatus } from '../../../protocol/psp-api.js';
import { GatewayDirectory } from '../../../cloud-bridge/auth.js';
import { enrollmentTrustOf } from '../../../cloud-bridge/enrollment-trust.js';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../../support/provisioning.js';
import { createCloudApp } from '../../../cloud-bridge/http/app.js';
import type { Ledger } from '../../../cloud-bridge/ledger.js';
import { PgLedger } from '../../../cloud-bridge/pg/pg-ledger.js';
import { PgLifecycleStore } from '../../../cloud-bridge/lifecycle/pg-lifecycle-store.js';
import { CloudMetrics } from '../../../cloud-bridge/metrics.js';
import { cloudOptionsSchema } from '../../../cloud-bridge/options.js';
import { Lifecycle } from '../../../cloud-bridge/lifecycle/lifecycle.js';
import { defaultDataKeys } from '../../../lib/at-rest/options.js';
import { openLevelLifecycleStore } from '../../../cloud-bridge/lifecycle/level-lifecycle-store.js';
import { lifecycleOptionsOf } from '../../../cloud-bridge/lifecycle/wire.js';
import type { PaymentStore } from '../../../cloud-bridge/lifecycle/payment-store.js';
import type { PspClient } from '../../../cloud-bridge/lifecycle/psp-client.js';
import type { WebhookInbox } from '../../../cloud-bridge/lifecycle/webhook-inbox.js';
import { FakeClock } from '../../support/fake-clock.js';
import { makeTempDir, removeDir } from '../../support/temp.js';
import { ADMIN, enrollmentOf, GW1, GW2, ingestBody, postIngest, STORAGES } from '../helpers.js';
import { HMAC_KEY } from './support.js';
import type { KeyObjectSigner } from '../../../protocol/signer.js';

/** A PSP status API whose answers the test sets; unknown payments answer `unknown` (a 404). */
export class FakePspClient implements PspClient {
  readonly statuses = new Map<string, string>();
  readonly asked: string[] = [];
  failing = false;
  async status(merchantReference: string): Promise<PspPaymentStatus> {
    this.asked.push(merchantReference);
    if (this.failing) throw Object.assign(new Error('PSP down'), { code: 'PSP_UNAVAILABLE' });
    return { merchantReference, pspReference: null, status: this.statuses.get(merchantReference) ?? 'unknown' };
  }
}

export interface LifecycleCloudOptions {
  readonly optimisticCharge: boolean;
  readonly clock: FakeClock;
  readonly psp: PspClient;
  readonly extra?: Record<string, unknown>;
}

export interface TestLifecycleCloud {
  readonly app: Hono;
  readonly lifecycle: Lifecycle;
  readonly store: PaymentStore;
  readonly inbox: WebhookInbox;
  readonly logs: string[];
  close(): Promise<void>;
}

export interface LifecycleCloudHarness {
  open(options: LifecycleCloudOptions): Promise<TestLifecycleCloud>;
  destroy(): Promise<void>;
}

/** Builds the app around a ledger with a feed and the lifecycle storage, as startCloud() wires them. */
export function buildLifecycleCloud(ledger: Ledger, store: PaymentStore, inbox: WebhookInbox, o: LifecycleCloudOptions, closeStorage: () => Promise<void>): TestLifecycleCloud {
  const options = cloudOptionsSchema.parse({
    dataDir: '/unused', gateways: [GW1, GW2], adminToken: ADMIN, provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY], pspHmacKey: HMAC_KEY, optimisticCharge: o.optimisticCharge, ...o.extra,
  });
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(line) });
  const metrics = new CloudMetrics();
  const registry: Registry = metrics.registry;
  const lifecycle = new Lifecycle({ feed: ledger, payments: store, inbox, psp: o.psp, clock: o.clock, logger, registry }, lifecycleOptionsOf(options));
  const app = createCloudApp({
    ledger,
    directory: new GatewayDirectory(options.gateways, options.adminToken),
    metrics,
    verifier: inlineVerifier(new KeyCache()),
    clock: o.clock,
    logger,
    limits: { ...options, defaultReadLimit: 100 },
    isReady: () => true,
    trust: enrollmentTrustOf(options),
    lifecycle,
  });
  return {
    app, lifecycle, store, inbox, logs,
    async close() {
      await lifecycle.close();
      await closeStorage();
    },
  };
}

/**
 * A cloud on one of the ledgers (test/cloud-bridge/helpers.ts STORAGES) with its lifecycle store:
 * LevelDB in a directory of its own, or PostgreSQL tables in the ledger's database, on its pool.
 * Reopening opens the same ledger and store again.
 */
export async function lifecycleHarness(kind: keyof typeof STORAGES): Promise<LifecycleCloudHarness> {
  const storage = await STORAGES[kind]();
  const dir = await makeTempDir('tillgate-lifecycle-cloud-');
  return {
    async open(o) {
      const ledger = await storage.open(o.clock);
      const store = ledger instanceof PgLedger
        ? new PgLifecycleStore(ledger.pool, { retryMax: 8, random: Math.random })
        : await openLevelLifecycleStore({ dataDir: `${dir}/lifecycle`, keys: defaultDataKeys(dir) });
      return buildLifecycleCloud(ledger, store, store, o, async () => {
        await store.close();
        await ledger.close();
      });
    },
    async destroy() {
      await storage.destroy();
      await removeDir(dir);
    },
  };
}

/** The embedded cloud (LevelDB ledger and lifecycle store). */
export const levelLifecycleHarness = (): Promise<LifecycleCloudHarness> => lifecycleHarness('LevelDB');

// ---- talking to it --------------------------------------------------------------------------

export async function ingest(cloud: TestLifecycleCloud, signer: KeyObjectSigner, terminal: string, jwsList: readonly string[]): Promise<string[]> {
  const res = await postIngest(cloud.app, ingestBody(GW1, [...jwsList], [enrollmentOf(terminal, signer)]));
  if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
  return ((await res.json()) as { results: Array<{ status: string }> }).results.map((r) => r.status);
}

export async function postWebhook(app: Hono, items: readonly NotificationRequestItem[] | unknown): Promise<Response> {
  const body = Array.isArray(items) ? JSON.stringify({ live: 'false', notificationItems: items.map((i: unknown) => ({ NotificationRequestItem: i })) }) : JSON.stringify(items);
  return app.request('/v1/psp/adyen/webhooks', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

export async function getJson(app: Hono, path: string, token: string | null = ADMIN): Promise<{ status: number; body: unknown }> {
  const res = await app.request(path, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

export async function payment(app: Hono, id: string): Promise<PaymentView> {
  const { status, body } = await getJson(app, `/v1/payments/${id}`);
  if (status !== 200) throw new Error(`GET /v1/payments/${id} answered ${status}: ${JSON.stringify(body)}`);
  return paymentViewSchema.parse(body);
}
