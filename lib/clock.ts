/** Time is injected: production uses the system clock, tests a fake one. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Monotonic milliseconds, for durations and latencies. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
};

export function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
