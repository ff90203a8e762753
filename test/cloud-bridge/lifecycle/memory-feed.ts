/**
 * An in-memory `LedgerFeed` for the lifecycle's unit tests: the test double of the ledgers' feeds.
 * It passes the same conformance suite (test/cloud-bridge/memory-feed.test.ts), so what the
 * lifecycle is tested against behaves like the real thing.
 */
import { isoNow, type Clock } from '../../../lib/clock.js';
import { MAX_FEED_READ, type FeedEntry, type LedgerFeed } from '../../../cloud-bridge/feed.js';
import { decodeEvent } from '../../../protocol/jws.js';

export class MemoryLedgerFeed implements LedgerFeed {
  readonly #entries: FeedEntry[] = [];
  readonly #keys = new Set<string>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Appends accepted events (compact JWS) of `store`; an event already stored is skipped. */
  append(store: string, jwsList: readonly string[]): FeedEntry[] {
    const added: FeedEntry[] = [];
    for (const jws of jwsList) {
      const { payload } = decodeEvent(jws);
      const key = `${store}:${payload.terminal}:${payload.seq}`;
      if (this.#keys.has(key)) continue;
      this.#keys.add(key);
      const entry: FeedEntry = {
        position: this.#entries.length + 1,
        store,
        terminal: payload.terminal,
        seq: payload.seq,
        jws,
        receivedAt: isoNow(this.#clock),
        event: {
          id: payload.id, type: payload.type, at: payload.at, amount: payload.amount, currency: payload.currency,
          outcome: payload.outcome, mode: payload.mode, ...(payload.ref === undefined ? {} : { ref: payload.ref }),
        },
      };
      this.#entries.push(entry);
      added.push(entry);
    }
    return added;
  }

  async readFeed(afterPosition: number, limit: number): Promise<FeedEntry[]> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_FEED_READ) throw new TypeError(`limit must be 1..${MAX_FEED_READ}`);
    if (!Number.isSafeInteger(afterPosition) || afterPosition < 0) throw new TypeError('afterPosition must be an integer >= 0');
    // Positions are the array index + 1: start right after the cursor.
    return this.#entries.slice(afterPosition, afterPosition + limit);
  }

  async feedHead(): Promise<number> {
    return this.#entries.length;
  }
}
