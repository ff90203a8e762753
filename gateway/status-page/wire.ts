/**
 * The gateway's extension point calls this (gateway/index.ts `wireExtensions`), after the delivery
 * side: it feeds the page from the gateway's live parts, mounts `GET /`, the live stream and
 * `GET /metrics`, counts forward batches for the histogram, and ends open streams on close.
 */
import type { DeliveryHandle } from '../forwarder/delivery.js';
import { forwarderStatus } from '../forwarder/status.js';
import { hasReadCredentials } from '../http/security.js';
import type { GatewayContext } from '../index.js';
import { createGatewayMetrics, type GatewayMetrics } from '../metrics/gateway-metrics.js';
import { gatewayMetricsSources } from '../metrics/gateway-sources.js';
import { readGatewayView, type WanDetail } from './gateway-view.js';
import { mountStatusPage, type StatusPageHandle, type StatusPageOptions } from './mount.js';
import { systemTimeZone } from './time-words.js';

export interface StatusPageWiring {
  readonly page: StatusPageHandle;
  readonly metrics: GatewayMetrics;
}

/** The status page options a gateway's config may set (see gateway/config.ts). */
export interface StatusPageConfig {
  readonly terminalSilentAfterS?: number;
  readonly statusMaxStreams?: number;
  readonly statusMaxStreamsPerAddress?: number;
  readonly statusPushIntervalMs?: number;
}

function pageOptions(config: StatusPageConfig): Partial<StatusPageOptions> {
  return {
    ...(config.terminalSilentAfterS === undefined ? {} : { silentTerminalAfterMs: config.terminalSilentAfterS * 1000 }),
    ...(config.statusMaxStreams === undefined ? {} : { maxStreams: config.statusMaxStreams }),
    ...(config.statusMaxStreamsPerAddress === undefined ? {} : { maxStreamsPerAddress: config.statusMaxStreamsPerAddress }),
    ...(config.statusPushIntervalMs === undefined ? {} : { pushIntervalMs: config.statusPushIntervalMs }),
  };
}

export function wireStatusPage(ctx: GatewayContext, delivery: DeliveryHandle | null): StatusPageWiring {
  const forwarder = delivery === null ? undefined : () => forwarderStatus(delivery.forwarder, ctx.queue, ctx.clock);
  const wan =
    delivery === null
      ? undefined
      : (): WanDetail => {
          const link = delivery.monitor.link;
          // Before the first probe the monitor says "offline" to be safe; the page says "not known yet".
          if ('reason' in link && link.reason === 'NOT_PROBED') return { state: 'unknown', sinceMs: null, rttMs: null };
          return { state: link.state, sinceMs: link.since, rttMs: link.rttMs, reason: 'reason' in link ? link.reason : null, cutUntilMs: delivery.gate.cutUntilMs() };
        };
  const metrics = createGatewayMetrics(gatewayMetricsSources(ctx.statusSources, wan === undefined ? undefined : () => wan().state));
  delivery?.forwarder.onOutcome((o) => metrics.observeForwardBatch(o.kind, o.latencyMs));
  const display = { storeName: ctx.options.storeName, timeZone: ctx.options.timeZone ?? systemTimeZone() };
  const page = mountStatusPage(ctx.app, {
    readView: () => readGatewayView({ status: ctx.statusSources, display, ...(forwarder ? { forwarder } : {}), ...(wan ? { wan } : {}) }),
    metrics,
    clock: ctx.clock,
    logger: ctx.logger.child({ part: 'status-page' }),
    options: pageOptions(ctx.options),
    hasCredentials: (c) => hasReadCredentials(c, { adminToken: ctx.options.adminToken, statusUser: ctx.options.statusUser, statusPassword: ctx.options.statusPassword }),
  });
  ctx.onClose(() => page.close());
  return { page, metrics };
}
