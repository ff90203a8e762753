/**
 * Group commit (DESIGN §5.1): the appends of a few milliseconds go to the store as ONE batch with
 * `{ sync: true }`, then all their PUBACKs are released, in submission order. One fsync of a
 * batch of 1,000 costs ~12 ms where 1,000 single synced puts cost ~300 ms.
 *
 * Bounded: records and bytes per batch, and records waiting. One batch is in flight; what
 * arrives meanwhile goes out as soon as it lands. When a batch fails (a disk error), it and
 * everything queued behind it fail: later items were checked against a chain that included the
 * failed ones, so they must not be written without them.
 */
import type { Clock } from '../../lib/clock.js';
import { TillgateError } from '../../protocol/errors.js';
import type { CommitEntry, EventStore } from '../store/event-store.js';

export interface CommitLimits {
  /** How long the first item of a group waits for company. */
  readonly windowMs: number;
  readonly maxRecords: number;
  readonly maxBytes: number;
  /** Records queued and not yet in a batch. */
  readonly maxPending: number;
}

export interface CommitHooks {
  /** After a batch is durable, before its items resolve (the ack publisher). */
  onCommitted?(entries: readonly CommitEntry[]): void;
  /** After a batch failed, before its items reject (the chain tracker resets). */
  onFailed?(err: unknown): void;
}

interface Item {
  readonly entries: readonly CommitEntry[];
  readonly bytes: number;
  resolve(): void;
  reject(err: unknown): void;
}

/** How many recent commit durations are kept for percentiles. */
const RECENT_COMMITS = 1024;

export type CommitterState = 'open' | 'closing' | 'closed';

export class GroupCommitter {
  readonly #store: Pick<EventStore, 'commit'>;
  readonly #clock: Clock;
  readonly #limits: CommitLimits;
  readonly #hooks: CommitHooks;
  #queue: Item[] = [];
  #queuedRecords = 0;
  #inFlight: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #state: CommitterState = 'open';
  /** Batches written and records in them, for the status API and the bench. */
  readonly stats = { batches: 0, records: 0, failures: 0 };
  /** Durations of the last synced writes (a bounded ring), for `commitDurations()`. */
  readonly #durationsMs: number[] = [];
  #durationIndex = 0;

  constructor(store: Pick<EventStore, 'commit'>, clock: Clock, limits: CommitLimits, hooks: CommitHooks = {}) {
    this.#store = store;
    this.#clock = clock;
    this.#limits = limits;
    this.#hooks = hooks;
  }

  /** p50 / p99 / max of the last RECENT_COMMITS synced writes, in ms (what fsync costs here). */
  commitDurations(): { p50Ms: number; p99Ms: number; maxMs: number } {
    const sorted = [...this.#durationsMs].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
    const round = (n: number) => Math.round(n * 100) / 100;
    return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(sorted.at(-1) ?? 0) };
  }

  get state(): CommitterState {
    return this.#state;
  }

  /** Resolves when `entries` are durable (and everything submitted before them). */
  submit(entries: readonly CommitEntry[], bytes: number): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(new TillgateError('COMMITTER_CLOSED', 'the gateway is shutting down'));
    if (this.#queuedRecords + entries.length > this.#limits.maxPending) {
      return Promise.reject(new TillgateError('OVERLOADED', `more than ${this.#limits.maxPending} records waiting for a commit`));
    }
    // Nothing to write and nothing before it: ordering is already satisfied.
    if (entries.length === 0 && this.#queue.length === 0 && this.#inFlight === null) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ entries, bytes, resolve, reject });
      this.#queuedRecords += entries.length;
      this.#schedule();
    });
  }

  /** Stops taking new items, writes what is queued, waits for the batch in flight. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    while (this.#inFlight !== null || this.#queue.length > 0) {
      if (this.#inFlight === null) this.#flush();
      await this.#inFlight?.catch(() => undefined);
    }
    this.#state = 'closed';
  }

  #schedule(): void {
    if (this.#inFlight !== null) return;
    if (this.#queuedRecords >= this.#limits.maxRecords) {
      this.#flush();
    } else if (this.#timer === null) {
      this.#timer = setTimeout(() => this.#flush(), this.#limits.windowMs);
    }
  }

  #flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#inFlight !== null || this.#queue.length === 0) return;
    const items: Item[] = [];
    let records = 0;
    let bytes = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Item;
      const fits = records + next.entries.length <= this.#limits.maxRecords && bytes + next.bytes <= this.#limits.maxBytes;
      if (items.length > 0 && !fits) break;
      this.#queue.shift();
      items.push(next);
      records += next.entries.length;
      bytes += next.bytes;
    }
    this.#queuedRecords -= records;
    const entries = items.flatMap((i) => i.entries);
    this.#inFlight = this.#write(entries, items).finally(() => {
      this.#inFlight = null;
      // What arrived during the write has waited long enough: send it now.
      if (this.#queue.length > 0) this.#flush();
    });
  }

  async #write(entries: readonly CommitEntry[], items: readonly Item[]): Promise<void> {
    try {
      if (entries.length > 0) {
        const t0 = this.#clock.monotonicMs();
        await this.#store.commit(entries, this.#clock.now());
        this.#durationsMs[this.#durationIndex] = this.#clock.monotonicMs() - t0;
        this.#durationIndex = (this.#durationIndex + 1) % RECENT_COMMITS;
      }
    } catch (err) {
      this.stats.failures++;
      const failed = [...items, ...this.#queue];
      this.#queue = [];
      this.#queuedRecords = 0;
      this.#hooks.onFailed?.(err);
      for (const item of failed) item.reject(err);
      return;
    }
    this.stats.batches++;
    this.stats.records += entries.length;
    this.#hooks.onCommitted?.(entries);
    for (const item of items) item.resolve();
  }
}
