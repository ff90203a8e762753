/**
 * Where the payment lifecycle keeps its state (DESIGN §3.6, §5.4): payments (facts, derived state,
 * history), the cursors of the logs it follows, the per-store updates feed and counters — behind
 * one interface with a LevelDB implementation (embedded cloud) and a PostgreSQL one (replicas).
 * Every implementation passes `test/cloud-bridge/lifecycle/payment-store-conformance.ts`.
 *
 * The one write operation is `apply`: read some payments and (optionally) a cursor, let a pure
 * function decide their new versions, and write payments, indexes, update records, counters and the
 * moved cursor in ONE atomic, durable write — only if the cursor is still where the caller read it.
 * That is what makes a log follower exactly-once across restarts (cursor and state move together)
 * and across replicas (the second replica to try the same stretch finds the cursor moved: `stale`).
 * In SQL: one transaction that locks the cursor row (`SELECT … FOR UPDATE`) then the payment rows in
 * id order, upserts, inserts the update records and moves the cursor.
 */
import { z } from 'zod';
import { TillgateError } from '../../protocol/errors.js';
import { UUID_PATTERN } from '../../protocol/ids.js';
import type { Payment, PaymentState } from './machine.js';

export type LifecycleStoreState = 'opening' | 'open' | 'closing' | 'closed';

/** Stable codes. */
export const LIFECYCLE_ERROR_CODES = {
  /** Closing or closed: retry elsewhere (HTTP 503). */
  closed: 'LIFECYCLE_CLOSED',
  /** Another process holds the LevelDB directory. */
  locked: 'LIFECYCLE_LOCKED',
  /** Storage failed: retryable (HTTP 503). */
  io: 'LIFECYCLE_IO',
  /** A stored record failed its read-back check. */
  corrupt: 'LIFECYCLE_CORRUPT',
} as const;

/** The logs the lifecycle follows, each with its own durable cursor. */
export const CURSOR_NAMES = ['feed', 'inbox'] as const;
export type CursorName = (typeof CURSOR_NAMES)[number];

/** Most payments one `apply` may touch: a feed page of 500 events plus room. */
export const MAX_APPLY_PAYMENTS = 1_000;
/** Largest page any read may ask for. */
export const MAX_PAYMENT_READ = 1_000;
/** Update records kept per store: a gateway more than this far behind re-reads from the oldest kept. */
export const DEFAULT_UPDATES_KEEP_PER_STORE = 100_000;

export interface ApplyRequest {
  /** Payment ids read (and possibly written) under this one write. */
  readonly ids: readonly string[];
  /** When given: write only if cursor `name` is still `from`, and move it to `to` (> from). */
  readonly cursor?: { readonly name: CursorName; readonly from: number; readonly to: number };
}

export interface PaymentChange {
  readonly before: Payment | undefined;
  readonly after: Payment;
}

export type ApplyOutcome =
  | { readonly kind: 'applied'; readonly changes: readonly PaymentChange[] }
  /** The cursor had moved (another replica applied this stretch): nothing was written. */
  | { readonly kind: 'stale'; readonly cursor: number };

/**
 * Decides the new versions of the payments read: returns those that changed (any subset, each
 * id among the ones requested). Pure and deterministic: a SQL implementation may call it again
 * when it retries a transaction.
 */
export type Decide = (current: ReadonlyMap<string, Payment>) => readonly Payment[];

/** One record of a store's updates feed (DESIGN §3.6 `GET /v1/stores/{store}/updates`). */
export interface StoredUpdate {
  readonly seq: number;
  readonly terminal: string;
  readonly id: string;
  readonly terminalSeq: number;
  readonly state: PaymentState;
  readonly charged: boolean;
  readonly contradicted: boolean;
}

/** Counters of one store (`''`: payments whose terminal event has not arrived, store unknown). */
export interface StoreCounters {
  readonly store: string;
  readonly byState: Readonly<Partial<Record<PaymentState, number>>>;
  readonly charged: number;
  readonly optimisticCharged: number;
  readonly contradicted: number;
}

/** One latency sample: seconds from the terminal's success to charged / authorised. */
export interface LatencySample {
  readonly id: string;
  readonly store: string;
  readonly seconds: number;
  /** The terminal's `at` was after the cloud's capture time (clock skew) and was clamped to it. */
  readonly clamped: boolean;
  readonly chargedBy?: 'optimistic' | 'authorisation';
}

export interface PaymentStore {
  readonly state: LifecycleStoreState;
  /** Where the named log's follower is (0 before the first entry). */
  cursor(name: CursorName): Promise<number>;
  /** See the file comment. TypeError for more than MAX_APPLY_PAYMENTS ids or a backwards cursor. */
  apply(request: ApplyRequest, decide: Decide): Promise<ApplyOutcome>;
  get(id: string): Promise<Payment | undefined>;
  /** A store's payments in id order after `afterId`, optionally only one state. */
  listByStore(store: string, options: { readonly state?: PaymentState; readonly afterId?: string; readonly limit: number }): Promise<Payment[]>;
  /** Payments whose terminal event has not arrived (state `pending`), in id order. */
  listPending(afterId: string, limit: number): Promise<Payment[]>;
  /** Payments in state `captured` captured before `beforeMs`, oldest first: what reconciliation asks about. */
  listCapturedBefore(beforeMs: number, limit: number): Promise<Payment[]>;
  /** A store's update records with seq > afterSeq, in order, and the store's newest seq. */
  readUpdates(store: string, afterSeq: number, limit: number): Promise<{ readonly head: number; readonly updates: StoredUpdate[] }>;
  /** Counters of every store with payments, `''` first when there are pending ones. */
  counters(): Promise<StoreCounters[]>;
  /** The most recent samples (by when they completed), newest first, at most `limit` of each. */
  recentLatencies(limit: number): Promise<{ readonly successToCharged: LatencySample[]; readonly successToAuthorised: LatencySample[] }>;
  /** Waits for running calls, then releases the storage. Idempotent. */
  close(): Promise<void>;
}

// ---- the stored record, checked when read back ------------------------------------

const ms = z.number().int().min(0).max(8.64e15);
const eventFactSchema = z.object({
  store: z.string(), terminal: z.string(), seq: z.number().int().min(1), amount: z.number().int(), currency: z.string(),
  mode: z.string(), at: z.string(), capturedAtMs: ms, position: z.number().int().min(1),
});
const pspFactSchema = z.object({
  key: z.string(), pspReference: z.string(), originalReference: z.string().nullable(), eventCode: z.string(), success: z.boolean(),
  amount: z.number().int(), currency: z.string(), action: z.enum(['cancel', 'refund']).nullable(), receivedAtMs: ms,
});
const stateSchema = z.enum(['pending', 'captured', 'authorised', 'refused', 'cancelled', 'inconsistent']);

export const storedPaymentSchema = z.object({
  id: z.string(),
  event: eventFactSchema.nullable(),
  psp: z.array(pspFactSchema),
  reconciliations: z.array(z.object({ verdict: z.enum(['authorised', 'refused', 'cancelled', 'inconsistent']), status: z.string(), atMs: ms })),
  overflow: z.number().int().min(0),
  eventConflicts: z.number().int().min(0),
  state: stateSchema,
  authorisedAtMs: ms.nullable(),
  refunds: z.array(z.object({ pspReference: z.string(), amount: z.number().int(), currency: z.string(), atMs: ms })),
  charged: z.boolean(),
  chargedBy: z.enum(['optimistic', 'authorisation']).nullable(),
  chargedAtMs: ms.nullable(),
  contradicted: z.boolean(),
  history: z.array(z.object({ atMs: ms, state: stateSchema, source: z.string() })),
});

/** What an update record says about a payment (null: the payment has no store yet). */
export function updateOf(p: Payment): Omit<StoredUpdate, 'seq'> | null {
  if (p.event === null) return null;
  return { terminal: p.event.terminal, id: p.id, terminalSeq: p.event.seq, state: p.state, charged: p.charged, contradicted: p.contradicted };
}

/** True when the change is news for the store (DESIGN §3.6: each change goes back to the terminal). */
export function isNewsForStore(before: Payment | undefined, after: Payment): boolean {
  if (after.event === null) return false;
  return before?.event === null || before === undefined || before.state !== after.state || before.charged !== after.charged || before.contradicted !== after.contradicted;
}

/** The latency samples a payment contributes (DESIGN §3.6 segments), with the skew clamp. */
export function samplesOf(p: Payment): { charged: LatencySample | null; authorised: LatencySample | null; chargedAtMs: number | null; authorisedAtMs: number | null } {
  const e = p.event;
  if (e === null) return { charged: null, authorised: null, chargedAtMs: null, authorisedAtMs: null };
  const at = Date.parse(e.at);
  const clamped = Number.isNaN(at) || at > e.capturedAtMs;
  const success = clamped ? e.capturedAtMs : at;
  const sample = (endMs: number, chargedBy?: 'optimistic' | 'authorisation'): LatencySample => ({
    id: p.id, store: e.store, seconds: Math.max(0, endMs - success) / 1000, clamped, ...(chargedBy === undefined ? {} : { chargedBy }),
  });
  return {
    charged: p.chargedAtMs === null || p.chargedBy === null ? null : sample(p.chargedAtMs, p.chargedBy),
    authorised: p.authorisedAtMs === null ? null : sample(p.authorisedAtMs),
    chargedAtMs: p.chargedAtMs,
    authorisedAtMs: p.authorisedAtMs,
  };
}

/** An error of the caller's `decide`, carried through a store's storage-error handling unchanged. */
export class CallerError {
  constructor(readonly error: unknown) {}
}

/** A payment id as every PaymentStore takes it: a UUID (the event id). */
export function checkId(id: string): void {
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) throw new TypeError('a payment id is a UUID (the event id)');
}

/** A read limit as every PaymentStore takes it: 1..MAX_PAYMENT_READ. */
export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAYMENT_READ) throw new TypeError(`limit must be 1..${MAX_PAYMENT_READ}`);
}

/** A stored payment read back: schema-checked and the id it was stored under, else LIFECYCLE corrupt. */
export function checkPayment(v: unknown, id: string): Payment {
  const parsed = storedPaymentSchema.safeParse(v);
  if (!parsed.success || parsed.data.id !== id) throw new TillgateError(LIFECYCLE_ERROR_CODES.corrupt, `stored payment ${id} is malformed`);
  return parsed.data;
}
