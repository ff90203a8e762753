/**
 * Exponential backoff with full jitter: delay = random(0, min(cap, base * 2^attempt)).
 * Full jitter spreads the retries of many gateways that lost the same cloud at the same moment,
 * so they do not come back as one thundering herd (AWS Architecture Blog, "Exponential Backoff
 * and Jitter", 2015).
 */
import type { Random } from './timers.js';

export interface BackoffOptions {
  /** First retry ceiling. */
  readonly retryDelayMsMin: number;
  /** Cap of the ceiling: the longest a link that came back can go unnoticed by backoff alone. */
  readonly retryDelayMsMax: number;
}

/** The exponent stops growing here: 2^30 is far past any cap, and it keeps the math finite. */
const MAX_EXPONENT = 30;

export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: Random;
  #attempt = 0;

  constructor(options: BackoffOptions, random: Random) {
    if (!(options.retryDelayMsMin > 0) || options.retryDelayMsMax < options.retryDelayMsMin) {
      throw new TypeError('backoff needs 0 < retryDelayMsMin <= retryDelayMsMax');
    }
    this.#options = options;
    this.#random = random;
  }

  /** How many failures in a row so far. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The current ceiling (before jitter): grows 2x per failure, capped. */
  ceilingMs(): number {
    const { retryDelayMsMin, retryDelayMsMax } = this.#options;
    return Math.min(retryDelayMsMax, retryDelayMsMin * 2 ** Math.min(this.#attempt, MAX_EXPONENT));
  }

  /** The delay before the next retry; counts one more failure. */
  next(): number {
    const ceiling = this.ceilingMs();
    this.#attempt += 1;
    return Math.floor(this.#random() * ceiling);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
