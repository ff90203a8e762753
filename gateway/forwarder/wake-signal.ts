/**
 * How the forwarder loop sleeps: until new entries arrive (`append`), until a backoff delay ends,
 * or until something says "try now" (`force`: the WAN came back, an admin pressed drain, close).
 * A wake that arrives while the loop is busy is remembered, so none is lost between a read that
 * found nothing and the wait that follows it.
 */
import type { Timers } from './timers.js';

export type WakeReason = 'append' | 'force';

interface Waiter {
  readonly resolve: () => void;
  readonly timer: unknown;
  readonly backoff: boolean;
}

export class WakeSignal {
  readonly #timers: Timers;
  #waiter: Waiter | null = null;
  #pending: WakeReason | null = null;

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  /** `append` ends an idle wait only; `force` ends a backoff wait too. */
  wake(reason: WakeReason): void {
    const w = this.#waiter;
    if (w !== null && (reason === 'force' || !w.backoff)) {
      this.#release(w);
      return;
    }
    if (this.#pending !== 'force') this.#pending = reason;
  }

  /** Waits for a wake; with `delayMs`, a backoff wait that also ends when the delay passes. */
  wait(delayMs: number | null): Promise<void> {
    const backoff = delayMs !== null;
    if (this.#pending === 'force' || (this.#pending === 'append' && !backoff)) {
      this.#pending = null;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        resolve,
        backoff,
        timer: backoff ? this.#timers.setTimeout(() => this.#release(waiter), delayMs) : null,
      };
      this.#waiter = waiter;
    });
  }

  #release(w: Waiter): void {
    if (this.#waiter !== w) return;
    this.#waiter = null;
    if (w.timer !== null) this.#timers.clearTimeout(w.timer);
    w.resolve();
  }
}
