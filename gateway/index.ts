/**
 * The one place that wires the gateway's production objects: event store, group
 * committer, ingest pipeline, Aedes broker and its sockets, disk monitor, status topic, HTTP app.
 * `wireExtensions` is where the forwarder, WAN monitor, cron jobs and status page plug in.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { listenFailure } from '../lib/cli-failure.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { loadDataKeys, reencryptPace } from '../lib/at-rest/options.js';
import { ProvisioningKeys } from '../protocol/endorsement.js';
import { parseTopic } from '../protocol/topics.js';
import { AckPublisher } from './acks.js';
import { mountBackupRoute, startAdminSocket } from './backup/serve.js';
import { Authenticator } from './auth/authenticator.js';
import { boundedPersistence } from './broker/bounded-persistence.js';
import { ConnectionGate } from './broker/connection-gate.js';
import { brokerHooks, type AclCounters } from './broker/hooks.js';
import { listen, type Listeners } from './broker/listeners.js';
import { parseGatewayOptions, type GatewayOptions, type GatewayOptionsInput } from './config.js';
import { statfsProbe, type DiskProbe } from './disk-monitor.js';
import { Enrollment } from './enrollment.js';
import { systemTimers } from './forwarder/timers.js';
import { forwardsToCloud, wireDelivery } from './forwarder/wire.js';
import { wireStatusPage } from './status-page/wire.js';
import { wireUpdates } from './updates/wire.js';
import type { ForwardQueue } from './forward-queue.js';
import type { HealthStore } from './health/health-store.js';
import { mountHealthRoutes } from './health/routes.js';
import { openHealth, recordWanProbes } from './health/wire.js';
import type { LivePredictor } from './predict/live.js';
import { startPrediction } from './predict/wire.js';
import { createApp, type Readiness } from './http/app.js';
import { ChainTracker } from './ingest/chain-tracker.js';
import { ClientLanes } from './ingest/client-lanes.js';
import { GroupCommitter } from './ingest/group-commit.js';
import { EventIdGate } from './ingest/id-gate.js';
import { aedesBus, type MessageBus } from './ingest/message-bus.js';
import { IngestPipeline } from './ingest/pipeline.js';
import { InlineVerifier, type Verifier } from './ingest/verifier.js';
import { WorkerVerifier } from './ingest/worker-verifier.js';
import { Presence } from './presence.js';
import { LevelHistoryStore, type HistoryStore } from './history/history-store.js';
import { AdminSessions, DEFAULT_ADMIN_SESSIONS_MAX } from './http/admin-sessions.js';
import { DEFAULT_PRESENCE_FLUSH_INTERVAL_MS, loadLastSeen, PresenceLog } from './presence-log.js';
import { keysNotEndorsed, type StatusSources } from './status.js';
import { StatusTopic } from './status-topic.js';
import { corruptionProblem } from './integrity.js';
import type { CommitEntry, EventStore } from './store/event-store.js';
import { openGatewayStorage } from './store/open-store.js';
import { RestoreState } from './store/restore-state.js';
import { DEFAULT_SCRUB_CHUNK_RECORDS, DEFAULT_SCRUB_PAUSE_MS, scrubStore } from './store/scrub.js';

export type { GatewayOptions, GatewayOptionsInput } from './config.js';

/** Injected edges: time, logs, and test hooks. */
export interface GatewayDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Disk usage probe (tests simulate a full disk with it). */
  readonly diskProbe?: DiskProbe;
  /** Randomness for passwords and salts. */
  readonly random?: (n: number) => Buffer;
  /** Signature verification (default: inline with a KeyObject cache). */
  readonly verifier?: Verifier;
}

export type GatewayState = 'starting' | 'running' | 'closing' | 'closed';

const ADMITTED = { ok: true } as const;

export interface GatewayHandle {
  readonly mqttPort: number;
  /** The MQTT-over-TLS port, or null when no certificate is configured. */
  readonly mqttTlsPort: number | null;
  readonly httpPort: number;
  /** `http://host:port`. */
  readonly httpUrl: string;
  readonly options: GatewayOptions;
  /** The store, as the forwarder sees it. */
  readonly queue: ForwardQueue;
  /** The HTTP app (status page and forwarder routes mount on it). */
  readonly app: Hono;
  /** Owner of the retained `P/gateway/status` topic; a WAN monitor feeds it `update({ wan })`. */
  readonly statusTopic: StatusTopic;
  /** Terminal health samples and WAN probes, with roll-ups (gateway/health/). */
  readonly health: HealthStore;
  /** Live failure risk of each terminal and the WAN (gateway/predict/). */
  readonly prediction: LivePredictor;
  /** The status JSON sources (the status page renders `buildStatus(statusSources)`). */
  readonly statusSources: StatusSources;
  readonly state: GatewayState;
  /** Graceful: stop accepting, finish the open commit, close the store. */
  close(): Promise<void>;
}

/** What an extension (forwarder, WAN monitor, cron jobs, status page) gets to plug into. */
export interface GatewayContext {
  readonly options: GatewayOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: EventStore;
  readonly queue: ForwardQueue;
  readonly app: Hono;
  readonly bus: MessageBus;
  readonly statusTopic: StatusTopic;
  readonly health: HealthStore;
  readonly prediction: LivePredictor;
  readonly statusSources: StatusSources;
  /** The history keyspace (alarms with start and end, outages, backlog) for the status page (gateway/history). */
  readonly history: HistoryStore;
  /** Admin sessions of the status page's login form (gateway/http/admin-sessions.ts). */
  readonly sessions: AdminSessions;
  /** The retained acks (gateway/acks.ts). */
  readonly acks: AckPublisher;
  /** A restore from backup and the terminals whose heads wait for the cloud (store/restore-state.ts). */
  readonly restore: RestoreState;
  /** Registers a closer; closers run (newest first) before the store closes. */
  onClose(closer: () => Promise<void> | void): void;
}

/**
 * Plugs the delivery side and the status page into a started gateway: the forwarder, WAN monitor
 * (feeding `ctx.statusTopic.update({ wan })`), retention job and their routes
 * (gateway/forwarder/wire.ts); then the status page, live stream and metrics.
 */
export async function wireExtensions(ctx: GatewayContext): Promise<void> {
  const delivery = wireDelivery(ctx);
  mountHealthRoutes(ctx.app, { health: ctx.health, store: ctx.options.store });
  // Every WAN probe result goes into the health history (gateway/health), and what it kept is scored.
  if (delivery !== null) ctx.onClose(recordWanProbes(ctx.health, delivery.monitor, (probe) => ctx.prediction.observeProbe(probe)));
  // The technician's page, its live stream, its history and /metrics (gateway/status-page/wire.ts).
  await wireStatusPage(ctx, delivery);
  // Payment updates from the cloud to the terminals (gateway/updates/wire.ts).
  await wireUpdates(ctx);
}

/** Starts the gateway: store, broker, sockets and HTTP. Resolves when it is ready to serve. */
export async function startGateway(input: GatewayOptionsInput, deps: GatewayDeps = {}): Promise<GatewayHandle> {
  const options = parseGatewayOptions(input);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger({ level: options.logLevel, bindings: { program: 'gateway', gateway: options.gatewayId } });
  const startedAtMs = clock.now();
  mkdirSync(options.dataDir, { recursive: true });
  const closers: (() => Promise<void> | void)[] = [];
  let state: GatewayState = 'starting';

  const dataKeys = loadDataKeys(options, options.dataDir);
  logger.info('data key loaded for encryption at rest', { keyFile: dataKeys.path, source: dataKeys.source, currentKey: dataKeys.keys.current().id });
  const { store, disk, integrity, lostEvents, witness } = await openGatewayStorage(
    { ...options, keys: dataKeys.keys, atRest: { ...reencryptPace(options), logger } },
    { clock, logger, diskProbe: deps.diskProbe ?? statfsProbe },
  );
  closers.push(() => store.close());
  warnUnendorsedKeys(store, logger);
  try {
    // A restore from backup is confirmed with the cloud before restored heads are trusted.
    const restore = await RestoreState.open(store, options.dataDir, { confirmable: forwardsToCloud(options), clock, logger });
    closers.push(() => disk.close());
    await witness.start();
    // Before the store closes: a last, exact witness.
    closers.push(() => witness.close());
    const offlineQueues = boundedPersistence({ maxQueuedPerClient: options.mqttOfflineQueueMax, isLastValueTopic: isLastValueTopic(options.store) });
    const broker = new Aedes({ connectTimeout: options.connectTimeoutMs, heartbeatInterval: 60_000, persistence: offlineQueues.persistence });
    const bus = aedesBus(broker);
    const tracker = new ChainTracker((t) => store.head(t));
    const verifier = deps.verifier ?? (options.verifyThreads > 0
      ? new WorkerVerifier(options.verifyThreads)
      : new InlineVerifier(options.maxTerminals * options.maxKeysPerTerminal));
    closers.push(() => verifier.close());
    const healthWiring = await openHealth(store, options, clock, logger);
    closers.push(() => healthWiring.close());
    const health = healthWiring.store;
    const prediction = await startPrediction(options, health, logger);
    closers.push(() => prediction.close());
    // The committer's hook needs the pipeline, which needs the committer: a late-bound slot.
    const late: { pipeline?: IngestPipeline } = {};
    const committer = new GroupCommitter(
      store,
      clock,
      { windowMs: options.commitWindowMs, maxRecords: options.commitMaxRecords, maxBytes: options.commitMaxBytes, maxPending: options.commitMaxPending },
      {
        onCommitted: (entries) => {
          late.pipeline?.committed(entries);
          disk.wrote(commitBytes(entries));
          if (lostEvents.size > 0) {
            const touched = new Set(entries.flatMap((e) => (e.kind === 'event' ? [e.terminal] : [])));
            lostEvents.check(touched).catch((err: unknown) => logger.warn('lost-events check failed', { err }));
          }
        },
        onFailed: (err) => {
          tracker.reset();
          logger.error('commit failed: pending publishes fail and terminals will resend', { err });
        },
      },
    );
    const acks = new AckPublisher({
      storeId: options.store,
      bus,
      head: (t) => store.head(t),
      // Terminals keep what the cloud does not have yet only when there is a cloud to have it.
      cloudSeq: forwardsToCloud(options) ? (t) => store.queue.cloudSeq(t) : undefined,
      withheld: (t) => restore.unconfirmed(t),
      timers: systemTimers,
      logger,
      intervalMs: options.cloudAckIntervalMs,
    });
    closers.push(() => acks.close());
    const stopCloudAcks = store.queue.onCloudAdvance((terminals) => acks.cloudMoved(terminals));
    closers.push(stopCloudAcks);
    const statusTopic = new StatusTopic({ bus, clock, store: options.store, backlog: () => store.queue.backlog().events, logger });
    // Taking events: the disk below its mark and the storage not damaged (DESIGN §4: terminals keep them).
    const accepting = () => disk.accepting() && integrity.state !== 'damaged';
    disk.onChange(() => statusTopic.update({ accepting: accepting() }));
    integrity.onChange(() => statusTopic.update({ accepting: accepting() }));
    const pipeline = new IngestPipeline({
      storeId: options.store, store, tracker, ids: new EventIdGate(), committer, verifier, bus, logger, acks,
      unconfirmed: (t) => restore.unconfirmed(t),
      admit: (bytes) => {
        if (integrity.state === 'damaged') return { ok: false, reason: 'the gateway storage is damaged; keep the event and retry later' };
        return disk.admits(bytes) ? ADMITTED : { ok: false, reason: 'the gateway disk is past its high-water mark; keep the event and retry later' };
      },
    });
    late.pipeline = pipeline;
    const authenticator = new Authenticator((t) => store.terminal(t), clock, {
      maxConcurrentHashes: options.authMaxConcurrentHashes,
      maxQueuedHashes: options.authMaxQueuedHashes,
      failureLimit: options.authFailureLimit,
      lockoutMs: options.authLockoutMs,
      cacheEntries: options.maxTerminals,
    });
    // Last-seen times survive a restart (gateway/presence-log.ts): restored now, written in bounded batches.
    const presence = new Presence(options.maxTerminals, await loadLastSeen(store.sections.presence, options.maxTerminals, logger));
    const presenceLog = new PresenceLog(store.db, store.sections.presence, presence, logger);
    presenceLog.start(DEFAULT_PRESENCE_FLUSH_INTERVAL_MS);
    // After the broker has closed its clients (their disconnect times count), before the store closes.
    closers.push(() => presenceLog.close());
    const acl: AclCounters = { publishDenied: 0, subscribeDenied: 0, oversizeClosed: 0 };
    const lanes = new ClientLanes(options.maxInflightPerClient);
    const connections = new ConnectionGate({
      maxPending: options.maxPendingConnections,
      maxPendingPerAddress: options.maxPendingConnectionsPerAddress,
      maxSessions: options.maxConnections,
    }, clock);
    Object.assign(broker, brokerHooks({ store: options.store, clock, logger, authenticator, pipeline, lanes, health, presence, connections, counters: acl }));
    broker.on('client', (client) => presence.connected(client.id, clock.now()));
    broker.on('clientDisconnect', (client) => presence.disconnected(client.id, clock.now()));
    broker.on('clientError', (client, err) => logger.debug('mqtt client error', { terminal: client.id?.slice(0, 64), err }));
    await broker.listen();
    closers.push(() => new Promise<void>((resolve) => broker.close(() => resolve())));
    // Retained messages live in the broker's memory: after a restart every terminal's ack is
    // published again from the durable heads (DESIGN §3.3: on connect a terminal reads it). A
    // terminal whose acknowledged events the store lost gets its true head even when that is 0, so
    // it resends what it still holds from there (gateway/lost-events.ts).
    for (const terminal of store.terminalIds()) {
      const head = store.head(terminal);
      if (head.seq > 0 || lostEvents.heldHead(terminal) !== undefined) await acks.publish(terminal);
    }
    statusTopic.update({ accepting: accepting() });
    await statusTopic.start();
    closers.push(() => statusTopic.close());
    // Before the broker closes its clients: the open commit finishes and its PUBACKs go out.
    closers.push(() => committer.close());

    const listeners: Listeners = await listen(broker, {
      host: options.host,
      port: options.mqttPort,
      // The hard stop at accept, above what the gate and the authenticator allow together: sessions,
      // idle sockets, CONNECTs waiting for a password check, and as many again answering refusals.
      maxSockets: options.maxConnections + 2 * options.maxPendingConnections + options.authMaxConcurrentHashes + options.authMaxQueuedHashes,
      gate: connections,
      maxPacketBytes: options.mqttMaxPacketBytes,
      onOversize: () => {
        acl.oversizeClosed++;
        logger.warn('closed an MQTT connection that sent a packet over the size limit', { maxPacketBytes: options.mqttMaxPacketBytes });
      },
      ...(options.tlsCert !== undefined && options.tlsKey !== undefined
        ? { tls: { certFile: options.tlsCert, keyFile: options.tlsKey, port: options.mqttTlsPort } }
        : {}),
    });
    closers.push(() => listeners.close());

    const enrollment = new Enrollment({
      storeId: options.store,
      store,
      committer,
      clock,
      forgetCredentials: (t) => authenticator.forget(t),
      maxTerminals: options.maxTerminals,
      maxKeysPerTerminal: options.maxKeysPerTerminal,
      ...(options.provisioningKeys === undefined ? {} : { provisioningKeys: ProvisioningKeys.fromBase64url(options.provisioningKeys) }),
      ...(deps.random === undefined ? {} : { random: deps.random }),
    });
    const statusSources: StatusSources = {
      gatewayId: options.gatewayId,
      store: options.store,
      startedAtMs,
      diskHighWaterPct: options.diskHighWaterPct,
      clock,
      eventStore: store,
      queue: store.queue,
      disk,
      accepting,
      integrity,
      wan: () => ({ state: statusTopic.wan, source: statusTopic.wanSource }),
      presence,
      health,
      authenticator,
      pipeline,
      committer,
      acl,
      connections,
      offlineQueues: offlineQueues.stats,
      healthStats: health.stats,
      prediction: prediction.predictor,
      atRest: () => store.atRest.status(),
      restore: () => restore.status(),
      forwarding: forwardsToCloud(options) ? 'cloud' : options.storeOnly ? 'store-only' : 'no-cloud',
    };
    // The page's admin logins; the security middleware and the page's admin forms share them.
    const sessions = new AdminSessions(clock, { ttlMs: options.adminSessionTtlS * 1000, maxSessions: DEFAULT_ADMIN_SESSIONS_MAX }, deps.random);
    const app = createApp({
      adminToken: options.adminToken,
      enrollBodyMaxBytes: options.enrollBodyMaxBytes,
      enrollment,
      ready: (): Readiness => {
        if (integrity.state === 'damaged') return { ready: false, code: 'STORE_DAMAGED', message: 'the event store is damaged: the gateway does not take events' };
        const up = state === 'running' && store.status === 'open' && !broker.closed;
        return up ? { ready: true } : { ready: false, code: 'NOT_READY', message: 'store or broker not ready' };
      },
      logger,
      statusUser: options.statusUser,
      statusPassword: options.statusPassword,
      sessions,
    });
    // A consistent copy of the store while it runs: admin HTTP and the data directory's socket.
    mountBackupRoute(app, { adminToken: options.adminToken, db: store.db, clock });
    const adminSocket = await startAdminSocket(options.dataDir, { db: store.db, clock, logger });
    if (adminSocket !== null) closers.push(() => adminSocket.close());
    const server = await serveHttp(app, options.host, options.httpPort).catch((err: unknown) => {
      throw listenFailure(err, 'httpPort', options.host, options.httpPort);
    });
    closers.push(() => closeHttp(server));
    const httpPort = (server.address() as AddressInfo).port;

    const extensionClosers: (() => Promise<void> | void)[] = [];
    await wireExtensions({
      options, clock, logger, store, queue: store.queue, app, bus, statusTopic, health, prediction: prediction.predictor, statusSources, acks, restore,
      history: new LevelHistoryStore(store.db, store.sections.history),
      sessions,
      onClose: (closer) => extensionClosers.push(closer),
    });
    closers.push(() => runClosers(extensionClosers, logger));

    state = 'running';
    // Read every record once in the background: a damaged table is found before anything needs it.
    const scrub = scrubStore(Object.values(store.sections), (where, err) => integrity.report(`corrupt:${where}`, corruptionProblem(where, err)), {
      chunkRecords: DEFAULT_SCRUB_CHUNK_RECORDS,
      pauseMs: DEFAULT_SCRUB_PAUSE_MS,
      stopped: () => state !== 'running',
    }).then(
      (result) => logger.debug('store scrub done', { ...result }),
      (err: unknown) => logger.warn('store scrub stopped', { err }),
    );
    closers.push(() => scrub);
    const urlHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
    logger.info('gateway ready', { mqttPort: listeners.mqttPort, httpPort, store: options.store });
    let closing: Promise<void> | null = null;
    return {
      mqttPort: listeners.mqttPort,
      mqttTlsPort: listeners.mqttTlsPort,
      httpPort,
      httpUrl: `http://${urlHost.includes(':') ? `[${urlHost}]` : urlHost}:${httpPort}`,
      options,
      queue: store.queue,
      app,
      statusTopic,
      health,
      prediction: prediction.predictor,
      statusSources,
      get state() {
        return state;
      },
      close() {
        closing ??= (async () => {
          state = 'closing';
          await runClosers(closers, logger);
          state = 'closed';
          logger.info('gateway closed');
        })();
        return closing;
      },
    };
  } catch (err) {
    await runClosers(closers, logger);
    throw err;
  }
}

/** The retained state topics of DESIGN §3.3 (`…/{terminal}/ack`, `…/gateway/status`): the newest supersedes the rest. */
function isLastValueTopic(store: string): (topic: string) => boolean {
  return (topic) => {
    const parsed = parseTopic(topic);
    return parsed !== undefined && parsed.store === store && (parsed.kind === 'ack' || (parsed.kind === 'gateway' && parsed.rest === 'status'));
  };
}

/** Bytes a commit put on disk, roughly: the events' JWS plus a record's worth of keys and fields. */
function commitBytes(entries: readonly CommitEntry[]): number {
  let bytes = 0;
  for (const e of entries) bytes += (e.kind === 'event' ? e.jws.length : 0) + 256;
  return bytes;
}

/**
 * Keys enrolled by the previous release carry no endorsement: they still open and forward, but a
 * cloud that checks endorsements (DESIGN §3.1) refuses what they sign. Said once at start, loudly;
 * the status page says it for as long as it is true.
 */
function warnUnendorsedKeys(store: EventStore, logger: Logger): void {
  const terminals = store.terminalIds().filter((t) => keysNotEndorsed(store.terminal(t)) > 0);
  if (terminals.length === 0) return;
  logger.warn('ALARM terminals have keys without an endorsement: a cloud with provisioning keys refuses their payments; enroll them again with their endorsement', {
    alarm: 'KEYS_NOT_ENDORSED',
    terminals: terminals.slice(0, 20),
    count: terminals.length,
  });
}

/** Runs closers newest first; one failing does not stop the others. */
async function runClosers(closers: (() => Promise<void> | void)[], logger: Logger): Promise<void> {
  while (closers.length > 0) {
    const closer = closers.pop() as () => Promise<void> | void;
    try {
      await closer();
    } catch (err) {
      logger.error('error while closing', { err });
    }
  }
}

function serveHttp(app: Hono, hostname: string, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, () => resolve(server));
    server.once('error', reject);
  });
}

function closeHttp(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // server.close() waits for keep-alive and streaming connections until they end: cut them.
    if ('closeAllConnections' in server) server.closeAllConnections();
  });
}
