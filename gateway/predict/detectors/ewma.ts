/**
 * Time-aware exponentially weighted averages (irregular samples: the weight of a gap grows with its
 * length, `alpha = 1 - exp(-dt / tau)`), and a robust baseline built on two of them: a level and a
 * mean absolute deviation, updated with the value clipped to `clipZ` deviations, so one outlier
 * cannot drag the baseline it is measured against. O(1) state.
 */

export class Ewma {
  readonly #tauMs: number;
  readonly #maxStepMs: number;
  #value = Number.NaN;
  #lastMs = Number.NaN;

  /**
   * `maxStepMs` caps the weight of one gap: an average of what happens while something is going
   * on (a battery draining) learns from the time spent in it, not from the pauses between.
   */
  constructor(tauMs: number, maxStepMs = Number.POSITIVE_INFINITY) {
    if (!(tauMs > 0)) throw new RangeError('tauMs must be positive');
    if (!(maxStepMs > 0)) throw new RangeError('maxStepMs must be positive');
    this.#tauMs = tauMs;
    this.#maxStepMs = maxStepMs;
  }

  get value(): number {
    return this.#value;
  }

  get ready(): boolean {
    return !Number.isNaN(this.#value);
  }

  update(x: number, atMs: number): number {
    if (Number.isNaN(this.#value)) {
      this.#value = x;
    } else {
      const dt = Math.min(this.#maxStepMs, Math.max(0, atMs - this.#lastMs));
      const alpha = 1 - Math.exp(-dt / this.#tauMs);
      this.#value += alpha * (x - this.#value);
    }
    this.#lastMs = atMs;
    return this.#value;
  }

  reset(): void {
    this.#value = Number.NaN;
    this.#lastMs = Number.NaN;
  }
}

export interface RobustBaselineOptions {
  /** How fast the baseline follows a lasting change. */
  readonly tauMs: number;
  /** Residuals are clipped to this many deviations before they update the baseline. */
  readonly clipZ: number;
  /** Smallest deviation used to scale a residual (sensor resolution, e.g. 1 dBm). */
  readonly minScale: number;
  /** Samples before z-scores mean anything; until then `z()` is 0. */
  readonly warmupSamples: number;
  /** Caps the weight of one gap between samples (see Ewma); default none. */
  readonly maxStepMs?: number;
}

export class RobustBaseline {
  readonly #o: RobustBaselineOptions;
  readonly #level: Ewma;
  readonly #dev: Ewma;
  #n = 0;

  constructor(options: RobustBaselineOptions) {
    this.#o = options;
    this.#level = new Ewma(options.tauMs, options.maxStepMs);
    this.#dev = new Ewma(options.tauMs, options.maxStepMs);
  }

  get level(): number {
    return this.#level.value;
  }

  get scale(): number {
    return Math.max(this.#o.minScale, this.#dev.ready ? this.#dev.value * 1.25 : this.#o.minScale);
  }

  get samples(): number {
    return this.#n;
  }

  /** The standardized residual of `x` against the baseline (before `x` updates it). */
  z(x: number): number {
    if (this.#n < this.#o.warmupSamples || !this.#level.ready) return 0;
    return (x - this.#level.value) / this.scale;
  }

  /** Returns the residual's z (as `z(x)`) and then learns from `x`, clipped. */
  update(x: number, atMs: number): number {
    const z = this.z(x);
    if (!this.#level.ready) {
      this.#level.update(x, atMs);
      this.#dev.update(this.#o.minScale, atMs);
    } else {
      const clipped = this.#level.value + Math.max(-this.#o.clipZ, Math.min(this.#o.clipZ, (x - this.#level.value) / this.scale)) * this.scale;
      this.#dev.update(Math.abs(clipped - this.#level.value), atMs);
      this.#level.update(clipped, atMs);
    }
    this.#n++;
    return z;
  }

  reset(): void {
    this.#level.reset();
    this.#dev.reset();
    this.#n = 0;
  }
}
