/**
 * Payments refused over the offline limits since the agent started, by code, and when the latest
 * was: the health sample carries them (`offlineRefused`) so the gateway's page can say that a till
 * is turning card payments away, and which limit it hit. Bounded: the codes are the four
 * OFFLINE_LIMIT_* codes of limits.ts.
 */
import type { OfflineRefusalsSample } from '../protocol/messages.js';

export class OfflineRefusals {
  #total = 0;
  readonly #byCode: Record<string, number> = {};
  #lastAtMs: number | null = null;

  count(code: string, atMs: number): void {
    this.#total++;
    this.#byCode[code] = (this.#byCode[code] ?? 0) + 1;
    this.#lastAtMs = atMs;
  }

  get total(): number {
    return this.#total;
  }

  /** The health sample's `offlineRefused`, or undefined while nothing was refused. */
  sample(): OfflineRefusalsSample | undefined {
    if (this.#total === 0) return undefined;
    return { total: this.#total, byCode: { ...this.#byCode }, lastAt: this.#lastAtMs === null ? null : new Date(this.#lastAtMs).toISOString() };
  }
}
