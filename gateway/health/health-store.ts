/**
 * Health history on the gateway (DESIGN §5.3): terminal health samples, the gateway's own WAN
 * probe results, and their 1-minute and 1-hour roll-ups, each in its own keyspace, all bounded.
 * Two implementations pass one conformance suite (test/gateway/health-store.conformance.ts):
 * LevelDB (production) and memory (tests, tools). Samples are telemetry, not money: they are
 * written unsynced, off the ingest fast path, and dropped (counted) when the write queue is full.
 */
import type { HealthSample } from '../../protocol/messages.js';

export interface HealthEntry {
  readonly terminal: string;
  /** Gateway clock when the sample arrived (the terminal's own `at` is in the sample). */
  readonly receivedAtMs: number;
  readonly sample: HealthSample;
}

/** One probe of the cloud by the WAN monitor: `rttMs` is null when no answer came back. */
export interface WanProbe {
  readonly atMs: number;
  readonly ok: boolean;
  readonly rttMs: number | null;
}

export const ROLLUP_RESOLUTIONS = ['1m', '1h'] as const;
export type RollupResolution = (typeof ROLLUP_RESOLUTIONS)[number];
export const RESOLUTION_MS: Readonly<Record<RollupResolution, number>> = { '1m': 60_000, '1h': 3_600_000 };

/** Summary of one numeric field over a bucket (mean = sum / n). */
export interface FieldStats {
  readonly n: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  /** The value of the bucket's last sample that had one. */
  readonly last: number;
}

export interface TerminalRollup {
  readonly kind: 'terminal';
  readonly terminal: string;
  readonly resolution: RollupResolution;
  /** Bucket start, gateway clock (the bucket is [startMs, startMs + resolution)). */
  readonly startMs: number;
  readonly samples: number;
  readonly rssiDbm: FieldStats | null;
  readonly rttMs: FieldStats | null;
  readonly batteryPct: FieldStats | null;
  readonly outboxDepth: FieldStats | null;
  readonly outboxOldestAgeS: FieldStats | null;
  /** Increase of the `reconnects` counter over the bucket (a drop is a restart: counted from 0). */
  readonly reconnects: number;
  readonly errors: number;
  /** Counter drops seen (agent restarts). */
  readonly restarts: number;
  /** Samples that said `charging: true`. */
  readonly chargingSamples: number;
}

export interface WanRollup {
  readonly kind: 'wan';
  readonly resolution: RollupResolution;
  readonly startMs: number;
  readonly probes: number;
  /** Probes without a good answer: `failures / probes` is the loss. */
  readonly failures: number;
  readonly rttMs: FieldStats | null;
}

export type Rollup = TerminalRollup | WanRollup;

export type HealthSubject = { readonly kind: 'terminal'; readonly terminal: string } | { readonly kind: 'wan' };

/** Where the roll-up job has got to: every bucket before these is written. */
export interface RollupCursor {
  readonly minuteMs: number;
  readonly hourMs: number;
}

export interface RollupOptions {
  /** Samples may still be in the write queue this long after their minute ended. */
  readonly graceMs: number;
  /** Minutes one run rolls up at most (a gateway back from a long stop catches up over runs). */
  readonly maxMinutesPerRun: number;
}

export interface RollupRun {
  readonly minutes: number;
  readonly hours: number;
  readonly written: number;
  readonly cursor: RollupCursor;
  /** True when the run stopped at its bound with more left. */
  readonly bounded: boolean;
}

export interface HealthRetention {
  /** WAN probes kept (oldest deleted first). */
  readonly wanProbesKeep: number;
  readonly minuteRollupDays: number;
  readonly hourRollupDays: number;
  /** Deletes one prune run makes at most; the next run goes on. */
  readonly maxDeletesPerRun: number;
}

export interface PruneRun {
  readonly deleted: number;
  readonly bounded: boolean;
}

export interface HealthStats {
  readonly accepted: number;
  readonly invalid: number;
  /** Samples and probes not written because the write queue was full. */
  readonly dropped: number;
  readonly wanProbes: number;
}

export type HealthStoreState = 'open' | 'closed';

/** Error codes of a health store. */
export const HEALTH_STORE_CODES = { closed: 'HEALTH_STORE_CLOSED' } as const;

export interface HealthStore {
  readonly state: HealthStoreState;
  readonly stats: HealthStats;
  /**
   * Validates and keeps one terminal sample (JSON bytes, ≤ MAX_HEALTH_BYTES). Returns the entry, or
   * undefined (counted) when it is invalid. Throws HEALTH_STORE_CLOSED once closed.
   */
  record(terminal: string, payload: Buffer | string): HealthEntry | undefined;
  /** Keeps one WAN probe result. Throws HEALTH_STORE_CLOSED once closed. */
  recordWan(probe: WanProbe): WanProbe;
  /** Called with every accepted sample, in arrival order. Returns the unsubscribe function. */
  onSample(listener: (entry: HealthEntry) => void): () => void;
  latest(terminal: string): HealthEntry | undefined;
  /** Samples received at or after `sinceMs`, oldest first, at most `limit`. */
  recent(terminal: string, sinceMs: number, limit: number): Promise<HealthEntry[]>;
  /** WAN probes at or after `sinceMs`, oldest first, at most `limit`. */
  recentWan(sinceMs: number, limit: number): Promise<WanProbe[]>;
  /** Roll-ups of one subject starting at or after `sinceMs`, oldest first, at most `limit`. */
  rollups(subject: HealthSubject, resolution: RollupResolution, sinceMs: number, limit: number): Promise<Rollup[]>;
  /** Terminals with samples kept here. */
  terminals(): readonly string[];
  /** Writes the 1-minute roll-ups of every minute ended before `nowMs - graceMs`, then the hours. */
  rollUp(nowMs: number, options: RollupOptions): Promise<RollupRun>;
  /** Deletes roll-ups and probes past their retention. */
  prune(nowMs: number, retention: HealthRetention): Promise<PruneRun>;
  /** Resolves when everything recorded so far is written. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Most entries one read returns, whatever the caller asks. */
export const MAX_HEALTH_READ = 10_000;
