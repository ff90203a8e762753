/**
 * The gateway's retained ack as last heard on the current connection (its head for this terminal),
 * and a bounded wait for the next one: after a reset, and before a re-sequence, the publisher needs
 * the gateway's head as it is now.
 */
import type { ChainHead } from '../protocol/chain.js';

export class AckTracker {
  #last: ChainHead | undefined;
  #heard = 0;
  readonly #waiters = new Set<() => void>();

  /** The newest ack of this connection, if any. */
  get last(): ChainHead | undefined {
    return this.#last;
  }

  /** How many acks were heard (ever): pass it to `next` to wait for a newer one. */
  get heard(): number {
    return this.#heard;
  }

  heardAck(ack: ChainHead): void {
    this.#last = ack;
    this.#heard++;
    this.#wake();
  }

  /** The connection is gone: what it said no longer describes the gateway; waits end. */
  forget(): void {
    this.#last = undefined;
    this.#wake();
  }

  /** Resolves once an ack after the `heard`-th arrives, `forget()` is called, or `ms` passed. */
  next(heard: number, ms: number): Promise<void> {
    if (this.#heard > heard) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  #wake(): void {
    for (const done of [...this.#waiters]) done();
  }
}
