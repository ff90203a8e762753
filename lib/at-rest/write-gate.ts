/**
 * A shared/exclusive gate around a store's writes. A store's own writes pass `shared` (they run
 * concurrently, as before); the background re-encryption takes `exclusive` for one bounded chunk,
 * so it never rewrites a value between another writer's read and write, nor resurrects a value a
 * writer deleted (classic-level runs concurrent batches on the thread pool in no fixed order, so
 * ordering must come from here).
 *
 * Waiters are served first in, first out (consecutive shared waiters together), and a slot is
 * counted when it is granted, before the waiter resumes, so nothing can slip in between. An
 * exclusive section is one small chunk, so a write waits at most one chunk.
 */
type Waiter = { readonly kind: 'shared' | 'exclusive'; readonly grant: () => void };

export class WriteGate {
  #sharedHeld = 0;
  #exclusiveHeld = false;
  readonly #queue: Waiter[] = [];

  /** Runs a store write; concurrent with other shared writes, never with an exclusive section. */
  async shared<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#exclusiveHeld && this.#queue.length === 0) this.#sharedHeld++;
    else await new Promise<void>((grant) => this.#queue.push({ kind: 'shared', grant }));
    try {
      return await fn();
    } finally {
      this.#sharedHeld--;
      this.#pump();
    }
  }

  /** Runs `fn` alone: after every running shared write finished, with later ones held back. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#exclusiveHeld && this.#sharedHeld === 0 && this.#queue.length === 0) this.#exclusiveHeld = true;
    else await new Promise<void>((grant) => this.#queue.push({ kind: 'exclusive', grant }));
    try {
      return await fn();
    } finally {
      this.#exclusiveHeld = false;
      this.#pump();
    }
  }

  /** For tests and status: what is running and waiting. */
  get stats(): { shared: number; exclusive: boolean; waiting: number } {
    return { shared: this.#sharedHeld, exclusive: this.#exclusiveHeld, waiting: this.#queue.length };
  }

  #pump(): void {
    while (!this.#exclusiveHeld && this.#queue.length > 0) {
      const head = this.#queue[0] as Waiter;
      if (head.kind === 'exclusive') {
        if (this.#sharedHeld > 0) return;
        this.#exclusiveHeld = true;
      } else {
        this.#sharedHeld++;
      }
      this.#queue.shift();
      head.grant();
    }
  }
}
