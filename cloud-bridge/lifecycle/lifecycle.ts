/**
 * The payment lifecycle of one cloud-bridge (DESIGN §3.6), built from handed-in parts: the ledger
 * feed, the payment store, the webhook inbox, the PSP status client. It owns two log followers
 * (ledger feed → payments, webhook inbox → payments), the reconciliation job, and mounts its routes
 * (webhooks, read side, updates to stores, the dashboard) on the cloud's app.
 */
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayDirectory } from '../auth.js';
import type { FeedEntry, LedgerFeed } from '../feed.js';
import { mountDashboard } from '../dashboard/mount.js';
import { mountPaymentRoutes } from '../http/payment-routes.js';
import { mountUpdatesRoute } from '../http/updates-route.js';
import { mountWebhookRoute } from '../http/webhook-route.js';
import { LogFollower } from './follower.js';
import type { MachineConfig } from './machine.js';
import { LifecycleMetrics } from './metrics.js';
import type { LifecycleOptions } from './options.js';
import type { PaymentChange, PaymentStore } from './payment-store.js';
import type { PspClient } from './psp-client.js';
import { ReconcileJob, runReconciliation, type ReconcileRun } from './reconcile.js';
import { signalOfFeedEntry, signalOfInboxEntry } from './signals.js';
import type { InboxEntry, WebhookInbox } from './webhook-inbox.js';

/** Pages one follower round applies before it lets other work run. */
const MAX_PAGES_PER_ROUND = 20;

export interface LifecycleDeps {
  readonly feed: LedgerFeed;
  readonly payments: PaymentStore;
  readonly inbox: WebhookInbox;
  /** The PSP status API; null: reconciliation is off (no --psp-url). */
  readonly psp: PspClient | null;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
}

export type LifecycleState = 'created' | 'running' | 'closing' | 'closed';

export class Lifecycle {
  readonly metrics: LifecycleMetrics;
  readonly config: MachineConfig;
  readonly feedFollower: LogFollower<FeedEntry>;
  readonly inboxFollower: LogFollower<InboxEntry>;
  #reconcile: ReconcileJob | null = null;
  #state: LifecycleState = 'created';

  constructor(readonly deps: LifecycleDeps, readonly options: LifecycleOptions) {
    this.metrics = new LifecycleMetrics(deps.registry);
    this.config = Object.freeze({ optimisticCharge: options.optimisticCharge });
    const follow = { pageEntries: options.lifecyclePageEntries, pollIntervalMs: options.lifecyclePollIntervalMs, maxPagesPerRound: MAX_PAGES_PER_ROUND };
    const onChanges = (changes: readonly PaymentChange[]) => this.#onChanges(changes);
    this.feedFollower = new LogFollower<FeedEntry>(
      'feed',
      { read: (after, limit) => deps.feed.readFeed(after, limit), positionOf: (e) => e.position, signalOf: signalOfFeedEntry },
      deps.payments, this.config, follow, onChanges, deps.logger,
    );
    this.inboxFollower = new LogFollower<InboxEntry>(
      'inbox',
      { read: (after, limit) => deps.inbox.read(after, limit), positionOf: (e) => e.position, signalOf: signalOfInboxEntry },
      deps.payments, this.config, follow, onChanges, deps.logger,
    );
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** Mounts the lifecycle's routes; call before the ledger's read routes (each checks its own token). */
  mount(app: Hono, directory: GatewayDirectory, limits: { defaultReadLimit: number; maxReadLimit: number }): void {
    const o = this.options;
    if (o.pspHmacKey !== undefined) {
      mountWebhookRoute(
        app,
        { inbox: this.deps.inbox, hmacKey: o.pspHmacKey, clock: this.deps.clock, logger: this.deps.logger, metrics: this.metrics, onStored: () => this.inboxFollower.wake() },
        o,
      );
    }
    mountUpdatesRoute(app, this.deps.payments, directory);
    mountPaymentRoutes(app, this.deps.payments, directory, { ...limits, latencyWindow: o.latencyWindow });
    mountDashboard(app, { store: this.deps.payments, directory, clock: this.deps.clock, optimisticCharge: o.optimisticCharge, latencyWindow: o.latencyWindow });
  }

  /** Starts both followers and, with a PSP status API, the reconciliation job. */
  start(): void {
    if (this.#state !== 'created') return;
    this.#state = 'running';
    const o = this.options;
    if (o.pspHmacKey === undefined) this.deps.logger.warn('no --psp-hmac-key: PSP webhooks are not accepted (POST /v1/psp/adyen/webhooks answers 404)');
    if (this.deps.psp === null) this.deps.logger.warn('no --psp-url: payments without a PSP outcome are not reconciled');
    else this.#reconcile = new ReconcileJob(this.#reconcileDeps(), o);
    this.feedFollower.start();
    this.inboxFollower.start();
  }

  /** One reconciliation run now (operators, tests, the bench); null without a PSP client. */
  async reconcileNow(): Promise<ReconcileRun | null> {
    return this.deps.psp === null ? null : runReconciliation(this.#reconcileDeps(), this.options);
  }

  /** Applies everything both logs hold now (tests and the bench drive time themselves). */
  async catchUp(): Promise<void> {
    while ((await this.feedFollower.catchUp()) + (await this.inboxFollower.catchUp()) > 0) {
      // until both logs are applied
    }
  }

  /** Stops the job and the followers (each finishes the write it is in). Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = 'closing';
    await this.#reconcile?.stop();
    await Promise.all([this.feedFollower.stop(), this.inboxFollower.stop()]);
    this.#state = 'closed';
  }

  #reconcileDeps() {
    return {
      store: this.deps.payments,
      psp: this.deps.psp as PspClient,
      clock: this.deps.clock,
      config: this.config,
      logger: this.deps.logger,
      beforeRun: () => this.inboxFollower.catchUp(),
      onChanges: (changes: readonly PaymentChange[]) => {
        for (const { after } of changes) this.metrics.reconciled.inc({ verdict: after.state });
        this.#onChanges(changes);
      },
    };
  }

  #onChanges(changes: readonly PaymentChange[]): void {
    this.metrics.observe(changes);
    for (const { before, after } of changes) {
      // DESIGN §3.6: a contradicted optimistic charge is an alarm.
      if (!before?.contradicted && after.contradicted) {
        this.deps.logger.error('ALARM: an optimistic charge was contradicted', {
          id: after.id, store: after.event?.store, terminal: after.event?.terminal, seq: after.event?.seq, state: after.state,
        });
      }
      if (after.overflow > (before?.overflow ?? 0)) this.deps.logger.error('a payment received more PSP notifications than it keeps', { id: after.id, overflow: after.overflow });
      if (after.eventConflicts > (before?.eventConflicts ?? 0)) this.deps.logger.error('two terminal events claim one payment id', { id: after.id });
    }
  }
}
