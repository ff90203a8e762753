/**
 * CONNECT authentication (DESIGN §3.3): clientId == username == an enrolled terminal id, password
 * checked against its scrypt hash. Built so that a flood of failed CONNECTs stays cheap and never
 * stalls other terminals: unknown ids fail without hashing, a verified password is cached (as a
 * SHA-256 digest, tied to the stored hash so re-enrollment invalidates it), a terminal that keeps
 * failing is locked out for a while (its cached good password still works), and at most
 * `maxConcurrentHashes` hashes run with a bounded queue behind them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { isTerminalId } from '../../protocol/ids.js';
import type { TerminalRecord } from '../store/records.js';
import { MAX_PASSWORD_BYTES, verifyPassword } from './password.js';

export interface AuthLimits {
  readonly maxConcurrentHashes: number;
  readonly maxQueuedHashes: number;
  readonly failureLimit: number;
  readonly lockoutMs: number;
  /** Verified-password cache entries (one per terminal). */
  readonly cacheEntries: number;
}

export const AUTH_FAILURES = ['BAD_IDENTITY', 'UNKNOWN_TERMINAL', 'BAD_PASSWORD', 'LOCKED_OUT', 'BUSY'] as const;
export type AuthFailure = (typeof AUTH_FAILURES)[number];
export type AuthResult = { readonly ok: true } | { readonly ok: false; readonly reason: AuthFailure };

interface Lockout {
  failures: number;
  lockedUntilMs: number;
}

export class Authenticator {
  readonly #lookup: (terminal: string) => TerminalRecord | undefined;
  readonly #clock: Clock;
  readonly #limits: AuthLimits;
  readonly #cache = new Map<string, { digest: Buffer; storedHash: string }>();
  readonly #lockouts = new Map<string, Lockout>();
  readonly #waiting: (() => void)[] = [];
  #hashing = 0;
  readonly failures: Record<AuthFailure, number> = { BAD_IDENTITY: 0, UNKNOWN_TERMINAL: 0, BAD_PASSWORD: 0, LOCKED_OUT: 0, BUSY: 0 };

  constructor(lookup: (terminal: string) => TerminalRecord | undefined, clock: Clock, limits: AuthLimits) {
    this.#lookup = lookup;
    this.#clock = clock;
    this.#limits = limits;
  }

  async check(clientId: string, username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
    // DESIGN §3.3: the terminal id is the MQTT identity, so clientId and username must agree.
    if (!isTerminalId(clientId) || username !== clientId) return this.#fail('BAD_IDENTITY');
    const record = this.#lookup(clientId);
    if (record === undefined) return this.#fail('UNKNOWN_TERMINAL');
    if (password === undefined || password.length === 0 || password.length > MAX_PASSWORD_BYTES) return this.#fail('BAD_PASSWORD', clientId);
    const digest = createHash('sha256').update(password).digest();
    const cached = this.#cache.get(clientId);
    if (cached !== undefined && cached.storedHash === record.password.hash && timingSafeEqual(cached.digest, digest)) {
      return { ok: true };
    }
    const lock = this.#lockouts.get(clientId);
    if (lock !== undefined && lock.lockedUntilMs > this.#clock.now()) return this.#fail('LOCKED_OUT');
    if (this.#hashing >= this.#limits.maxConcurrentHashes && this.#waiting.length >= this.#limits.maxQueuedHashes) {
      return this.#fail('BUSY');
    }
    await this.#acquire();
    let ok: boolean;
    try {
      ok = await verifyPassword(password, record.password);
    } finally {
      this.#release();
    }
    if (!ok) return this.#fail('BAD_PASSWORD', clientId);
    this.#lockouts.delete(clientId);
    this.#remember(clientId, digest, record.password.hash);
    return { ok: true };
  }

  /** Drops what is known about a terminal (its password changed). */
  forget(terminal: string): void {
    this.#cache.delete(terminal);
    this.#lockouts.delete(terminal);
  }

  #fail(reason: AuthFailure, terminal?: string): AuthResult {
    this.failures[reason]++;
    if (reason === 'BAD_PASSWORD' && terminal !== undefined) {
      const lock = this.#lockouts.get(terminal) ?? { failures: 0, lockedUntilMs: 0 };
      lock.failures++;
      if (lock.failures >= this.#limits.failureLimit) {
        lock.failures = 0;
        lock.lockedUntilMs = this.#clock.now() + this.#limits.lockoutMs;
      }
      this.#lockouts.set(terminal, lock);
    }
    return { ok: false, reason };
  }

  #remember(terminal: string, digest: Buffer, storedHash: string): void {
    this.#cache.delete(terminal);
    if (this.#cache.size >= this.#limits.cacheEntries) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(terminal, { digest, storedHash });
  }

  #acquire(): Promise<void> {
    if (this.#hashing < this.#limits.maxConcurrentHashes) {
      this.#hashing++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(() => resolve()));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#hashing--;
  }
}
