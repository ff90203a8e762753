/**
 * A terminal's detectors and the features the model reads (DESIGN §5.3 samples in, numbers out),
 * O(1) state: the battery's robust slope and time to empty, the signal's robust baseline, CUSUM and
 * trend, surges of reconnects and errors, missed samples, the outbox, and the round trip to the
 * gateway against its baseline. `facts()` says the same things in units people read, for reasons.
 * After a silence long enough to be a failure the short-term detectors start again (the terminal
 * rebooted or was fixed); the long baselines stay.
 */
import type { HealthSample } from '../../../protocol/messages.js';
import { FAILURE_SILENCE_MS } from '../../../protocol/prediction.js';
import { CounterSurge, Cusum, Ewma, RobustBaseline, RobustSlope } from '../detectors/index.js';

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;

export const TERMINAL_FEATURES = [
  'battery.lowness',
  'battery.discharging',
  'battery.drain',
  'battery.urgency',
  'battery.urgencyWorn',
  'battery.drainRatio',
  'wifi.weakness',
  'wifi.drop',
  'wifi.cusum',
  'wifi.weakLong',
  'wifi.fading',
  'wifi.reconnects',
  'wifi.reconnectSurge',
  'wifi.missed',
  'errors.rate',
  'errors.surge',
  'errors.surgeHour',
  'errors.busyHour',
  'outbox.depth',
  'outbox.age',
  'rtt.z',
  'rtt.cusum',
] as const;
export type TerminalFeature = (typeof TERMINAL_FEATURES)[number];

/**
 * The experts of a terminal's model and the feature prefixes each reads: the battery alone; the
 * link (signal, reconnects, missed samples, payments waiting, round trip); the device (errors,
 * and the round trip and outbox a struggling device shows too).
 */
export const TERMINAL_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  battery: ['battery.'],
  link: ['wifi.', 'outbox.', 'rtt.'],
  device: ['errors.', 'rtt.', 'outbox.'],
};

/** What the reasons are written from. */
export interface TerminalFacts {
  readonly batteryPct: number | null;
  readonly charging: boolean | null;
  /** % per hour, positive while draining; null until the slope is known. */
  readonly drainPctPerH: number | null;
  /** This terminal's usual drain off its charger, %/h; null until it has drained for a while. */
  readonly usualDrainPctPerH: number | null;
  /** Minutes until empty at the current drain; null when not draining. */
  readonly emptyInMin: number | null;
  readonly rssiDbm: number | null;
  readonly rssiUsualDbm: number | null;
  /** dB per hour, positive while falling. */
  readonly rssiFallingDbPerH: number;
  readonly reconnects15Min: number;
  readonly errors15Min: number;
  readonly errorsUsualPerH: number;
  readonly outboxDepth: number;
  readonly outboxOldestAgeS: number;
  readonly rttMs: number | null;
  readonly rttUsualMs: number | null;
  readonly firmware: string | null;
}

/**
 * Where a worn battery's voltage sags below what the device runs on, in % shown: a worn battery
 * shuts down well before 0 % (15–20 % is common), so time to this level matters as much as time to empty.
 */
const WORN_CUTOFF_PCT = 20;

const clip = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** 0 on a good signal, 0.5 at -74 dBm, near 1 below -82 dBm (the usual "weak" and "very weak" bands). */
const weakness = (rssiDbm: number) => sigmoid((-74 - rssiDbm) / 4);

export class TerminalDetectors {
  readonly #batterySlope = new RobustSlope({ tauMs: 40 * MIN_MS, clipZ: 3, minScale: 0.6, minPoints: 8, minSpanMs: 6 * MIN_MS });
  /**
   * The terminal's usual drain off its charger (%/h): a worn battery drains several times faster.
   * It learns over about a day of draining (two or three days of use), not of wall time: without
   * the cap, the first slope after a night on the charger would weigh as much as hours of draining
   * and drag the baseline.
   */
  readonly #usualDrain = new RobustBaseline({ tauMs: 24 * HOUR_MS, clipZ: 2.5, minScale: 1, warmupSamples: 60, maxStepMs: MIN_MS });
  readonly #rssi = new RobustBaseline({ tauMs: 6 * HOUR_MS, clipZ: 2.5, minScale: 2, warmupSamples: 20 });
  readonly #rssiCusum = new Cusum({ k: 1, cap: 400, direction: 'down' });
  readonly #weakLong = new Ewma(45 * MIN_MS);
  readonly #errorsBusy = new Ewma(60 * MIN_MS);
  readonly #rssiSlope = new RobustSlope({ tauMs: 45 * MIN_MS, clipZ: 2.5, minScale: 1.5, minPoints: 10, minSpanMs: 10 * MIN_MS });
  readonly #reconnects = new CounterSurge({ shortTauMs: 15 * MIN_MS, longTauMs: 24 * HOUR_MS, floorPerH: 1 });
  readonly #errors = new CounterSurge({ shortTauMs: 15 * MIN_MS, longTauMs: 24 * HOUR_MS, floorPerH: 2 });
  readonly #errorsHour = new CounterSurge({ shortTauMs: 60 * MIN_MS, longTauMs: 24 * HOUR_MS, floorPerH: 2 });
  readonly #missed = new Ewma(15 * MIN_MS);
  readonly #interval = new RobustBaseline({ tauMs: 2 * HOUR_MS, clipZ: 2, minScale: 1_000, warmupSamples: 5 });
  readonly #rtt = new RobustBaseline({ tauMs: 6 * HOUR_MS, clipZ: 2.5, minScale: 0.15, warmupSamples: 20 });
  readonly #rttCusum = new Cusum({ k: 1, cap: 400, direction: 'up' });
  #lastMs = Number.NaN;
  #charging: boolean | null = null;
  #sample: HealthSample | null = null;
  #rssiZ = 0;
  #rttZ = 0;
  #restarted = false;

  /** True when the last sample came after a silence long enough to be a failure. */
  get restarted(): boolean {
    return this.#restarted;
  }

  /** Feeds one sample at `atMs` (the caller keeps each subject's samples in time order). */
  update(atMs: number, s: HealthSample): void {
    const gapMs = Number.isNaN(this.#lastMs) ? 0 : atMs - this.#lastMs;
    this.#restarted = gapMs >= FAILURE_SILENCE_MS;
    if (this.#restarted) this.#restart();
    this.#sample = s;

    // Battery: a new slope whenever charging starts or stops (the line breaks there).
    const charging = s.charging ?? null;
    if (charging !== this.#charging) this.#batterySlope.reset();
    this.#charging = charging;
    if (typeof s.batteryPct === 'number') this.#batterySlope.update(s.batteryPct, atMs);
    else this.#batterySlope.reset();
    if (charging !== true && this.#batterySlope.ready && this.#batterySlope.slopePerH < -0.5) this.#usualDrain.update(-this.#batterySlope.slopePerH, atMs);

    if (typeof s.rssiDbm === 'number') {
      this.#weakLong.update(weakness(s.rssiDbm), atMs);
      this.#rssiZ = this.#rssi.update(s.rssiDbm, atMs);
      this.#rssiCusum.update(clip(this.#rssiZ, -6, 6));
      this.#rssiSlope.update(s.rssiDbm, atMs);
    }
    if (typeof s.reconnects === 'number') this.#reconnects.update(s.reconnects, atMs);
    if (typeof s.errors === 'number') {
      const increase = this.#errors.update(s.errors, atMs);
      this.#errorsHour.update(s.errors, atMs);
      this.#errorsBusy.update(increase > 0 ? 1 : 0, atMs);
    }
    if (gapMs > 0 && !this.#restarted) {
      const usual = this.#interval.samples >= 5 ? this.#interval.level : gapMs;
      this.#missed.update(clip(gapMs / Math.max(1_000, usual) - 1, 0, 10), atMs);
      this.#interval.update(gapMs, atMs);
    }
    if (typeof s.rttMs === 'number') {
      const logRtt = Math.log(Math.max(0.1, s.rttMs));
      this.#rttZ = this.#rtt.update(logRtt, atMs);
      this.#rttCusum.update(clip(this.#rttZ, -6, 6));
    }
    this.#lastMs = atMs;
  }

  /** Writes the features, in TERMINAL_FEATURES order, into `out`. */
  features(out: Float64Array): void {
    const s = this.#sample;
    const pct = typeof s?.batteryPct === 'number' ? s.batteryPct : null;
    const discharging = pct !== null && this.#charging !== true;
    const slope = this.#batterySlope.ready ? this.#batterySlope.slopePerH : 0;
    const drain = discharging ? clip(-slope, 0, 100) : 0;
    const tteH = discharging && drain > 0.5 ? this.#batterySlope.hoursTo(0, 'down') : Number.POSITIVE_INFINITY;
    const tteWornH = discharging && drain > 0.5 ? this.#batterySlope.hoursTo(WORN_CUTOFF_PCT, 'down') : Number.POSITIVE_INFINITY;
    const usual = this.#usualDrain.samples >= 60 ? this.#usualDrain.level : Number.NaN;
    const lowness = pct === null ? 0 : 1 - pct / 100;
    const rssi = typeof s?.rssiDbm === 'number' ? s.rssiDbm : null;
    let i = 0;
    out[i++] = lowness;
    out[i++] = discharging ? 1 : 0;
    out[i++] = drain / 10;
    out[i++] = Number.isFinite(tteH) ? Math.exp(-tteH) : 0;
    out[i++] = Number.isFinite(tteWornH) ? Math.exp(-Math.max(0, tteWornH)) : 0;
    out[i++] = drain > 0 && usual > 0 ? clip(drain / usual - 1, 0, 6) : 0;
    out[i++] = rssi === null ? 0 : weakness(rssi);
    out[i++] = rssi === null ? 0 : clip(-this.#rssiZ, -3, 8) / 4;
    out[i++] = Math.log1p(this.#rssiCusum.value) / 3;
    out[i++] = this.#weakLong.ready ? this.#weakLong.value : 0;
    out[i++] = clip(-this.#rssiSlope.slopePerH, 0, 60) / 10;
    out[i++] = Math.log1p(this.#reconnects.shortRatePerH) / 2;
    out[i++] = Math.max(0, this.#reconnects.surge);
    out[i++] = Math.min(3, this.#missed.ready ? this.#missed.value : 0);
    out[i++] = Math.log1p(this.#errors.shortRatePerH) / 2;
    out[i++] = Math.max(0, this.#errors.surge);
    out[i++] = Math.max(0, this.#errorsHour.surge);
    out[i++] = this.#errorsBusy.ready ? this.#errorsBusy.value : 0;
    out[i++] = Math.log1p(s?.outboxDepth ?? 0) / 2;
    out[i++] = Math.log1p(s?.outboxOldestAgeS ?? 0) / 5;
    out[i++] = clip(this.#rttZ, -3, 8) / 4;
    out[i++] = Math.log1p(this.#rttCusum.value) / 3;
  }

  facts(): TerminalFacts {
    const s = this.#sample;
    const pct = typeof s?.batteryPct === 'number' ? s.batteryPct : null;
    const slope = this.#batterySlope.ready ? this.#batterySlope.slopePerH : null;
    const draining = pct !== null && this.#charging !== true && slope !== null && slope < -0.5;
    const tteH = draining ? this.#batterySlope.hoursTo(0, 'down') : Number.POSITIVE_INFINITY;
    return {
      batteryPct: pct,
      charging: this.#charging,
      drainPctPerH: slope === null ? null : Math.max(0, -slope),
      usualDrainPctPerH: this.#usualDrain.samples >= 60 ? this.#usualDrain.level : null,
      emptyInMin: Number.isFinite(tteH) ? tteH * 60 : null,
      rssiDbm: typeof s?.rssiDbm === 'number' ? s.rssiDbm : null,
      rssiUsualDbm: Number.isNaN(this.#rssi.level) ? null : this.#rssi.level,
      rssiFallingDbPerH: Math.max(0, -this.#rssiSlope.slopePerH),
      reconnects15Min: this.#reconnects.recentCount,
      errors15Min: this.#errors.recentCount,
      errorsUsualPerH: this.#errors.longRatePerH,
      outboxDepth: s?.outboxDepth ?? 0,
      outboxOldestAgeS: s?.outboxOldestAgeS ?? 0,
      rttMs: typeof s?.rttMs === 'number' ? s.rttMs : null,
      rttUsualMs: Number.isNaN(this.#rtt.level) ? null : Math.exp(this.#rtt.level),
      firmware: typeof s?.firmware === 'string' ? s.firmware : null,
    };
  }

  #restart(): void {
    this.#batterySlope.reset();
    this.#rssiCusum.reset();
    this.#rssiSlope.reset();
    this.#rttCusum.reset();
    this.#missed.reset();
    this.#weakLong.reset();
    this.#errorsBusy.reset();
    // Counters start again after a reboot; the surge detectors see the drop as a restart themselves.
  }
}
