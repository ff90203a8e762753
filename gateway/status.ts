/**
 * The gateway's own facts in the status JSON of DESIGN §3.5 (`/api/status`), built from live
 * sources in one place; gateway/status-page/api-routes.ts adds what the page concludes (problems,
 * terminals, the link) with the shapes of gateway/api-shapes.ts.
 */
import type { Clock } from '../lib/clock.js';
import type { AtRestStatus } from '../lib/at-rest/reencrypt.js';
import type { WanState } from '../protocol/messages.js';
import type { Authenticator } from './auth/authenticator.js';
import type { OfflineQueueStats } from './broker/bounded-persistence.js';
import type { ConnectionGate } from './broker/connection-gate.js';
import type { AclCounters } from './broker/hooks.js';
import type { DiskMonitor } from './disk-monitor.js';
import type { ForwardQueue } from './forward-queue.js';
import type { HealthEntry, HealthStore } from './health/health-store.js';
import type { StoreIntegrity } from './integrity.js';
import type { GroupCommitter } from './ingest/group-commit.js';
import type { IngestPipeline } from './ingest/pipeline.js';
import type { PredictionSource } from './predict/live.js';
import type { SubjectRisk } from './predict/scorer.js';
import type { Presence } from './presence.js';
import type { EventStore } from './store/event-store.js';
import type { RestoreStatus } from './store/restore-state.js';
import type { TerminalRecord } from './store/records.js';
import { backlogJson } from './api-shapes.js';

export interface StatusSources {
  readonly gatewayId: string;
  readonly store: string;
  readonly startedAtMs: number;
  readonly diskHighWaterPct: number;
  readonly clock: Clock;
  readonly eventStore: EventStore;
  readonly queue: ForwardQueue;
  readonly disk: DiskMonitor;
  /** Whether the gateway takes events now (disk below its mark and storage not damaged). */
  readonly accepting: () => boolean;
  /** Storage integrity: problems found at start or while running (gateway/integrity.ts). */
  readonly integrity: StoreIntegrity;
  /** The WAN state and whether a monitor reports it yet ("unknown" until one does). */
  readonly wan: () => { readonly state: WanState; readonly source: 'unknown' | 'monitor' };
  readonly presence: Presence;
  readonly health: HealthStore;
  readonly authenticator: Authenticator;
  readonly pipeline: IngestPipeline;
  readonly committer: GroupCommitter;
  readonly acl: AclCounters;
  /** MQTT sockets: pending (not authenticated yet) and sessions, and how many were closed for room. */
  readonly connections: Pick<ConnectionGate, 'stats'>;
  /** Messages for offline persistent sessions superseded or dropped (broker/bounded-persistence.ts). */
  readonly offlineQueues: Readonly<OfflineQueueStats>;
  readonly healthStats: { readonly accepted: number; readonly invalid: number; readonly dropped: number };
  /** Encryption at rest: the current data key, the keys stored values still use, the re-seal pass. */
  readonly atRest: () => AtRestStatus;
  /** A restore from backup and the terminals whose heads wait for the cloud, or null (store/restore-state.ts). */
  readonly restore: () => RestoreStatus | null;
  /** `cloud`: payments go to the cloud; `store-only`: they stay here by choice (`--store-only`); `no-cloud`: none configured. */
  readonly forwarding: 'cloud' | 'store-only' | 'no-cloud';
  /** Live failure risk (gateway/predict), when prediction runs. */
  readonly prediction?: PredictionSource;
}

/** A subject's failure risk as /api/status shows it (DESIGN §3.7 levels, reasons in plain words). */
export interface RiskSummary {
  readonly risk: number;
  readonly level: SubjectRisk['level'];
  readonly reasons: readonly string[];
  /** When the current level began; null when it has been clear since the gateway started. */
  readonly since: string | null;
}

export function riskSummary(r: SubjectRisk | undefined): RiskSummary | null {
  return r === undefined ? null : { risk: r.risk, level: r.level, reasons: r.reasons, since: r.sinceMs === null ? null : new Date(r.sinceMs).toISOString() };
}

/** What `/api/terminals/:id` adds to the terminal's shape (gateway/api-shapes.ts `terminalJson`). */
export interface TerminalDetailExtras {
  readonly headHash: string;
  readonly enrolledAt: string;
  /** `endorsed`: the key carries the operator's endorsement (DESIGN §3.1); false only for keys of the previous release. */
  readonly keys: readonly { readonly kid: string; readonly at: string; readonly endorsed: boolean }[];
  readonly health: { readonly receivedAt: string; readonly sample: HealthEntry['sample'] } | null;
}

/** Keys of a terminal enrolled without an endorsement (by the previous release). */
export function keysNotEndorsed(record: Pick<TerminalRecord, 'keys'> | undefined): number {
  return record === undefined ? 0 : record.keys.filter((k) => k.endorsement === undefined).length;
}

export function terminalDetailExtras(src: StatusSources, terminal: string): TerminalDetailExtras | undefined {
  const record = src.eventStore.terminal(terminal);
  if (record === undefined) return undefined;
  const latest = src.health.latest(terminal);
  return {
    headHash: src.eventStore.head(terminal).hash,
    enrolledAt: record.enrolledAt,
    keys: record.keys.map((k) => ({ kid: k.kid, at: k.at, endorsed: k.endorsement !== undefined })),
    health: latest === undefined ? null : { receivedAt: new Date(latest.receivedAtMs).toISOString(), sample: latest.sample },
  };
}

export function buildStatus(src: StatusSources) {
  const now = src.clock.now();
  const stats = src.eventStore.stats();
  const disk = src.disk.usage();
  const rejectsTotal = Object.values(stats.rejectsByCode).reduce((a, b) => a + b, 0);
  const wan = src.wan();
  return {
    gatewayId: src.gatewayId,
    store: src.store,
    uptimeS: Math.floor((now - src.startedAtMs) / 1000),
    at: new Date(now).toISOString(),
    wan: wan.state,
    wanSource: wan.source,
    accepting: src.accepting(),
    integrity: { state: src.integrity.state, problems: src.integrity.problems().map((p) => ({ ...p, at: new Date(p.atMs).toISOString() })), more: src.integrity.uncounted },
    eventsStored: stats.eventsStored,
    rejects: { total: rejectsTotal, byCode: stats.rejectsByCode },
    diskFreeBytes: disk?.freeBytes ?? null,
    diskTotalBytes: disk?.totalBytes ?? null,
    diskHighWaterPct: src.diskHighWaterPct,
    diskReserve: src.disk.reserve,
    // At the rate the disk has been filling: seconds until the high-water mark (null: not filling).
    diskFullInS: src.disk.fullInSeconds(),
    // The same shape as /api/forwarder's `backlog` (gateway/api-shapes.ts).
    backlog: backlogJson(src.queue, src.clock),
    ingest: { ...src.pipeline.counts, commits: { ...src.committer.stats, ...src.committer.commitDurations() } },
    auth: { failures: { ...src.authenticator.failures } },
    acl: { ...src.acl },
    connections: src.connections.stats(),
    offlineQueues: { ...src.offlineQueues },
    health: { ...src.healthStats },
    prediction: predictionStatus(src),
    atRest: src.atRest(),
    forwarding: src.forwarding,
    restore: src.restore(),
    terminalsEnrolled: stats.terminals,
    terminalsConnected: src.presence.connectedCount(),
  };
}

export type GatewayStatus = ReturnType<typeof buildStatus>;

/** Most recent level changes /api/status lists (the page lists more). */
const STATUS_RECENT_ALERTS = 10;

function predictionStatus(src: StatusSources) {
  const p = src.prediction;
  if (p === undefined) return null;
  return {
    modelVersion: p.modelVersion,
    wan: riskSummary(p.wan()),
    atRisk: p.list().filter((r) => r.level !== 'clear').map((r) => ({ subject: r.subject, ...riskSummary(r) })),
    recentAlerts: p.recentAlerts(STATUS_RECENT_ALERTS).map((a) => ({ at: a.at, subject: a.subject, level: a.level, risk: a.risk, reasons: a.reasons })),
  };
}
