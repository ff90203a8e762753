/**
 * A steady climb: how much a quantity (a log round trip) rose in each of the last few windows, and
 * the smallest of those rises. A link that degrades toward an outage keeps getting worse window
 * after window; congestion that sets in at once is one jump and then a plateau, so only one window
 * sees it rise and the smallest rise stays near zero. O(windows) state: a fast robust average (a
 * lone outlier is clipped, not averaged in, so one slow probe does not look like a climb) read at
 * each window boundary.
 */
import { RobustBaseline } from './ewma.js';

export interface SteadyClimbOptions {
  /** The fast average the windows read (a few probes' worth of noise taken out). */
  readonly tauMs: number;
  /** Smallest deviation a value is clipped against (the quantity's noise floor). */
  readonly minScale: number;
  readonly windowMs: number;
  /** Completed windows that must all have risen. */
  readonly windows: number;
}

export class SteadyClimb {
  readonly #o: SteadyClimbOptions;
  readonly #fast: RobustBaseline;
  /** The fast average at the last `windows + 1` window boundaries, oldest first. */
  #marks: number[] = [];
  #window = Number.NaN;

  constructor(options: SteadyClimbOptions) {
    if (!(options.windowMs > 0) || !(options.windows >= 1)) throw new RangeError('windowMs and windows must be positive');
    this.#o = options;
    this.#fast = new RobustBaseline({ tauMs: options.tauMs, clipZ: 2.5, minScale: options.minScale, warmupSamples: 1 });
  }

  update(x: number, atMs: number): void {
    const w = Math.floor(atMs / this.#o.windowMs);
    if (!Number.isNaN(this.#window) && w > this.#window && this.#fast.samples > 0) {
      // Boundaries crossed since the last sample all read the average as it stood before this one.
      const crossed = Math.min(this.#o.windows + 1, w - this.#window);
      for (let i = 0; i < crossed; i++) this.#marks.push(this.#fast.level);
      if (this.#marks.length > this.#o.windows + 1) this.#marks = this.#marks.slice(-(this.#o.windows + 1));
    }
    this.#window = w;
    this.#fast.update(x, atMs);
  }

  /** The smallest rise over the last `windows` completed windows (negative: it fell in one); 0 until known. */
  get value(): number {
    if (this.#marks.length < this.#o.windows + 1) return 0;
    let min = Number.POSITIVE_INFINITY;
    for (let i = 1; i < this.#marks.length; i++) min = Math.min(min, this.#marks[i]! - this.#marks[i - 1]!);
    return min;
  }

  reset(): void {
    this.#fast.reset();
    this.#marks = [];
    this.#window = Number.NaN;
  }
}
