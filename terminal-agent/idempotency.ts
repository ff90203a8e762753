/**
 * Idempotency keys: the payment app's way to retry `record()` safely. If the agent dies after the
 * event is durable but before the app got the answer, the app cannot know whether the payment was
 * recorded; it retries with the same key and gets the original `{id, seq, offline}` back (nothing
 * new is recorded). The key is stored with the event in one synced outbox write (outbox.ts).
 *
 * Keys are kept for `idempotencyKeyTtlS` AND at most `maxIdempotencyKeys`, pruned by a timer, never
 * inside `record()`: the TTL is the promise to the app (a retry within it is safe), the count cap is
 * the disk bound that holds whatever the rate. At the defaults the TTL is what bites: 100,000 keys
 * last 7 days up to ~14,000 payments a day, far above what one terminal takes.
 */
import { z } from 'zod';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { TillgateError } from '../protocol/errors.js';
import { AGENT_ERROR_CODES } from './errors.js';
import type { IdempotencyRecord, Outbox } from './outbox/outbox.js';

/** Long enough for a UUID or an order number plus an attempt suffix; bounds every stored key. */
export const MAX_IDEMPOTENCY_KEY_CHARS = 128;
/** Printable, header-safe and log-safe: no spaces, quotes or separators that need escaping. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]+$/;
/** The HTTP header of the local record API (draft-ietf-httpapi-idempotency-key-header). */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

export const idempotencyKeySchema = z.string().min(1).max(MAX_IDEMPOTENCY_KEY_CHARS).regex(IDEMPOTENCY_KEY_PATTERN);

export interface IdempotencyOptions {
  /** How long a key answers retries, seconds. */
  readonly idempotencyKeyTtlS: number;
  /** Most keys kept; the oldest beyond it are pruned even inside the TTL. */
  readonly maxIdempotencyKeys: number;
  /** Seconds between prune runs (one also runs at start). */
  readonly idempotencyPruneIntervalS: number;
}

export const DEFAULT_IDEMPOTENCY: IdempotencyOptions = Object.freeze({
  // 7 days: a retry comes seconds to minutes after a crash; a week also covers a terminal that
  // sat switched off over a long weekend with the app's retry still queued.
  idempotencyKeyTtlS: 7 * 86_400,
  // Measured: 100,000 keys take ~11 MB of LevelDB and ~250 ms of the outbox's open-time scan.
  maxIdempotencyKeys: 100_000,
  // 10 minutes: at a terminal's pace a run deletes a handful of keys.
  idempotencyPruneIntervalS: 600,
});

/**
 * Deletes per prune write. Prune writes share the outbox's write queue with appends: a batch of
 * 1,000 took ~22 ms here, 250 keeps a record() that waits behind one at ~6 ms.
 */
export const PRUNE_BATCH_KEYS = 250;

/** Validates a key from outside (HTTP header or library caller); throws `BAD_IDEMPOTENCY_KEY`. */
export function parseIdempotencyKey(raw: unknown): string {
  const parsed = idempotencyKeySchema.safeParse(raw);
  if (!parsed.success) {
    throw new TillgateError(AGENT_ERROR_CODES.BAD_IDEMPOTENCY_KEY, `idempotency key must be 1-${MAX_IDEMPOTENCY_KEY_CHARS} characters of [A-Za-z0-9._:-]`);
  }
  return parsed.data;
}

/**
 * The answer to a retry: the original result when the retry is the same payment (type, amount,
 * currency), else `IDEMPOTENCY_MISMATCH` (the app reused a key for another payment: record nothing).
 * After a re-sequence the seq is the event's new one (same id). A payment the gateway refused for
 * good is answered `SET_ASIDE`: repeating the original success would promise a delivery that
 * will not happen.
 */
export function replayOf(stored: IdempotencyRecord, tx: { type: string; amount: number; currency: string }): { id: string; seq: number; offline: boolean; replayed: true } {
  if (stored.type !== tx.type || stored.amount !== tx.amount || stored.currency !== tx.currency) {
    throw new TillgateError(AGENT_ERROR_CODES.IDEMPOTENCY_MISMATCH, `idempotency key was used for a different payment (seq ${stored.seq})`);
  }
  if (stored.refusedCode !== undefined) {
    throw new TillgateError(AGENT_ERROR_CODES.SET_ASIDE, `payment ${stored.id} was refused by the gateway (${stored.refusedCode}); it is kept on this terminal, set aside, and will not be delivered`);
  }
  return { id: stored.id, seq: stored.seq, offline: stored.offline, replayed: true };
}

/** Prunes expired and excess keys in bounded batches until none is left to prune; returns how many. */
export async function pruneIdempotencyKeys(outbox: Outbox, options: IdempotencyOptions, nowMs: number): Promise<number> {
  const policy = { olderThanMs: nowMs - options.idempotencyKeyTtlS * 1000, maxKeys: options.maxIdempotencyKeys, limit: PRUNE_BATCH_KEYS };
  let total = 0;
  for (;;) {
    const n = await outbox.pruneIdempotencyKeys(policy); // each batch goes through the outbox's write queue
    total += n;
    if (n < policy.limit) return total;
  }
}

export interface IdempotencyPruner {
  /** Stops the timer and waits for a run in progress, so the outbox can be closed after it. */
  stop(): Promise<void>;
}

/** Runs `pruneIdempotencyKeys` now and every `idempotencyPruneIntervalS`, off the record path. */
export function startIdempotencyPruner(deps: { outbox: Outbox; clock: Clock; logger: Logger }, options: IdempotencyOptions): IdempotencyPruner {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = () => {
    if (stopped) return;
    running = running.then(async () => {
      try {
        const n = await pruneIdempotencyKeys(deps.outbox, options, deps.clock.now());
        if (n > 0) deps.logger.debug('pruned idempotency keys', { pruned: n, kept: deps.outbox.idempotencyKeyCount() });
      } catch (err) {
        // A failed prune only keeps keys longer; the next run tries again.
        deps.logger.warn('idempotency key prune failed', { code: (err as { code?: unknown }).code ?? 'INTERNAL' });
      }
    });
  };
  const first = setTimeout(run, 0);
  const timer = setInterval(run, options.idempotencyPruneIntervalS * 1000);
  first.unref();
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
