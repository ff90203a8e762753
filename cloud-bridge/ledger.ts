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

/** Lifecycle is one state field (STYLE 6). */
export type LedgerState = 'opening' | 'open' | 'closing' | 'closed';

/** Stable codes of ledger failures (STYLE 7). */
export const LEDGER_ERROR_CODES = {
  /** The ledger is closing or closed: the request may be retried elsewhere (HTTP 503). */
  closed: 'LEDGER_CLOSED',
  /** Another process holds the data directory (LevelDB's LOCK file). */
  locked: 'LEDGER_LOCKED',
  /** The storage failed to read or write: retryable (HTTP 503). */
  io: 'LEDGER_IO',
  /** A stored record failed its read-back check (STYLE 10): never served, alarm. */
  corrupt: 'LEDGER_CORRUPT',
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

/** An event the caller has decoded and verified; the ledger decides its place in the chain. */
export interface AppendItem {
  readonly terminal: string;
  readonly seq: number;
  /** The payload's `prev`: chain hash of seq-1, "" for seq 1. */
  readonly prev: string;
  /** The compact JWS exactly as received: stored and compared byte for byte. */
  readonly jws: string;
}

export type AppendOutcome =
  | { readonly status: 'accepted' }
  | { readonly status: 'duplicate' }
  | { readonly status: 'rejected'; readonly code: Extract<RejectCode, 'CONFLICT' | 'SEQ_GAP' | 'BAD_CHAIN'>; readonly expected?: number };

export interface LedgerEvent {
  readonly seq: number;
  readonly jws: string;
  /** RFC 3339 time at which the ledger made it durable. */
  readonly receivedAt: string;
}

export interface TerminalHead extends ChainHead {
  readonly terminal: string;
}

/** Largest page any read may ask for: reads are bounded (STYLE 9). */
export const MAX_LEDGER_READ = 10_000;
/** Largest append: one ingest request (protocol MAX_INGEST_EVENTS) with room to spare. */
export const MAX_LEDGER_APPEND = 10_000;

export interface Ledger {
  readonly state: LedgerState;
  /**
   * Records keys for `store`, atomically and durably, one outcome per record in order. A kid that
   * is already enrolled for the terminal with a different key is never overwritten (`conflict`).
   */
  enroll(store: string, records: readonly KeyRecord[]): Promise<EnrollOutcome[]>;
  /** The key enrolled for `(store, terminal, kid)`, or undefined. */
  getKey(store: string, terminal: string, kid: string): Promise<Buffer | undefined>;
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
