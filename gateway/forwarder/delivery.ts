/**
 * Wires the gateway's delivery side in one place: the cloud client (behind the demo
 * LinkGate), the forwarder, the WAN monitor, the retention job and their HTTP routes. The gateway
 * calls `startDelivery` once from its extension point in gateway/index.ts.
 */
import type { Hono } from 'hono';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { WanState } from '../../protocol/messages.js';
import type { ForwardQueue } from '../forward-queue.js';
import { RetentionJob } from '../jobs/retention.js';
import { WanMonitor } from '../wan/wan-monitor.js';
import type { CloudClient } from './cloud-client.js';
import { Forwarder } from './forwarder.js';
import { HttpCloudClient } from './http-cloud-client.js';
import { gatedCloudClient, LinkGate } from './link-gate.js';
import { DEFAULT_DEAD_LETTER_RETRY_MAX, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_WAN_OFFLINE_AFTER_FAILURES, type DeliveryOptions } from './options.js';
import type { EnrollmentSource } from './request-builder.js';
import { mountDeliveryRoutes } from './routes.js';
import { systemTimers, type Random, type Timers } from './timers.js';

export interface DeliveryConfig extends DeliveryOptions {
  readonly gatewayId: string;
  readonly store: string;
  readonly adminToken: string;
  readonly cloudUrl: string;
  readonly cloudToken: string;
}

export interface DeliveryDeps {
  readonly queue: ForwardQueue;
  /** Routes mount here; call before the server answers its first request (Hono builds its router then). */
  readonly app: Hono;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The retained gateway/status owner: fed the WAN state (DESIGN §3.3). */
  readonly statusTopic?: { update(facts: { wan?: WanState }): void };
  readonly enrollments?: EnrollmentSource;
  readonly timers?: Timers;
  readonly random?: Random;
  /** Replaces the HTTP client (tests inject faults here). */
  readonly client?: CloudClient;
}

export interface DeliveryHandle {
  readonly forwarder: Forwarder;
  readonly monitor: WanMonitor;
  readonly gate: LinkGate;
  readonly retention: RetentionJob;
  close(): Promise<void>;
}

export function startDelivery(config: DeliveryConfig, deps: DeliveryDeps): DeliveryHandle {
  const timers = deps.timers ?? systemTimers;
  const logger = deps.logger.child({ part: 'delivery' });
  const gate = new LinkGate(deps.clock);
  const inner = deps.client ?? new HttpCloudClient({ cloudUrl: config.cloudUrl, cloudToken: config.cloudToken, timeoutMs: config.forwardTimeoutMs, maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES }, deps.clock);
  const client = gatedCloudClient(inner, gate);
  const forwarder = new Forwarder(
    {
      gatewayId: config.gatewayId,
      store: config.store,
      batchMaxEvents: config.forwardBatchMaxEvents,
      batchMaxBytes: config.forwardBatchMaxBytes,
      retryDelayMsMin: config.retryDelayMsMin,
      retryDelayMsMax: config.retryDelayMsMax,
      authRetryDelayMs: config.authRetryDelayMs,
      deadLetterRetryMax: DEFAULT_DEAD_LETTER_RETRY_MAX,
    },
    { queue: deps.queue, client, clock: deps.clock, timers, random: deps.random ?? Math.random, logger: logger.child({ part: 'forwarder' }), ...(deps.enrollments ? { enrollments: deps.enrollments } : {}) },
  );
  const monitor = new WanMonitor(
    {
      probeIntervalMs: config.wanProbeIntervalMs,
      probeIntervalOfflineMs: config.wanProbeIntervalOfflineMs,
      probeTimeoutMs: config.wanProbeTimeoutMs,
      degradedRttMs: config.wanDegradedRttMs,
      offlineAfterFailures: DEFAULT_WAN_OFFLINE_AFTER_FAILURES,
    },
    { client, clock: deps.clock, timers, logger: logger.child({ part: 'wan' }) },
  );
  forwarder.onOutcome((o) => monitor.observe(o));
  monitor.onChange((link, previous) => {
    deps.statusTopic?.update({ wan: link.state });
    // The link is back: try now instead of sleeping out the backoff.
    if (link.state !== 'offline' && previous.state !== 'online') forwarder.wake('force');
  });
  const retention = new RetentionJob(deps.queue, deps.clock, logger.child({ part: 'retention' }), config);
  mountDeliveryRoutes(deps.app, { adminToken: config.adminToken, forwarder, queue: deps.queue, monitor, gate, clock: deps.clock });
  forwarder.start();
  monitor.start();
  // The status topic learns the first probe's verdict even when it is "offline" (no change event).
  void monitor.probeNow().then(() => deps.statusTopic?.update({ wan: monitor.state }));
  return {
    forwarder,
    monitor,
    gate,
    retention,
    async close() {
      monitor.close();
      await retention.stop();
      await forwarder.close();
    },
  };
}
