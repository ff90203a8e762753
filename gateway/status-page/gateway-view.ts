/**
 * Builds the page's `StatusView` from the gateway's live parts: the status sources the status API
 * uses (store, queue, disk, presence, health, WAN state), the forwarder's snapshot and the WAN
 * monitor's detail when those are wired, and the store's recent reject records and dead letters
 * for per-terminal rejects and the alarm list. Reads are bounded (see `GatewayViewLimits`).
 */
import { keysNotEndorsed, type StatusSources } from '../status.js';
import { NOT_RUNNING } from './headline.js';
import type { HealthEntry } from '../health/health-store.js';
import type { SubjectRisk } from '../predict/scorer.js';
import type { AlarmView, ForwarderView, HistoryView, RiskView, StatusView, TerminalView, WanView } from './view.js';
import { rejectWords } from './words.js';

/** The forwarder facts the page shows; the forwarder's status snapshot has this shape. */
export interface ForwarderFacts {
  readonly state: string;
  readonly ratePerS: number;
  readonly lastSuccessAt: string | null;
  readonly lastError: { readonly code: string; readonly at: string } | null;
}

/** The WAN monitor's detail beyond the state the status topic carries. */
export interface WanDetail {
  readonly state: WanView['state'];
  readonly sinceMs: number | null;
  readonly rttMs: number | null;
  /** Why it is not online (`NETWORK`, `TIMEOUT`, `LINK_CUT`, …); null when online. */
  readonly reason?: string | null;
  /** When an admin's test cut of the link ends, while one is on. */
  readonly cutUntilMs?: number | null;
}

/** How the page names the store and tells the time (`--store-name`, `--time-zone`). */
export interface DisplayOptions {
  readonly storeName?: string | undefined;
  readonly timeZone: string;
}

export interface GatewayViewSources {
  readonly status: StatusSources;
  readonly forwarder?: () => ForwarderFacts | null;
  readonly wan?: () => WanDetail | null;
  readonly display?: DisplayOptions;
  /** The last 24 hours (gateway/history), when it is kept. */
  readonly history?: () => Promise<HistoryView>;
}

export interface GatewayViewLimits {
  /** Reject records read per render to count rejects per terminal: the recent ones are what a
   * technician acts on, and the totals by code are in /api/status and /metrics. */
  readonly recentRejects: number;
  /** Dead letters listed as alarms. */
  readonly deadLetters: number;
  /** Alarms shown, newest first. */
  readonly alarms: number;
}

export const DEFAULT_GATEWAY_VIEW_LIMITS: GatewayViewLimits = Object.freeze({ recentRejects: 500, deadLetters: 20, alarms: 20 });

/** Reject codes that are an alarm rather than a warning (possible tampering; DESIGN §3.3). */
const ALARM_REJECT_CODES: ReadonlySet<string> = new Set(['BAD_SIGNATURE', 'UNKNOWN_KEY', 'IDENTITY_MISMATCH', 'CONFLICT', 'BAD_CHAIN', 'DUPLICATE_ID']);
/** Routine resyncs: counted per terminal, not listed as alarms. */
const QUIET_REJECT_CODES: ReadonlySet<string> = new Set(['SEQ_GAP']);

const msOf = (iso: string | null): number | null => {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
};

/** One consistent snapshot for the status page. */
export async function readGatewayView(src: GatewayViewSources, limits: GatewayViewLimits = DEFAULT_GATEWAY_VIEW_LIMITS): Promise<StatusView> {
  const s = src.status;
  const nowMs = s.clock.now();
  // Storage reads may fail on a damaged store: the page still answers, and says what it could not read.
  const unreadable: string[] = [];
  const [rejects, deadLetters] = await Promise.all([
    s.eventStore.recentRejects(limits.recentRejects).catch(() => (unreadable.push('reject records'), [])),
    s.queue.listDeadLetters(limits.deadLetters).catch(() => (unreadable.push('refused payments'), [])),
  ]);
  const backlog = s.queue.backlog();
  const fwd = src.forwarder?.() ?? null;

  const perTerminal = new Map<string, { counts: Record<string, number>; lastMs: number }>();
  for (const r of rejects) {
    const entry = perTerminal.get(r.terminal) ?? { counts: {}, lastMs: r.atMs };
    entry.counts[r.code] = (entry.counts[r.code] ?? 0) + 1;
    entry.lastMs = Math.max(entry.lastMs, r.atMs);
    perTerminal.set(r.terminal, entry);
  }
  const terminals: TerminalView[] = s.eventStore.terminalIds().map((id) => {
    const presence = s.presence.get(id);
    const latest = s.health.latest(id);
    const sample = latest?.sample;
    const rej = perTerminal.get(id);
    return {
      id,
      connected: presence.connected,
      lastSeenAtMs: presence.lastSeenAtMs,
      headSeq: s.eventStore.head(id).seq,
      outboxDepth: sample?.outboxDepth ?? null,
      rssiDbm: sample?.rssiDbm ?? null,
      batteryPct: sample?.batteryPct ?? null,
      rejects: rej?.counts ?? {},
      lastRejectAtMs: rej?.lastMs ?? null,
      ...(s.prediction === undefined ? {} : { risk: riskView(s.prediction.terminal(id)) }),
      keysNotEndorsed: keysNotEndorsed(s.eventStore.terminal(id)),
      ...sampleFacts(latest),
    };
  });

  const alarms: AlarmView[] = [];
  for (const r of rejects) {
    if (QUIET_REJECT_CODES.has(r.code)) continue;
    alarms.push({ atMs: r.atMs, level: ALARM_REJECT_CODES.has(r.code) ? 'alarm' : 'warn', code: r.code, message: `transaction no. ${r.seq} refused: ${rejectWords(r.code)}`, terminal: r.terminal });
    if (alarms.length >= limits.alarms) break;
  }
  for (const d of deadLetters) {
    // UNKNOWN_KEY from the cloud: it holds no trusted key for the signer (DESIGN §3.1), say why.
    const why = d.code === 'UNKNOWN_KEY' ? ' — the cloud does not trust the key that signed it (no valid endorsement from the operator)' : '';
    alarms.push({ atMs: d.atMs, level: 'alarm', code: 'DEAD_LETTER', message: `transaction no. ${d.seq} refused by the cloud (${d.code})${why}`, terminal: d.terminal });
  }
  for (const p of s.integrity.problems().slice(0, limits.alarms)) {
    alarms.push({ atMs: p.atMs, level: 'alarm', code: p.code, message: p.message, ...(p.terminal === undefined ? {} : { terminal: p.terminal }) });
  }
  if (unreadable.length > 0) {
    alarms.push({ atMs: nowMs, level: 'alarm', code: 'STORE_UNREADABLE', message: `could not read the ${unreadable.join(' and ')} from storage` });
  }
  // Failure-prediction level changes: warnings and clears are alarms too.
  for (const a of s.prediction?.recentAlerts(limits.alarms) ?? []) {
    const terminal = a.subject.startsWith('terminal/') ? a.subject.slice('terminal/'.length) : undefined;
    const what = a.level === 'clear' ? 'failure risk back to normal' : (a.reasons[0] ?? `failure risk ${Math.round(a.risk * 100)} %`);
    alarms.push({
      atMs: a.atMs,
      level: a.level === 'critical' ? 'alarm' : a.level === 'warning' ? 'warn' : 'info',
      code: RISK_ALARM_CODES[a.level],
      message: terminal === undefined ? `internet link: ${what}` : what,
      ...(terminal === undefined ? {} : { terminal }),
    });
  }
  const lastErrorMs = msOf(fwd?.lastError?.at ?? null);
  if (fwd?.lastError && lastErrorMs !== null && (msOf(fwd.lastSuccessAt) ?? 0) < lastErrorMs) {
    alarms.push({ atMs: lastErrorMs, level: 'warn', code: fwd.lastError.code, message: 'sending to the cloud failed; retrying with backoff' });
  }
  alarms.sort((a, b) => b.atMs - a.atMs);

  const wanState = s.wan();
  const detail = src.wan?.() ?? null;
  const wan: WanView =
    detail !== null
      ? { state: detail.state, sinceMs: detail.sinceMs, rttMs: detail.rttMs, reason: detail.reason ?? null, cutUntilMs: detail.cutUntilMs ?? null }
      : { state: wanState.source === 'unknown' ? 'unknown' : wanState.state, sinceMs: null, rttMs: null };

  const forwarder: ForwarderView = {
    state: fwd?.state ?? NOT_RUNNING,
    backlogEvents: backlog.events,
    oldestPendingAgeS: backlog.oldestStoredAtMs === null ? null : Math.max(0, Math.floor((nowMs - backlog.oldestStoredAtMs) / 1000)),
    amountByCurrency: backlog.amountByCurrency,
    money: backlog.money,
    ratePerS: fwd?.ratePerS ?? null,
    lastSuccessAtMs: msOf(fwd?.lastSuccessAt ?? null),
    lastErrorCode: fwd?.lastError && lastErrorMs !== null && (msOf(fwd.lastSuccessAt) ?? 0) < lastErrorMs ? fwd.lastError.code : null,
    deadLetters: s.queue.deadLetterCount(),
  };

  const history = src.history === undefined ? undefined : await src.history().catch(() => (unreadable.push('history'), undefined));
  return {
    gatewayId: s.gatewayId,
    store: s.store,
    storeName: src.display?.storeName ?? null,
    timeZone: src.display?.timeZone ?? 'UTC',
    nowMs,
    uptimeS: Math.max(0, Math.floor((nowMs - s.startedAtMs) / 1000)),
    wan,
    forwarder,
    storage: {
      eventsStored: s.eventStore.stats().eventsStored,
      diskFreeBytes: s.disk.usage()?.freeBytes ?? null,
      diskTotalBytes: s.disk.usage()?.totalBytes ?? null,
      diskHighWaterPct: s.diskHighWaterPct,
      accepting: s.accepting(),
      integrity: {
        state: s.integrity.state,
        problems: s.integrity.problems().map((p) => ({
          code: p.code, message: p.message, atMs: p.atMs,
          ...(p.terminal === undefined ? {} : { terminal: p.terminal }),
          ...(p.seqs === undefined ? {} : { seqs: p.seqs }),
        })),
      },
      reserve: s.disk.reserve,
      diskFill: s.disk.fillForecast(),
    },
    terminals,
    alarms: alarms.slice(0, limits.alarms),
    ...(s.prediction === undefined ? {} : { prediction: { modelVersion: s.prediction.modelVersion, wan: riskView(s.prediction.wan()) } }),
    ...(history === undefined ? {} : { history }),
    storeOnly: s.forwarding === 'store-only',
    restore: restoreView(s.restore()),
  };
}

/** What the latest health sample says beyond signal and battery: chain, refusals, limits, clock. */
function sampleFacts(latest: HealthEntry | undefined): Partial<TerminalView> {
  if (latest === undefined) return { sampleAtMs: null, chain: null, blocked: null, offlineRefused: null, offlineLimits: null, clockSkewMs: null, outboxOldestAgeS: null };
  const sample = latest.sample;
  const sentAtMs = Date.parse(sample.at);
  // The till's clock minus the gateway's at arrival (MQTT on a store LAN takes milliseconds).
  const clockSkewMs = Number.isNaN(sentAtMs) ? null : sentAtMs - latest.receivedAtMs;
  const refused = sample.offlineRefused;
  // `lastAt` is on the till's clock: moved onto the gateway's by the sample's own offset.
  const lastAtTill = refused?.lastAt === undefined || refused.lastAt === null ? Number.NaN : Date.parse(refused.lastAt);
  const lastAtMs = Number.isNaN(lastAtTill) || clockSkewMs === null ? null : Math.min(latest.receivedAtMs, lastAtTill - clockSkewMs);
  const l = sample.offlineLimits;
  return {
    sampleAtMs: latest.receivedAtMs,
    chain: sample.chain ?? null,
    blocked: sample.blockedSeq === undefined || sample.blockedCode === undefined ? null : { seq: sample.blockedSeq, code: sample.blockedCode },
    offlineRefused: refused === undefined ? null : { total: refused.total, byCode: refused.byCode ?? {}, lastAtMs },
    offlineLimits: l === undefined ? null : { maxTxAmountMinor: l.maxTxAmountMinor, maxUnackedAmountMinor: l.maxUnackedAmountMinor, maxUnackedCount: l.maxUnackedCount, maxUnackedAgeS: l.maxUnackedAgeS },
    clockSkewMs,
    outboxOldestAgeS: sample.outboxOldestAgeS ?? null,
  };
}

/** The page's part of a restore: only while terminals wait for the cloud's word. */
function restoreView(r: ReturnType<GatewayViewSources['status']['restore']>): StatusView['restore'] {
  return r === null || r.state !== 'confirming' ? null : { unconfirmedCount: r.unconfirmedCount, unconfirmed: r.unconfirmed, backupTakenAt: r.backupTakenAt };
}

/** Alarm codes of failure-prediction level changes. */
export const RISK_ALARM_CODES = { warning: 'RISK_WARNING', critical: 'RISK_CRITICAL', clear: 'RISK_CLEAR' } as const;

function riskView(r: SubjectRisk | undefined): RiskView | null {
  return r === undefined ? null : { risk: r.risk, level: r.level, reasons: r.reasons, sinceMs: r.sinceMs, atMs: r.atMs };
}
