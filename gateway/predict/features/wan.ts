/**
 * The WAN's detectors and features, from the gateway's own probes of the cloud (ok, round trip):
 * the round trip's robust baseline (on a log scale: a link twice as slow is as notable at 30 ms as
 * at 300 ms), its CUSUM and trend, and lost probes as time-weighted fractions over 10 minutes,
 * an hour and a day (probes come faster while failing; weighting by time keeps that from inflating
 * the loss), and whether the round trip has kept rising window after window (a link degrading
 * toward an outage) rather than jumping once to a plateau (congestion). `down` says the link is
 * failing right now (a run of failed probes past a minute): that is the present, not a
 * prediction, and the status page already says it.
 */
import { FAILURE_SILENCE_MS } from '../../../protocol/prediction.js';
import { Cusum, Ewma, RobustSlope, SeasonalBaseline, SteadyClimb } from '../detectors/index.js';

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;
/** A run of failed probes this long means the link is down now. */
export const WAN_DOWN_AFTER_MS = 60_000;

export const WAN_FEATURES = [
  'rtt.z',
  'rtt.cusum',
  'rtt.rising',
  'rtt.ratio',
  'rtt.climb',
  'loss.recent',
  'loss.hour',
  'loss.surge',
  'loss.rising',
  'loss.run',
] as const;
export type WanFeature = (typeof WAN_FEATURES)[number];

/** The WAN has one expert, over all its features. */
export const WAN_FAMILIES: Readonly<Record<string, readonly string[]>> = { wan: ['rtt.', 'loss.'] };

export interface WanFacts {
  readonly rttMs: number | null;
  readonly rttUsualMs: number | null;
  /** Share of the last ~10 minutes with probes failing, 0..1. */
  readonly lossRecent: number;
  readonly lossUsual: number;
  readonly failedRunS: number;
}

const clip = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);

export class WanDetectors {
  readonly #rtt = new SeasonalBaseline(
    { tauMs: 3 * 24 * HOUR_MS, clipZ: 2.5, minScale: 0.12, warmupSamples: 120 },
    { tauMs: 24 * HOUR_MS, clipZ: 2.5, minScale: 0.12, warmupSamples: 30 },
  );
  readonly #rttCusum = new Cusum({ k: 1, cap: 400, direction: 'up' });
  readonly #rttSlope = new RobustSlope({ tauMs: 30 * MIN_MS, clipZ: 2.5, minScale: 0.1, minPoints: 10, minSpanMs: 8 * MIN_MS });
  readonly #rttRecent = new Ewma(10 * MIN_MS);
  /** Risen in each of the last three 5-minute windows (a 2-minute robust average: ~8 probes). */
  readonly #rttClimb = new SteadyClimb({ tauMs: 2 * MIN_MS, minScale: 0.1, windowMs: 5 * MIN_MS, windows: 3 });
  readonly #lossRecent = new Ewma(10 * MIN_MS);
  readonly #lossHour = new Ewma(HOUR_MS);
  readonly #lossDay = new Ewma(24 * HOUR_MS);
  #lastRttMs: number | null = null;
  #failingSinceMs: number | null = null;
  #lastMs = Number.NaN;
  #rttZ = 0;
  #restarted = false;

  /** True while a run of failed probes has lasted WAN_DOWN_AFTER_MS or more. */
  get down(): boolean {
    return this.#failingSinceMs !== null && this.#lastMs - this.#failingSinceMs >= WAN_DOWN_AFTER_MS;
  }

  /** True on the first good probe after an outage long enough to be a failure. */
  get restarted(): boolean {
    return this.#restarted;
  }

  update(atMs: number, ok: boolean, rttMs: number | null): void {
    this.#restarted = false;
    if (ok && this.#failingSinceMs !== null && this.#lastMs - this.#failingSinceMs >= FAILURE_SILENCE_MS) {
      this.#restarted = true;
      // After an outage the short-term picture starts again; the long baselines stay.
      this.#rttCusum.reset();
      this.#rttSlope.reset();
      this.#rttRecent.reset();
      this.#rttClimb.reset();
      this.#lossRecent.reset();
      this.#lossHour.reset();
    }
    if (ok) this.#failingSinceMs = null;
    else this.#failingSinceMs ??= atMs;
    // While down, the loss detectors stop learning: an outage is not a trend to extrapolate.
    if (!this.down) {
      const lost = ok ? 0 : 1;
      this.#lossRecent.update(lost, atMs);
      this.#lossHour.update(lost, atMs);
      this.#lossDay.update(lost, atMs);
    }
    if (ok && rttMs !== null) {
      const logRtt = Math.log(Math.max(1, rttMs));
      this.#rttZ = this.#rtt.update(logRtt, atMs);
      this.#rttCusum.update(clip(this.#rttZ, -6, 6));
      this.#rttSlope.update(logRtt, atMs);
      this.#rttRecent.update(logRtt, atMs);
      this.#rttClimb.update(logRtt, atMs);
      this.#lastRttMs = rttMs;
    }
    this.#lastMs = atMs;
  }

  features(out: Float64Array): void {
    const base = this.#rtt.level(this.#lastMs);
    const recent = this.#lossRecent.ready ? this.#lossRecent.value : 0;
    const usual = this.#lossDay.ready ? this.#lossDay.value : 0;
    out[0] = clip(this.#rttZ, -3, 10) / 4;
    out[1] = Math.log1p(this.#rttCusum.value) / 3;
    out[2] = clip(this.#rttSlope.slopePerH, 0, 10);
    out[3] = Number.isNaN(base) || !this.#rttRecent.ready ? 0 : clip(this.#rttRecent.value - base, -1, 4);
    // Natural log per 5-minute window: 0.1 is about 10 % slower every 5 minutes.
    out[4] = clip(this.#rttClimb.value, -0.5, 1) * 4;
    out[5] = Math.sqrt(recent);
    out[6] = Math.sqrt(this.#lossHour.ready ? this.#lossHour.value : 0);
    out[7] = Math.max(0, Math.log((recent + 0.01) / (usual + 0.01))) / 2;
    // Loss climbing: the last 10 minutes worse than the last hour.
    out[8] = Math.max(0, Math.sqrt(recent) - Math.sqrt(this.#lossHour.ready ? this.#lossHour.value : 0));
    out[9] = this.#failingSinceMs === null ? 0 : Math.log1p((this.#lastMs - this.#failingSinceMs) / 1000) / 4;
  }

  facts(): WanFacts {
    return {
      rttMs: this.#lastRttMs,
      rttUsualMs: Number.isNaN(this.#rtt.level(this.#lastMs)) ? null : Math.exp(this.#rtt.level(this.#lastMs)),
      lossRecent: this.#lossRecent.ready ? this.#lossRecent.value : 0,
      lossUsual: this.#lossDay.ready ? this.#lossDay.value : 0,
      failedRunS: this.#failingSinceMs === null ? 0 : (this.#lastMs - this.#failingSinceMs) / 1000,
    };
  }
}
