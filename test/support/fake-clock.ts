/** A clock that moves only when the test says so. */
import type { Clock } from '../../lib/clock.js';

export class FakeClock implements Clock {
  #now: number;
  #mono = 0;
  constructor(start = Date.UTC(2026, 10, 22, 9, 0, 0)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  monotonicMs(): number {
    return this.#mono;
  }
  advance(ms: number): void {
    this.#now += ms;
    this.#mono += ms;
  }
  set(ms: number): void {
    this.#now = ms;
  }
}
