/**
 * A baseline per hour of the day (24 robust baselines, O(1) state): the WAN is slower every evening
 * when the neighbourhood streams, and that is not a trend. Each hour's baseline learns only from
 * its own hour, over days; until an hour has seen `warmupSamples`, the all-day baseline answers.
 */
import { RobustBaseline, type RobustBaselineOptions } from './ewma.js';

const HOUR_MS = 3_600_000;

export class SeasonalBaseline {
  readonly #hours: RobustBaseline[];
  readonly #all: RobustBaseline;
  readonly #warmup: number;

  /** `hourly`: per-hour baselines (tau in days); `allDay`: the fallback. */
  constructor(hourly: RobustBaselineOptions, allDay: RobustBaselineOptions) {
    this.#hours = Array.from({ length: 24 }, () => new RobustBaseline(hourly));
    this.#all = new RobustBaseline(allDay);
    this.#warmup = hourly.warmupSamples;
  }

  /** The level expected at `atMs` (the hour's, or the all-day one while the hour is new). */
  level(atMs: number): number {
    const h = this.#hour(atMs);
    return h.samples >= this.#warmup ? h.level : this.#all.level;
  }

  /** z of `x` against the expected level, then learns from it. */
  update(x: number, atMs: number): number {
    const h = this.#hour(atMs);
    const zAll = this.#all.update(x, atMs);
    const zHour = h.samples >= this.#warmup ? h.z(x) : zAll;
    h.update(x, atMs);
    return zHour;
  }

  #hour(atMs: number): RobustBaseline {
    return this.#hours[Math.floor(atMs / HOUR_MS) % 24]!;
  }
}
