/**
 * Timers are injected so backoff, probes and retention run under a fake clock in tests.
 * The handle is opaque: a fake returns whatever it likes.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Uniform random in [0, 1): injected so jitter is testable. */
export type Random = () => number;
