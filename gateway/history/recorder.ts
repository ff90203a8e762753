/**
 * Keeps the last hours for the technician who arrives after it happened: every `tick` it looks at
 * the problems and the link as the page sees them, opens and closes alarms, follows the outage,
 * and once a minute keeps the most that waited at any look in that minute. What it wrote is also kept in memory for the window (so
 * the page reads no disk); at start it reloads the window from disk, so a restart loses nothing.
 *
 * A node-cron job calls `tick` (gateway/history/wire.ts); tests call it directly on a fake clock.
 */
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { HistoryStore } from './history-store.js';
import type { AlarmRecord, BacklogSample, OutageRecord } from './records.js';
import { alarmKey, alarmTransitions, outageStep, type CurrentProblem, type LinkNow } from './tracker.js';

export interface HistoryOptions {
  /** How long history is kept (and shown from): at least a day, so last night is there in the morning. */
  readonly keepMs: number;
  /** Most records of each kind kept in memory and read at start: bounds memory whatever happens. */
  readonly maxRecords: number;
  /** Backlog samples are taken at most this often. */
  readonly sampleEveryMs: number;
  /** Old records are trimmed at most this often, at most `trimMaxDeletes` at a time. */
  readonly trimEveryMs: number;
  readonly trimMaxDeletes: number;
}

/** What the recorder looks at each tick. */
export interface HistoryInput {
  readonly problems: readonly CurrentProblem[];
  /** Null when no WAN monitor runs (no cloud): no outages are recorded. */
  readonly link: LinkNow | null;
  readonly backlog: BacklogSample;
}

export interface HistorySnapshot {
  readonly alarms: readonly AlarmRecord[];
  readonly outages: readonly OutageRecord[];
  readonly samples: readonly BacklogSample[];
}

/** The info entry written when the gateway starts: a restart in the night is worth knowing. */
export const GATEWAY_STARTED = { code: 'GATEWAY_STARTED', subject: 'gateway', level: 'info', title: 'Gateway started' } as const;

export class HistoryRecorder {
  readonly #store: HistoryStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #o: HistoryOptions;
  #alarms: AlarmRecord[] = [];
  #outages: OutageRecord[] = [];
  #samples: BacklogSample[] = [];
  #state: 'new' | 'loading' | 'running' | 'closed' = 'new';
  /** When the gateway last wrote before this start (a sample, a start or an end): alarms that ended while it was off end there. */
  #lastLookedBeforeStartMs: number | null = null;
  #lastSampleMs = 0;
  /** The most that waited at any look since the last sample: a short outage between two samples still shows. */
  #peakSinceSample: BacklogSample | null = null;
  #lastTrimMs = 0;
  #running: Promise<void> = Promise.resolve();

  constructor(store: HistoryStore, clock: Clock, logger: Logger, options: HistoryOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#logger = logger;
    this.#o = options;
  }

  /** Reads the kept window back from disk and notes the start. */
  async open(startedAtMs: number): Promise<void> {
    if (this.#state !== 'new') throw new TypeError(`history recorder already ${this.#state}`);
    this.#state = 'loading';
    const loaded = await this.#store.load(this.#clock.now() - this.#o.keepMs, this.#o.maxRecords);
    this.#alarms = loaded.alarms;
    this.#outages = loaded.outages;
    this.#samples = loaded.samples;
    // The latest moment anything was written: the last sample is up to a minute old, a start or
    // end written since is later (else an alarm still open at shutdown would end before it began).
    const written = [
      ...loaded.samples.slice(-1).map((s) => s.atMs),
      ...loaded.alarms.flatMap((a) => [a.startedAtMs, a.endedAtMs ?? a.startedAtMs]),
      ...loaded.outages.flatMap((o) => [o.startedAtMs, o.endedAtMs ?? o.startedAtMs]),
    ];
    this.#lastLookedBeforeStartMs = written.length === 0 ? null : written.reduce((a, b) => Math.max(a, b));
    const started: AlarmRecord = { ...GATEWAY_STARTED, startedAtMs, endedAtMs: startedAtMs };
    await this.#store.write([started], null, true);
    this.#alarms.push(started);
    this.#state = 'running';
  }

  /** One look: alarms, outage, and a backlog sample when one is due. Never throws (logged). */
  tick(input: HistoryInput): Promise<void> {
    this.#running = this.#running.then(() => this.#tick(input)).catch((err: unknown) => this.#logger.warn('history not written', { err }));
    return this.#running;
  }

  /** The kept window, oldest first: what the page and /api/history show. */
  snapshot(): HistorySnapshot {
    const since = this.#clock.now() - this.#o.keepMs;
    return {
      alarms: this.#alarms.filter((a) => a.endedAtMs === null || a.endedAtMs >= since),
      outages: this.#outages.filter((o) => o.endedAtMs === null || o.endedAtMs >= since),
      samples: this.#samples.filter((s) => s.atMs >= since),
    };
  }

  async close(): Promise<void> {
    this.#state = 'closed';
    await this.#running;
  }

  async #tick(input: HistoryInput): Promise<void> {
    if (this.#state !== 'running') return;
    const nowMs = this.#clock.now();
    // The first look after a start: what ended while the gateway was off ended when it last looked.
    const endedAtMs = this.#lastLookedBeforeStartMs ?? nowMs;
    this.#lastLookedBeforeStartMs = null;
    const open = this.#alarms.filter((a) => a.endedAtMs === null);
    const { opened, closed } = alarmTransitions(open, input.problems, nowMs, endedAtMs);
    const openOutage = this.#outages.find((o) => o.endedAtMs === null) ?? null;
    const outage = input.link === null ? (openOutage === null ? null : { ...openOutage, endedAtMs: Math.max(openOutage.startedAtMs, endedAtMs) }) : outageStep(openOutage, input.link, nowMs, endedAtMs);
    if (opened.length > 0 || closed.length > 0 || outage !== null) {
      // Synced only when something starts or ends; a peak rising is not worth an fsync.
      const sync = opened.length > 0 || closed.length > 0 || (outage !== null && (outage.endedAtMs !== null || openOutage === null));
      await this.#store.write([...closed, ...opened], outage, sync);
      this.#apply(opened, closed, outage);
    }
    if (this.#peakSinceSample === null || input.backlog.events > this.#peakSinceSample.events) this.#peakSinceSample = input.backlog;
    if (nowMs - this.#lastSampleMs >= this.#o.sampleEveryMs) {
      const sample = { atMs: nowMs, events: this.#peakSinceSample.events, payments: this.#peakSinceSample.payments };
      await this.#store.addSample(sample);
      this.#samples.push(sample);
      this.#lastSampleMs = nowMs;
      this.#peakSinceSample = null;
    }
    if (nowMs - this.#lastTrimMs >= this.#o.trimEveryMs) {
      this.#lastTrimMs = nowMs;
      await this.#trim(nowMs - this.#o.keepMs);
    }
    this.#bound();
  }

  #apply(opened: readonly AlarmRecord[], closed: readonly AlarmRecord[], outage: OutageRecord | null): void {
    const closedKeys = new Map(closed.map((a) => [`${alarmKey(a)}\u0000${a.startedAtMs}`, a]));
    this.#alarms = this.#alarms.map((a) => closedKeys.get(`${alarmKey(a)}\u0000${a.startedAtMs}`) ?? a);
    this.#alarms.push(...opened);
    if (outage !== null) {
      const i = this.#outages.findIndex((o) => o.startedAtMs === outage.startedAtMs);
      if (i >= 0) this.#outages[i] = outage;
      else this.#outages.push(outage);
    }
  }

  async #trim(beforeMs: number): Promise<void> {
    const deleted = await this.#store.trim(beforeMs, this.#o.trimMaxDeletes);
    if (deleted > 0) this.#logger.debug('history trimmed', { deleted });
    this.#alarms = this.#alarms.filter((a) => a.endedAtMs === null || a.endedAtMs >= beforeMs);
    this.#outages = this.#outages.filter((o) => o.endedAtMs === null || o.endedAtMs >= beforeMs);
    this.#samples = this.#samples.filter((s) => s.atMs >= beforeMs);
  }

  /** Memory stays bounded however a problem flaps: the oldest ended records go first. */
  #bound(): void {
    const max = this.#o.maxRecords;
    if (this.#samples.length > max) this.#samples = this.#samples.slice(-max);
    if (this.#outages.length > max) this.#outages = this.#outages.slice(-max);
    if (this.#alarms.length > max) {
      const open = this.#alarms.filter((a) => a.endedAtMs === null);
      const ended = this.#alarms.filter((a) => a.endedAtMs !== null);
      this.#alarms = [...ended.slice(-(Math.max(0, max - open.length))), ...open].sort((a, b) => a.startedAtMs - b.startedAtMs);
    }
  }
}
