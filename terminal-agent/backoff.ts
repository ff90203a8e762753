/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * delay = random() * min(cap, base * 2^attempt). Full jitter spreads a store's terminals apart
 * when the gateway comes back, instead of having them all reconnect in the same millisecond.
 */
export interface BackoffOptions {
  /** First delay ceiling, ms. */
  readonly baseMs: number;
  /** Largest delay ceiling, ms: how long a terminal may wait before trying again at worst. */
  readonly capMs: number;
}

/** 250 ms first, never more than 15 s: a cashier should not wait long after the WiFi returns. */
export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 250, capMs: 15_000 });

/** `random` returns a number in [0, 1) (injected). */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
