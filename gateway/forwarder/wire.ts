/**
 * The gateway's extension point calls this (gateway/index.ts `wireExtensions`): with a cloud URL
 * and token configured it starts the delivery side; without them the gateway only stores (and
 * says so in the log), which is what a store box does before it is provisioned.
 */
import type { Enrollment } from '../../protocol/ingest-api.js';
import type { GatewayOptions } from '../config.js';
import type { GatewayContext } from '../index.js';
import { HttpCloudHeads } from '../resync/cloud-heads.js';
import { HeadResync } from '../resync/head-resync.js';
import type { EventStore } from '../store/event-store.js';
import { startDelivery, type DeliveryDeps, type DeliveryHandle } from './delivery.js';
import { deliveryOptionsSchema, deliveryOptionsShape } from './options.js';
import { systemTimers } from './timers.js';
import type { EnrollmentSource } from './request-builder.js';

/** The enrolled keys of a terminal, from the gateway's registry (for resends the cloud may lack). */
export function storeEnrollments(store: Pick<EventStore, 'terminal'>): EnrollmentSource {
  return {
    enrollmentsOf: async (terminal: string): Promise<Enrollment[]> =>
      (store.terminal(terminal)?.keys ?? []).map((k) => ({
        terminal, kid: k.kid, publicKey: k.publicKey, at: k.at, ...(k.endorsement === undefined ? {} : { endorsement: k.endorsement }),
      })),
  };
}

/** True when the gateway sends payments to a cloud: a URL and a token, and not `--store-only`. */
export function forwardsToCloud(options: Pick<GatewayOptions, 'cloudUrl' | 'cloudToken' | 'storeOnly'>): boolean {
  return options.cloudUrl !== undefined && options.cloudToken !== undefined && options.storeOnly !== true;
}

/** Starts the delivery side when the cloud is configured; registers its closer. Returns it or null. */
export function wireDelivery(ctx: GatewayContext, overrides: Partial<Pick<DeliveryDeps, 'client' | 'timers' | 'random'>> = {}): DeliveryHandle | null {
  const { cloudUrl, cloudToken } = ctx.options;
  if (cloudUrl === undefined || cloudToken === undefined || !forwardsToCloud(ctx.options)) {
    ctx.logger.warn(ctx.options.storeOnly === true
      ? 'store only (--store-only): payments are stored durably here and not sent to a cloud'
      : 'no --cloud-url/--cloud-token: payments are stored durably here and not sent to a cloud');
    return null;
  }
  // The delivery options live in the gateway's one config schema; read them by name so this also
  // works with programmatic options that leave them out (defaults fill in).
  const given = ctx.options as unknown as Record<string, unknown>;
  const picked = Object.fromEntries(Object.keys(deliveryOptionsShape).filter((k) => given[k] !== undefined).map((k) => [k, given[k]]));
  const delivery = startDelivery(
    { ...deliveryOptionsSchema.parse(picked), gatewayId: ctx.options.gatewayId, store: ctx.options.store, adminToken: ctx.options.adminToken, cloudUrl, cloudToken },
    { queue: ctx.queue, app: ctx.app, clock: ctx.clock, logger: ctx.logger, statusTopic: ctx.statusTopic, enrollments: storeEnrollments(ctx.store), ...overrides },
  );
  ctx.onClose(() => delivery.close());
  // A restored gateway confirms its terminals' heads with the cloud (gateway/store/restore-state.ts).
  const resync = new HeadResync({
    state: ctx.restore,
    heads: new HttpCloudHeads({ cloudUrl, store: ctx.options.store, cloudToken, timeoutMs: ctx.options.forwardTimeoutMs }),
    acks: ctx.acks,
    linkUp: () => !delivery.gate.isCut(),
    timers: overrides.timers ?? systemTimers,
    logger: ctx.logger.child({ part: 'resync' }),
    retryMs: ctx.options.resyncRetryMs,
  });
  resync.start();
  ctx.onClose(() => resync.close());
  return delivery;
}
