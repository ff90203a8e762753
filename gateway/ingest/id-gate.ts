/**
 * Event ids in flight (DESIGN §3.2: the `id` is the idempotency key, unique in the store). The
 * store's id index knows every id that is durable; this gate knows the ones checked and on their way
 * to disk, so two publishes with one id never both pass. An id is reserved before the index is read
 * and released once its commit settled: a publish that finds an id reserved waits for that outcome
 * (stored: DUPLICATE_ID; failed: it may go on). Bounded by the committer's pending limit, as every
 * reservation is a record waiting for a commit.
 */

export interface IdReservation {
  readonly terminal: string;
  readonly seq: number;
  /** Settles true when the reserving event became durable, false when it did not. */
  readonly settled: Promise<boolean>;
  release(stored: boolean): void;
}

export class EventIdGate {
  readonly #held = new Map<string, IdReservation>();

  /** The reservation holding `id`, if any. */
  holder(id: string): IdReservation | undefined {
    return this.#held.get(id);
  }

  /** Reserves `id` for (terminal, seq); the caller checked `holder(id)` is undefined first. */
  reserve(id: string, terminal: string, seq: number): IdReservation {
    if (this.#held.has(id)) throw new TypeError(`event id ${id} is already reserved`);
    let settle: (stored: boolean) => void = () => undefined;
    const settled = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    let open = true;
    const reservation: IdReservation = {
      terminal,
      seq,
      settled,
      release: (stored) => {
        if (!open) return;
        open = false;
        if (this.#held.get(id) === reservation) this.#held.delete(id);
        settle(stored);
      },
    };
    this.#held.set(id, reservation);
    return reservation;
  }

  get size(): number {
    return this.#held.size;
  }
}
