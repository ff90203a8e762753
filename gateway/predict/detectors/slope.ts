/**
 * A robust trend with O(1) state: exponentially weighted least squares of value on time (decayed
 * sums, re-centred on the newest sample so they never lose precision), with each new value first
 * clipped to `clipZ` typical residuals from the current fit (Huber-style), so a single odd reading
 * cannot bend the line. Gives the slope per hour, the fitted level now, and the time until the
 * line crosses a threshold (battery empty, outbox at its limit, disk full).
 */
const HOUR_MS = 3_600_000;
/** How fast the typical residual follows the data, per point. */
const RESIDUAL_ALPHA = 0.1;

export interface RobustSlopeOptions {
  /** Memory of the fit: points older than a few `tauMs` hardly count. */
  readonly tauMs: number;
  readonly clipZ: number;
  /** Smallest residual scale (sensor resolution: 1 % for a battery). */
  readonly minScale: number;
  /** Points, and time span, before the slope is trusted. */
  readonly minPoints: number;
  readonly minSpanMs: number;
}

export class RobustSlope {
  readonly #o: RobustSlopeOptions;
  // Weighted sums over points, time u in hours relative to the newest point.
  #w = 0;
  #u = 0;
  #x = 0;
  #uu = 0;
  #ux = 0;
  #lastMs = Number.NaN;
  #firstMs = Number.NaN;
  #n = 0;
  #absRes = 0;

  constructor(options: RobustSlopeOptions) {
    this.#o = options;
  }

  get ready(): boolean {
    return this.#n >= this.#o.minPoints && this.#lastMs - this.#firstMs >= this.#o.minSpanMs && this.#denominator() > 1e-12;
  }

  /** Units per hour; 0 until ready. */
  get slopePerH(): number {
    if (!this.ready) return 0;
    return (this.#w * this.#ux - this.#u * this.#x) / this.#denominator();
  }

  /** The fitted value at the newest point. */
  get level(): number {
    if (this.#w === 0) return Number.NaN;
    if (!this.ready) return this.#x / this.#w;
    return (this.#x - this.slopePerH * this.#u) / this.#w;
  }

  /** Typical absolute residual of the fit. */
  get scale(): number {
    return Math.max(this.#o.minScale, this.#absRes);
  }

  /**
   * Hours until the fitted line reaches `threshold` moving the way `direction` says; Infinity when
   * it is not heading there (or not ready); 0 when it is already past it.
   */
  hoursTo(threshold: number, direction: 'down' | 'up'): number {
    if (!this.ready) return Number.POSITIVE_INFINITY;
    const level = this.level;
    const slope = this.slopePerH;
    if (direction === 'down' ? level <= threshold : level >= threshold) return 0;
    if (direction === 'down' ? slope >= 0 : slope <= 0) return Number.POSITIVE_INFINITY;
    return (threshold - level) / slope;
  }

  update(x: number, atMs: number): void {
    if (this.#n > 0) {
      const d = Math.max(0, (atMs - this.#lastMs) / HOUR_MS);
      // Re-centre on the new point (u -> u - d), then decay.
      this.#uu = this.#uu - 2 * d * this.#u + d * d * this.#w;
      this.#ux = this.#ux - d * this.#x;
      this.#u = this.#u - d * this.#w;
      const decay = Math.exp(-(d * HOUR_MS) / this.#o.tauMs);
      this.#w *= decay;
      this.#u *= decay;
      this.#x *= decay;
      this.#uu *= decay;
      this.#ux *= decay;
      if (this.ready) {
        const predicted = this.level;
        const limit = this.#o.clipZ * this.scale;
        const residual = x - predicted;
        this.#absRes += RESIDUAL_ALPHA * (Math.min(Math.abs(residual), limit) - this.#absRes);
        x = predicted + Math.max(-limit, Math.min(limit, residual));
      }
    } else {
      this.#firstMs = atMs;
    }
    this.#w += 1;
    this.#x += x;
    this.#lastMs = atMs;
    this.#n++;
  }

  reset(): void {
    this.#w = this.#u = this.#x = this.#uu = this.#ux = 0;
    this.#lastMs = this.#firstMs = Number.NaN;
    this.#n = 0;
    this.#absRes = 0;
  }

  #denominator(): number {
    return this.#w * this.#uu - this.#u * this.#u;
  }
}
