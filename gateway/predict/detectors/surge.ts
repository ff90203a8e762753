/**
 * Surges of a counter that only goes up (`reconnects`, `errors`: DESIGN §5.3 counters since the
 * agent started; a drop means a restart and the new value is the increase since). Two decayed event
 * counts, short and long, give a recent rate and a baseline rate per hour; the surge is the log of
 * their ratio (with a floor so a quiet terminal's first event is not a thousandfold surge). O(1).
 */
const HOUR_MS = 3_600_000;

export interface CounterSurgeOptions {
  /** The recent window (e.g. 15 minutes). */
  readonly shortTauMs: number;
  /** The baseline (e.g. a day). */
  readonly longTauMs: number;
  /** Events per hour added to both rates before the ratio. */
  readonly floorPerH: number;
}

export class CounterSurge {
  readonly #o: CounterSurgeOptions;
  #last: number | null = null;
  #lastMs = Number.NaN;
  #short = 0;
  #long = 0;
  #firstMs = Number.NaN;

  constructor(options: CounterSurgeOptions) {
    this.#o = options;
  }

  /** Events per hour over the recent window. */
  get shortRatePerH(): number {
    return (this.#short / this.#o.shortTauMs) * HOUR_MS;
  }

  /** Events per hour over the baseline window (over what was seen so far while it warms up). */
  get longRatePerH(): number {
    const spanMs = Math.max(this.#o.shortTauMs, Math.min(this.#o.longTauMs, this.#lastMs - this.#firstMs || 0));
    return (this.#long / spanMs) * HOUR_MS;
  }

  /** log((recent + floor) / (baseline + floor)): 0 = as usual, ln 4 ≈ 1.4 = four times the usual. */
  get surge(): number {
    const f = this.#o.floorPerH;
    return Math.log((this.shortRatePerH + f) / (this.longRatePerH + f));
  }

  /** Events in about the recent window. */
  get recentCount(): number {
    return this.#short;
  }

  /** Feeds the counter's current value; returns the increase it means. */
  update(counter: number, atMs: number): number {
    const increase = this.#last === null ? 0 : counter >= this.#last ? counter - this.#last : counter;
    if (Number.isNaN(this.#lastMs)) {
      this.#firstMs = atMs;
    } else {
      const dt = Math.max(0, atMs - this.#lastMs);
      this.#short *= Math.exp(-dt / this.#o.shortTauMs);
      // The long count decays on the long window only once it is full, so its rate is an average.
      if (atMs - this.#firstMs > this.#o.longTauMs) this.#long *= Math.exp(-dt / this.#o.longTauMs);
    }
    this.#short += increase;
    this.#long += increase;
    this.#last = counter;
    this.#lastMs = atMs;
    return increase;
  }

  reset(): void {
    this.#last = null;
    this.#lastMs = this.#firstMs = Number.NaN;
    this.#short = this.#long = 0;
  }
}
