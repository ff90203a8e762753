/**
 * The ledger as a log (DESIGN §5.4): every accepted event gets a position in one global order, and
 * other parts of the cloud (the payment lifecycle, updates to stores, a later Kafka or NATS stream)
 * follow it from a durable cursor, as event sourcing intends.
 *
 * The invariant every implementation keeps, and the conformance suite checks: a reader that has
 * read up to position P never later sees a new entry at a position ≤ P (no entry is skipped because
 * a concurrent writer committed a smaller position after a larger one became visible). Positions
 * start at 1 and only grow; they need not be gapless.
 */

/**
 * The event's decoded fields, stored beside its JWS so SQL can index and query them. A copy for
 * querying: the JWS is the record. Free-text fields (`type`, `ref`) never hold U+0000 (the ingest
 * pipeline stores U+FFFD instead; PostgreSQL text cannot hold it).
 */
export interface FeedEventFields {
  /** The event id (UUID): the payment id and idempotency key. */
  readonly id: string;
  /** `payment`, `refund`, `void` or any newer type (an open set). */
  readonly type: string;
  /** RFC 3339 time on the terminal's clock when the terminal showed success. */
  readonly at: string;
  /** Minor units. */
  readonly amount: number;
  readonly currency: string;
  /** `approved`, `declined` or a newer value. */
  readonly outcome: string;
  /** `online`, `offline` or a newer value. */
  readonly mode: string;
  /** PSP reference, when the terminal had one. */
  readonly ref?: string;
}

export interface FeedEntry {
  readonly position: number;
  readonly store: string;
  readonly terminal: string;
  readonly seq: number;
  /** The compact JWS exactly as received. */
  readonly jws: string;
  /** RFC 3339 time at which the ledger made it durable (the database's clock where there is one). */
  readonly receivedAt: string;
  readonly event: FeedEventFields;
}

/** Largest page of the feed a caller may ask for. */
export const MAX_FEED_READ = 10_000;

export interface LedgerFeed {
  /** Entries with position > afterPosition in position order, at most `limit` (1..MAX_FEED_READ). */
  readFeed(afterPosition: number, limit: number): Promise<FeedEntry[]>;
  /** Highest position written so far (0 when empty). */
  feedHead(): Promise<number>;
}
