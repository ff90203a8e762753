/**
 * The cloud's storage edge (DESIGN §5.4): enrolled keys, per-terminal chain heads and the events
 * themselves, stored exactly once per `(store, terminal, seq)`.
 *
 * Written so that a SQL implementation maps onto it one to one: `enroll` is one transaction of
 * `INSERT … ON CONFLICT DO NOTHING` plus a re-read; `append` is one transaction that locks the heads
 * of the terminals it touches (`SELECT … FOR UPDATE`, in sorted order so two requests never
 * deadlock), classifies every event against the locked head, inserts the accepted ones and moves
 * the heads. The LevelDB implementation does the same with an in-process lock per terminal and one
 * synced batch. Every implementation must pass `test/cloud-bridge/ledger-conformance.ts`.
 */
import type { ChainHead } from '../protocol/chain.js';
import type { RejectCode } from '../protocol/errors.js';
import type { FeedEventFields, LedgerFeed } from './feed.js';

/** Lifecycle is one state field. */
export type LedgerState = 'opening' | 'open' | 'closing' | 'closed';

/** Stable codes of ledger failures. */
export const LEDGER_ERROR_CODES = {
  /** The ledger is closing or closed: the request may be retried elsewhere (HTTP 503). */
  closed: 'LEDGER_CLOSED',
  /** Another process holds the data directory (LevelDB's LOCK file). */
  locked: 'LEDGER_LOCKED',
  /** The storage failed to read or write: retryable (HTTP 503). */
  io: 'LEDGER_IO',
  /** A stored record failed its read-back check: never served, alarm, not retryable. */
  corrupt: 'LEDGER_CORRUPT',
  /** A transaction kept losing races (serialization failure, deadlock) past its retries: retry later (503). */
  contended: 'LEDGER_CONTENDED',
  /** The database holds migrations this program does not know (it is older than the schema). */
  schemaNewer: 'LEDGER_SCHEMA_NEWER',
  /** An applied migration's text differs from this program's: someone edited history. */
  migrationChanged: 'LEDGER_MIGRATION_CHANGED',
} as const;
export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[keyof typeof LEDGER_ERROR_CODES];

/** One enrolled device key (DESIGN §3.1): a terminal may have several (rotation). */
export interface KeyRecord {
  readonly terminal: string;
  /** RFC 7638 thumbprint of `publicKey`: the caller has checked `kid === kidOf(publicKey)`. */
  readonly kid: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  /** When the gateway enrolled it (RFC 3339, as sent). */
  readonly at: string;
}

/** `added`: new; `exists`: the same key was already enrolled; `conflict`: the kid holds another key. */
export type EnrollOutcome = 'added' | 'exists' | 'conflict';

/** A key as the admin API shows it: revocation point and time, `null` while the key is trusted. */
export interface KeyView {
  readonly terminal: string;
  readonly kid: string;
  /** base64url of the raw 32-byte key. */
  readonly publicKey: string;
  /** When the gateway enrolled it (RFC 3339, as sent). */
  readonly enrolledAt: string;
  /** Events this key signs are accepted up to this seq and refused (KEY_REVOKED) above it. */
  readonly revokedAfterSeq: number | null;
  /** When the key was first revoked (the ledger's clock; the database's where there is one). */
  readonly revokedAt: string | null;
}

/** What the ingest pipeline needs of a key: the key itself and its revocation point. */
export interface KeyState {
  readonly publicKey: Buffer;
  readonly revokedAfterSeq: number | null;
}

/** `(terminal, kid)` of a key lookup. */
export interface KeyRef {
  readonly terminal: string;
  readonly kid: string;
}

/** An event the caller has decoded and verified; the ledger decides its place in the chain. */
export interface AppendItem {
  readonly terminal: string;
  readonly seq: number;
  /** The payload's `prev`: chain hash of seq-1, "" for seq 1. */
  readonly prev: string;
  /** The compact JWS exactly as received: stored and compared byte for byte. */
  readonly jws: string;
  /** The JWS header's `kid`: the ledger refuses the event when that key is revoked below `seq`. */
  readonly kid: string;
  /** The decoded payload fields stored beside the JWS (the feed, SQL queries, the lifecycle). */
  readonly event: FeedEventFields;
}

/** Codes the ledger itself decides; the pipeline decides the others before it appends. */
export type LedgerRejectCode = Extract<RejectCode, 'CONFLICT' | 'SEQ_GAP' | 'BAD_CHAIN' | 'KEY_REVOKED' | 'DUPLICATE_ID'>;

export type AppendOutcome =
  | { readonly status: 'accepted' }
  | { readonly status: 'duplicate' }
  | { readonly status: 'rejected'; readonly code: LedgerRejectCode; readonly expected?: number };

export interface LedgerEvent {
  readonly seq: number;
  readonly jws: string;
  /** RFC 3339 time at which the ledger made it durable. */
  readonly receivedAt: string;
}

export interface TerminalHead extends ChainHead {
  readonly terminal: string;
}

/** Largest page any read may ask for: reads are bounded. */
export const MAX_LEDGER_READ = 10_000;
/** Largest append: one ingest request (protocol MAX_INGEST_EVENTS) with room to spare. */
export const MAX_LEDGER_APPEND = 10_000;

/** Largest key lookup of one call: one ingest request holds at most 1,000 events. */
export const MAX_KEY_LOOKUP = 10_000;

/**
 * The ledger. It is also the feed (`readFeed`, `feedHead`): each accepted event gets a position when
 * its append commits (see feed.ts for the invariant).
 *
 * Rules of `append` beyond the chain (DESIGN §3.1, §3.2), checked in this order for each item:
 * 1. `KEY_REVOKED` when the item's `kid` was revoked for its terminal at a point below `seq`;
 * 2. `seq ≤ head`: duplicate (same bytes) or `CONFLICT`; 3. `SEQ_GAP`; 4. `BAD_CHAIN`;
 * 5. `DUPLICATE_ID` when another `(terminal, seq)` of the same store already holds the event `id`
 *    (compared case-insensitively, as UUIDs are), including an earlier item of the same call.
 * Ids are unique per store, not globally: the store is the unit the cloud partitions by, so the
 * check never needs to look beyond the store's own rows (and a partitioned database can keep the
 * unique index per partition).
 */
export interface Ledger extends LedgerFeed {
  readonly state: LedgerState;
  /**
   * Records keys for `store`, atomically and durably, one outcome per record in order. A kid that
   * is already enrolled for the terminal with a different key is never overwritten (`conflict`).
   */
  enroll(store: string, records: readonly KeyRecord[]): Promise<EnrollOutcome[]>;
  /** The key enrolled for `(store, terminal, kid)`, or undefined. */
  getKey(store: string, terminal: string, kid: string): Promise<Buffer | undefined>;
  /** Keys and revocation points of many `(terminal, kid)` in one read, aligned with `refs`. */
  getKeys(store: string, refs: readonly KeyRef[]): Promise<Array<KeyState | undefined>>;
  /** A terminal's keys in kid order (at most MAX_LEDGER_READ). */
  listKeys(store: string, terminal: string): Promise<KeyView[]>;
  /**
   * Revokes a key: events it signs with a seq above the point are refused with KEY_REVOKED, those at
   * or below it stay accepted. The point is `afterSeq`, or the terminal's head at this moment. Taken
   * under the terminal's head lock, so it orders with appends. Idempotent; a point once set only ever
   * moves down. Undefined when the key is not enrolled.
   */
  revokeKey(store: string, terminal: string, kid: string, afterSeq?: number): Promise<KeyView | undefined>;
  /** The terminal's head; `{seq:0, hash:""}` when it has no events. */
  head(store: string, terminal: string): Promise<ChainHead>;
  /** Heads of a store's terminals in terminal order, after `afterTerminal`, at most `limit`. */
  listHeads(store: string, afterTerminal: string, limit: number): Promise<TerminalHead[]>;
  /**
   * Places every item against its terminal's head, in order, as one atomic, durable (synced) write,
   * exactly once under concurrency: `seq ≤ head` with identical bytes → duplicate, with other bytes →
   * CONFLICT; `seq > head+1` → SEQ_GAP with `expected`; `prev ≠ head hash` → BAD_CHAIN; else
   * accepted and the head moves. Later items see the heads moved by earlier ones.
   */
  append(store: string, items: readonly AppendItem[]): Promise<AppendOutcome[]>;
  /** Events with seq > afterSeq in seq order, at most `limit`. */
  readEvents(store: string, terminal: string, afterSeq: number, limit: number): Promise<LedgerEvent[]>;
  /** Waits for running calls, then releases the storage. Idempotent. */
  close(): Promise<void>;
}
