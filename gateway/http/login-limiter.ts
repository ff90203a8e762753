/**
 * Rate limits on the admin login form: a few wrong tokens per address, then that address waits;
 * and a cap on attempts from everyone together, so a guessing run spread over many addresses is
 * slow too. The token is long and random, so this is about noise and log floods as much as guessing.
 * Bounded: the table of addresses keeps the most recent ones.
 */
import type { Clock } from '../../lib/clock.js';

export interface LoginLimits {
  /** Wrong tokens one address may send within `windowMs` before it must wait. */
  readonly maxFailuresPerAddress: number;
  readonly windowMs: number;
  /** Login attempts from all addresses together within `windowMs`. */
  readonly maxAttempts: number;
  /** Addresses remembered at once (the oldest is forgotten). */
  readonly maxAddresses: number;
}

/** Five typos is a person; more is a script. Fifteen minutes to wait is OWASP's usual lockout. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = Object.freeze({ maxFailuresPerAddress: 5, windowMs: 15 * 60_000, maxAttempts: 60, maxAddresses: 1_000 });

export type LoginVerdict = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

export class LoginLimiter {
  readonly #clock: Clock;
  readonly #limits: LoginLimits;
  readonly #failures = new Map<string, number[]>();
  #attempts: number[] = [];

  constructor(clock: Clock, limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {
    this.#clock = clock;
    this.#limits = limits;
  }

  /** Whether `address` may try now; counts the attempt when it may. */
  attempt(address: string): LoginVerdict {
    const now = this.#clock.now();
    const since = now - this.#limits.windowMs;
    this.#attempts = this.#attempts.filter((t) => t > since);
    const failures = (this.#failures.get(address) ?? []).filter((t) => t > since);
    if (failures.length >= this.#limits.maxFailuresPerAddress) return { ok: false, retryAfterS: retryAfter(failures[0] ?? now, this.#limits.windowMs, now) };
    if (this.#attempts.length >= this.#limits.maxAttempts) return { ok: false, retryAfterS: retryAfter(this.#attempts[0] ?? now, this.#limits.windowMs, now) };
    this.#attempts.push(now);
    return { ok: true };
  }

  failed(address: string): void {
    const now = this.#clock.now();
    const since = now - this.#limits.windowMs;
    const list = (this.#failures.get(address) ?? []).filter((t) => t > since);
    list.push(now);
    this.#failures.delete(address);
    this.#failures.set(address, list.slice(-this.#limits.maxFailuresPerAddress));
    while (this.#failures.size > this.#limits.maxAddresses) {
      const oldest = this.#failures.keys().next().value;
      if (oldest === undefined) break;
      this.#failures.delete(oldest);
    }
  }

  succeeded(address: string): void {
    this.#failures.delete(address);
  }
}

function retryAfter(oldestMs: number, windowMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((oldestMs + windowMs - nowMs) / 1000));
}
