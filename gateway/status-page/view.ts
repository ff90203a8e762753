/**
 * The status page's view model: one plain snapshot of everything a field technician needs, built
 * from the gateway's own numbers (store, forwarder, WAN monitor, health samples) at one instant.
 * Everything the page, the headline sentence and the live stream show comes from this one shape, so
 * the words can be unit-tested with plain objects and a fake clock.
 *
 * Times are ms since the Unix epoch on the gateway's clock; `null` means "not known yet".
 */
import type { WanState } from '../../protocol/messages.js';
import type { MoneyTotals } from '../store/money.js';

/** WAN link state as the WAN monitor reports it; `unknown` until a monitor is wired in. */
export type WanView = {
  readonly state: WanState | 'unknown';
  /** When the link entered this state. */
  readonly sinceMs: number | null;
  /** Round-trip time of the last successful probe. */
  readonly rttMs: number | null;
  /** Why the link is not online, as the WAN monitor names it (`NETWORK`, `LINK_CUT`, …). */
  readonly reason?: string | null;
  /** While an admin has cut the link for a test: when the cut ends. */
  readonly cutUntilMs?: number | null;
};

export interface ForwarderView {
  /** Lifecycle/link state of the forwarder as it names it (`idle`, `sending`, `backoff`, …). */
  readonly state: string;
  /** Events stored here and not yet accepted by the cloud (dead letters excluded). */
  readonly backlogEvents: number;
  /** Age of the oldest event in the backlog; null when the backlog is empty. */
  readonly oldestPendingAgeS: number | null;
  /** Takings waiting (approved payments only), minor units per ISO 4217 currency. */
  readonly amountByCurrency: Readonly<Record<string, number>>;
  /** The waiting events by what they mean in money: takings, refunds, voids, other, declined. */
  readonly money: MoneyTotals;
  /** Events accepted by the cloud per second over the last minute; null when not measured. */
  readonly ratePerS: number | null;
  readonly lastSuccessAtMs: number | null;
  /** Stable code of the last failure (e.g. `HTTP_503`, `TIMEOUT`), null when the last try worked. */
  readonly lastErrorCode: string | null;
  /** Events the cloud refused: kept on the gateway, waiting for an admin retry. */
  readonly deadLetters: number;
}

export interface StorageView {
  readonly eventsStored: number;
  readonly diskFreeBytes: number | null;
  readonly diskTotalBytes: number | null;
  /** Disk use (percent) past which the gateway stops accepting. */
  readonly diskHighWaterPct: number | null;
  /** False once the disk passed its high-water mark or the storage is damaged: terminals keep events. */
  readonly accepting: boolean;
  /**
   * Storage integrity (gateway/integrity.ts): `damaged` stops the gateway taking events, `degraded`
   * means acknowledged events or parts of the log were lost (each problem names what). Optional so
   * views built elsewhere stay valid: absent means nothing is known to be wrong.
   */
  readonly integrity?: { readonly state: 'ok' | 'degraded' | 'damaged'; readonly problems: readonly StorageProblemView[] };
  /** The disk reserve: held, released (the disk is nearly full), or none configured. */
  readonly reserve?: 'none' | 'held' | 'released';
  /** When the disk reaches its mark at the rate it has been filling; null while it is not filling. */
  readonly diskFill?: { readonly usedPct: number; readonly risingPctPerH: number; readonly fullInMs: number } | null;
}

export interface StorageProblemView {
  readonly code: string;
  readonly message: string;
  readonly atMs: number;
  readonly terminal?: string;
  /** Transaction numbers concerned (inclusive), for missing or replaced ones. */
  readonly seqs?: { readonly from: number; readonly through: number };
}

/** A subject's failure risk (gateway/predict): DESIGN §3.7 levels, reasons in plain words. */
export interface RiskView {
  readonly risk: number;
  readonly level: 'clear' | 'warning' | 'critical';
  /** Each says what is wrong and what to do. */
  readonly reasons: readonly string[];
  /** When the current level began; null: clear since the gateway started. */
  readonly sinceMs: number | null;
  /** The last sample or probe it was scored on. */
  readonly atMs: number;
}

export interface PredictionView {
  readonly modelVersion: string;
  readonly wan: RiskView | null;
}

export interface TerminalView {
  readonly id: string;
  readonly connected: boolean;
  readonly lastSeenAtMs: number | null;
  /** Highest seq stored for this terminal (0 = none yet). */
  readonly headSeq: number;
  /** From the terminal's latest health sample (DESIGN §5.3); null when it sent none. */
  readonly outboxDepth: number | null;
  readonly rssiDbm: number | null;
  readonly batteryPct: number | null;
  /** Reject counts by code (DESIGN §3.3 codes). */
  readonly rejects: Readonly<Record<string, number>>;
  /** When this terminal's latest reject happened; null when unknown. */
  readonly lastRejectAtMs: number | null;
  /** Failure risk from its health samples; absent or null when not scored (yet). */
  readonly risk?: RiskView | null;
  /**
   * Enrolled keys without the operator's endorsement (enrolled by the previous release): a cloud
   * that checks endorsements (DESIGN §3.1) refuses every payment they sign. Absent means 0.
   */
  readonly keysNotEndorsed?: number;
  /** When the latest health sample arrived (gateway clock); null or absent when none did. */
  readonly sampleAtMs?: number | null;
  /** Where the terminal's chain stands, from its latest health sample (`held`: it refuses payments). */
  readonly chain?: string | null;
  /** The event holding (or being moved past) the chain, and the code the gateway refused it with. */
  readonly blocked?: { readonly seq: number; readonly code: string } | null;
  /** Payments refused over the offline limits since the till's agent started; `lastAtMs` on the gateway's clock. */
  readonly offlineRefused?: { readonly total: number; readonly byCode: Readonly<Record<string, number>>; readonly lastAtMs: number | null } | null;
  /** The till's offline limits, amounts in minor units of the till's currency. */
  readonly offlineLimits?: OfflineLimitsView | null;
  /** The till's clock minus the gateway's, from its latest health sample; null when unknown. */
  readonly clockSkewMs?: number | null;
  /** Age of the oldest payment the till holds that this gateway has not stored, from its latest sample. */
  readonly outboxOldestAgeS?: number | null;
}

export interface OfflineLimitsView {
  readonly maxTxAmountMinor: number;
  readonly maxUnackedAmountMinor: number;
  readonly maxUnackedCount: number;
  readonly maxUnackedAgeS: number;
}

export type AlarmLevel = 'alarm' | 'warn' | 'info';

export interface AlarmView {
  readonly atMs: number;
  readonly level: AlarmLevel;
  /** Stable code, e.g. `CONFLICT`, `DEAD_LETTER`, `CLOUD_AUTH`. */
  readonly code: string;
  readonly message: string;
  readonly terminal?: string;
}

export interface StatusView {
  readonly gatewayId: string;
  readonly store: string;
  /** The store's name for people (`--store-name`); absent or null: the store id is shown. */
  readonly storeName?: string | null;
  /** IANA time zone the page shows times in (`--time-zone`); absent: UTC. */
  readonly timeZone?: string;
  /** The instant this snapshot describes. */
  readonly nowMs: number;
  readonly uptimeS: number;
  readonly wan: WanView;
  readonly forwarder: ForwarderView;
  readonly storage: StorageView;
  readonly terminals: readonly TerminalView[];
  /** Newest first, bounded by whoever builds the view. */
  readonly alarms: readonly AlarmView[];
  /** Failure prediction, when it runs (the WAN's risk; terminals carry their own). */
  readonly prediction?: PredictionView;
  /** The last 24 hours: alarms with start and end, internet outages, the backlog over time (gateway/history). */
  readonly history?: HistoryView;
  /** True when payments stay on this gateway by choice (`--store-only`). Absent means false. */
  readonly storeOnly?: boolean;
  /**
   * A restore from backup whose terminals' chains are being confirmed with the cloud
   * (gateway/store/restore-state.ts); absent or null when there is nothing to say.
   */
  readonly restore?: { readonly unconfirmedCount: number; readonly unconfirmed: readonly string[]; readonly backupTakenAt: string } | null;
}

/** One problem with when it started and ended (null: still on). */
export interface AlarmRecordView {
  readonly code: string;
  readonly level: 'alarm' | 'warn' | 'info';
  /** A terminal id, `wan`, `cloud` or `gateway`. */
  readonly subject: string;
  readonly title: string;
  readonly startedAtMs: number;
  readonly endedAtMs: number | null;
}

/** An internet outage: from, to (null: still down), and the most waiting at once. */
export interface OutageView {
  readonly startedAtMs: number;
  readonly endedAtMs: number | null;
  readonly peakEvents: number;
  readonly peakPayments: number;
  /** Takings waiting at the peak, minor units per currency. */
  readonly peakAmountByCurrencyMinor: Readonly<Record<string, number>>;
}

/** Transactions waiting to be sent at one minute. */
export interface BacklogSampleView {
  readonly atMs: number;
  readonly events: number;
  readonly payments: number;
}

export interface HistoryView {
  readonly alarms: readonly AlarmRecordView[];
  readonly outages: readonly OutageView[];
  readonly backlog: readonly BacklogSampleView[];
}
