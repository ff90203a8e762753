/**
 * The gateway's extension point calls this (gateway/index.ts `wireExtensions`), after the delivery
 * side: it feeds the page from the gateway's live parts, keeps the page's history (a node-cron look
 * every 15 s), mounts `GET /`, the live stream and `GET /metrics`, counts forward batches for the
 * histogram, and ends open streams on close.
 */
import type { DeliveryHandle } from '../forwarder/delivery.js';
import { wanFacts } from '../forwarder/routes.js';
import { forwarderStatus } from '../forwarder/status.js';
import { mountStatusApi } from './api-routes.js';
import { adminStateFor, mountAdminRoutes } from './admin-routes.js';
import { deliveryActions } from '../forwarder/admin-actions.js';
import { LoginLimiter } from '../http/login-limiter.js';
import { HistoryJob } from '../history/job.js';
import { HISTORY_SAMPLE_EVERY_MS, HISTORY_TRIM_EVERY_MS, HISTORY_TRIM_MAX_DELETES } from '../history/options.js';
import { HistoryRecorder, type HistoryInput, type HistorySnapshot } from '../history/recorder.js';
import { hasReadCredentials } from '../http/security.js';
import type { GatewayContext } from '../index.js';
import { createGatewayMetrics, type GatewayMetrics } from '../metrics/gateway-metrics.js';
import { gatewayMetricsSources } from '../metrics/gateway-sources.js';
import { PROBLEM_CATALOGUE } from '../problem-catalogue.js';
import { readGatewayView, type GatewayViewSources, type WanDetail } from './gateway-view.js';
import { buildHeadline, type HeadlineOptions } from './headline.js';
import { DEFAULT_STATUS_PAGE_OPTIONS, mountStatusPage, type StatusPageHandle, type StatusPageOptions } from './mount.js';
import { systemTimeZone } from './time-words.js';
import { tillgateVersion } from '../../lib/version.js';
import type { HistoryView, StatusView } from './view.js';

export interface StatusPageWiring {
  readonly page: StatusPageHandle;
  readonly metrics: GatewayMetrics;
  readonly history: HistoryRecorder;
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

/** The history as the page shows it. */
export function historyView(s: HistorySnapshot): HistoryView {
  return { alarms: s.alarms, outages: s.outages, backlog: s.samples };
}

/** What the history records from one look at the page's view: each problem per subject, the link, the backlog. */
export function historyInput(view: StatusView, options: HeadlineOptions): HistoryInput {
  const problems = buildHeadline(view, options).problems.flatMap((p) =>
    p.subjects.map((subject) => ({ code: p.code, subject, level: p.level, title: PROBLEM_CATALOGUE[p.code].title })),
  );
  const backlog = { atMs: view.nowMs, events: view.forwarder.backlogEvents, payments: view.forwarder.money.takings.count };
  const link = view.wan.state === 'unknown' ? null : { offline: view.wan.state === 'offline', reason: view.wan.reason ?? null, backlog, amountByCurrencyMinor: view.forwarder.money.takings.byCurrency };
  return { problems, link, backlog };
}

export async function wireStatusPage(ctx: GatewayContext, delivery: DeliveryHandle | null): Promise<StatusPageWiring> {
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
  const options: StatusPageOptions = { ...DEFAULT_STATUS_PAGE_OPTIONS, ...pageOptions(ctx.options) };
  const display = { storeName: ctx.options.storeName, timeZone: ctx.options.timeZone ?? systemTimeZone() };
  const sources: GatewayViewSources = { status: ctx.statusSources, display, ...(forwarder ? { forwarder } : {}), ...(wan ? { wan } : {}) };
  // /metrics: the gateway's numbers, the problems the page names (to alert on), build and runtime.
  const problems = async () => buildHeadline(await readGatewayView(sources), options).problems;
  const metrics = createGatewayMetrics(gatewayMetricsSources(ctx.statusSources, wan === undefined ? undefined : () => wan().state, problems), {
    version: tillgateVersion(),
    node: process.version,
  });
  delivery?.forwarder.onOutcome((o) => metrics.observeForwardBatch(o.kind, o.latencyMs));

  // The last hours, kept on disk and reloaded at start: a technician arriving after a night outage sees it.
  const history = new HistoryRecorder(ctx.history, ctx.clock, ctx.logger.child({ part: 'history' }), {
    keepMs: ctx.options.historyKeepHours * 3_600_000,
    maxRecords: ctx.options.historyMaxRecords,
    sampleEveryMs: HISTORY_SAMPLE_EVERY_MS,
    trimEveryMs: HISTORY_TRIM_EVERY_MS,
    trimMaxDeletes: HISTORY_TRIM_MAX_DELETES,
  });
  await history.open(ctx.statusSources.startedAtMs);
  const look = async () => historyInput(await readGatewayView(sources), options);
  await history.tick(await look());
  const job = new HistoryJob(ctx.options.historyCron, history, look, ctx.logger);
  ctx.onClose(async () => {
    await job.stop();
    await history.close();
  });

  mountStatusApi(ctx.app, {
    sources: ctx.statusSources,
    readView: () => readGatewayView(sources),
    options,
    wan: () => (delivery === null ? null : wanFacts(delivery.monitor, delivery.gate)),
    history: () => history.snapshot(),
    clock: ctx.clock,
  });
  // Admin from a phone: login form, session cookie, CSRF-checked forms (admin-routes.tsx).
  const actions = delivery === null ? null : deliveryActions({ forwarder: delivery.forwarder, queue: ctx.queue, monitor: delivery.monitor, gate: delivery.gate });
  const admin = { adminToken: ctx.options.adminToken, sessions: ctx.sessions, limiter: new LoginLimiter(ctx.clock), actions, logger: ctx.logger.child({ part: 'admin' }) };
  mountAdminRoutes(ctx.app, admin);
  const page = mountStatusPage(ctx.app, {
    readView: () => readGatewayView({ ...sources, history: async () => historyView(history.snapshot()) }),
    metrics,
    clock: ctx.clock,
    logger: ctx.logger.child({ part: 'status-page' }),
    options,
    hasCredentials: (c) => hasReadCredentials(c, { adminToken: ctx.options.adminToken, statusUser: ctx.options.statusUser, statusPassword: ctx.options.statusPassword, sessions: ctx.sessions }),
    admin: (c, view) => adminStateFor(c, view, admin),
  });
  ctx.onClose(() => page.close());
  return { page, metrics, history };
}
