/** Timers driven by a FakeClock: `advance(ms)` fires what is due, in due order. */
import type { Timers } from '../../gateway/forwarder/timers.js';
import type { FakeClock } from '../support/fake-clock.js';

interface Pending {
  readonly id: number;
  readonly dueMs: number;
  readonly fn: () => void;
}

export class FakeTimers implements Timers {
  readonly #clock: FakeClock;
  #pending: Pending[] = [];
  #next = 1;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const t = { id: this.#next++, dueMs: this.#clock.now() + Math.max(0, ms), fn };
    this.#pending.push(t);
    return t.id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending = this.#pending.filter((t) => t.id !== handle);
  }

  /** Delays of the timers now pending, from now. */
  pendingDelaysMs(): number[] {
    return this.#pending.map((t) => t.dueMs - this.#clock.now());
  }

  /** Moves the clock forward, firing each due timer at its due time. */
  advance(ms: number): void {
    const end = this.#clock.now() + ms;
    for (;;) {
      const due = this.#pending.filter((t) => t.dueMs <= end).sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
      if (due === undefined) break;
      this.#pending = this.#pending.filter((t) => t !== due);
      if (due.dueMs > this.#clock.now()) this.#clock.advance(due.dueMs - this.#clock.now());
      due.fn();
    }
    if (end > this.#clock.now()) this.#clock.advance(end - this.#clock.now());
  }

  /** Fires the earliest pending timer (moving the clock to it); false when none. */
  fireNext(): boolean {
    const due = [...this.#pending].sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
    if (due === undefined) return false;
    this.advance(Math.max(0, due.dueMs - this.#clock.now()));
    return true;
  }
}
