/**
 * What the event store keeps, and the invariants checked when a record is written and when it is
 * read back. A record that fails its check on read means a corrupt or foreign data dir:
 * that is a crash (`STORE_CORRUPT`), never a silent skip.
 */
import { TillgateError } from '../../protocol/errors.js';
import { isTerminalId } from '../../protocol/ids.js';
import type { RejectCode } from '../../protocol/errors.js';
import { EMPTY_MONEY, isMoneyTotals, legacyMoney, TX_CLASSES, type MoneyTotals, type TxClass } from './money.js';

export interface StoredEvent {
  readonly terminal: string;
  readonly seq: number;
  /** Position in the gateway-wide forward queue. */
  readonly pos: number;
  /** The compact JWS exactly as the terminal sent it. */
  readonly jws: string;
  readonly storedAtMs: number;
}

/**
 * A queue entry without the JWS (that lives once, in the events keyspace). `id` and `cls` were
 * added later: records written by an earlier release lack them (no id index entry to remove, money
 * `unclassified`).
 */
export type QueueRecord =
  | {
      readonly kind: 'event';
      readonly terminal: string;
      readonly seq: number;
      readonly storedAtMs: number;
      readonly amount: number;
      readonly currency: string;
      /** The event's `id` (its idempotency key), for the id index. */
      readonly id?: string;
      /** What the event means in money (money.ts), fixed when it was stored. */
      readonly cls?: TxClass;
    }
  | {
      readonly kind: 'enrollment';
      readonly terminal: string;
      readonly kid: string;
      readonly publicKey: string;
      readonly at: string;
      /** The operator's endorsement (DESIGN §3.1); absent in entries written by the previous release. */
      readonly endorsement?: string;
    };

/**
 * One entry of the acceptance log (`accepted` keyspace): the queue positions the cloud took at
 * `atMs` (a cursor advance, dead letters left out, or dead letters a later retry delivered).
 * Retention counts age from here, never from storage, and deletes exactly the positions named.
 */
export interface AcceptanceRecord {
  readonly n: number;
  readonly atMs: number;
  /** Inclusive [from, through] position ranges, ascending. */
  readonly ranges: readonly (readonly [number, number])[];
}

export interface TerminalKey {
  readonly kid: string;
  /** base64url of the raw 32-byte Ed25519 key. */
  readonly publicKey: string;
  /** RFC 3339 enrollment time. */
  readonly at: string;
  /**
   * The operator's endorsement of this key (DESIGN §3.1), forwarded with every enrollment of it.
   * Absent for keys enrolled by the previous release: a cloud that checks endorsements refuses
   * those, and the status page says so.
   */
  readonly endorsement?: string;
}

/** scrypt parameters and output; the password itself is never stored. */
export interface PasswordHash {
  readonly algo: 'scrypt';
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  readonly hash: string;
}

export interface TerminalRecord {
  readonly terminal: string;
  readonly keys: readonly TerminalKey[];
  readonly password: PasswordHash;
  readonly enrolledAt: string;
  readonly updatedAt: string;
}

/** What the gateway knows of a rejected event: the fields of the `rejects` message (DESIGN §3.3). */
export interface RejectFields {
  readonly terminal: string;
  readonly seq: number;
  readonly id: string;
  readonly code: RejectCode;
  readonly message: string;
  readonly expected?: number;
}

export interface RejectRecord extends RejectFields {
  /** Gateway-wide reject number, starting at 1. */
  readonly n: number;
  readonly atMs: number;
}

/** Counters written by the ingest path only (so the two writers never race on one key). */
export interface IngestMeta {
  readonly queueHead: number;
  readonly eventsStored: number;
  /** Events stored, by what they mean in money (money.ts). */
  readonly money: MoneyTotals;
  readonly rejectSeq: number;
  readonly rejectsByCode: Readonly<Record<string, number>>;
}

/** Counters written by the forwarder path only. */
export interface ForwardMeta {
  readonly cursor: number;
  /** Events the cursor passed (accepted, duplicate or dead-lettered). */
  readonly eventsForwarded: number;
  /** The same events by what they mean in money. */
  readonly money: MoneyTotals;
  readonly deadLetters: number;
  /** Number of the newest acceptance record (0: none yet). */
  readonly acceptSeq: number;
}

export const EMPTY_INGEST_META: IngestMeta = Object.freeze({
  queueHead: 0,
  eventsStored: 0,
  money: EMPTY_MONEY,
  rejectSeq: 0,
  rejectsByCode: {},
});

export const EMPTY_FORWARD_META: ForwardMeta = Object.freeze({
  cursor: 0,
  eventsForwarded: 0,
  money: EMPTY_MONEY,
  deadLetters: 0,
  acceptSeq: 0,
});

export function corrupt(what: string): TillgateError {
  return new TillgateError('STORE_CORRUPT', `event store: ${what}`);
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export function assertStoredEvent(value: unknown, terminal: string, seq: number): StoredEvent {
  const e = value as StoredEvent;
  if (
    typeof e !== 'object' || e === null || e.terminal !== terminal || e.seq !== seq ||
    !isCount(e.pos) || e.pos < 1 || typeof e.jws !== 'string' || e.jws.length === 0 || !isCount(e.storedAtMs)
  ) {
    throw corrupt(`bad event record at ${terminal}/${seq}`);
  }
  return e;
}

export function assertQueueRecord(value: unknown, pos: number): QueueRecord {
  const q = value as QueueRecord;
  const ok =
    typeof q === 'object' && q !== null && isTerminalId(q.terminal) &&
    ((q.kind === 'event' && isCount(q.seq) && q.seq >= 1 && isCount(q.storedAtMs) && typeof q.amount === 'number' && typeof q.currency === 'string' &&
      (q.id === undefined || typeof q.id === 'string') && (q.cls === undefined || (TX_CLASSES as readonly string[]).includes(q.cls))) ||
      (q.kind === 'enrollment' && typeof q.kid === 'string' && typeof q.publicKey === 'string' && typeof q.at === 'string' &&
        (q.endorsement === undefined || typeof q.endorsement === 'string')));
  if (!ok) throw corrupt(`bad queue record at pos ${pos}`);
  return q;
}

export function assertAcceptanceRecord(value: unknown, key: number): AcceptanceRecord {
  const a = value as AcceptanceRecord;
  const ok =
    typeof a === 'object' && a !== null && a.n === key && isCount(a.atMs) && Array.isArray(a.ranges) &&
    a.ranges.every((r) => Array.isArray(r) && r.length === 2 && isCount(r[0]) && isCount(r[1]) && r[0] >= 1 && r[0] <= r[1]);
  if (!ok) throw corrupt(`bad acceptance record ${key}`);
  return a;
}

export function assertTerminalRecord(value: unknown, terminal: string): TerminalRecord {
  const t = value as TerminalRecord;
  if (
    typeof t !== 'object' || t === null || t.terminal !== terminal || !Array.isArray(t.keys) || t.keys.length === 0 ||
    typeof t.password !== 'object' || t.password === null || t.password.algo !== 'scrypt' || typeof t.password.hash !== 'string'
  ) {
    throw corrupt(`bad terminal record ${terminal}`);
  }
  return t;
}

export function assertHead(value: unknown, terminal: string): { seq: number; hash: string } {
  const h = value as { seq: number; hash: string };
  if (typeof h !== 'object' || h === null || !isCount(h.seq) || typeof h.hash !== 'string' || (h.seq > 0) !== (h.hash.length > 0)) {
    throw corrupt(`bad head of ${terminal}`);
  }
  return h;
}

/** What an earlier release wrote in the meta records (money as one sum per currency). */
interface LegacyMoneyFields {
  readonly amountStoredByCurrency?: Readonly<Record<string, number>>;
  readonly amountForwardedByCurrency?: Readonly<Record<string, number>>;
}

/**
 * The ingest meta; a record written by an earlier release (one money sum for everything) opens
 * with that sum as `unclassified` money, so it is never shown as takings.
 */
export function assertIngestMeta(value: unknown): IngestMeta {
  if (value === undefined) return EMPTY_INGEST_META;
  const m = value as IngestMeta & LegacyMoneyFields;
  if (typeof m !== 'object' || m === null || !isCount(m.queueHead) || !isCount(m.eventsStored) || !isCount(m.rejectSeq)) {
    throw corrupt('bad ingest meta');
  }
  if (m.money === undefined) {
    return { queueHead: m.queueHead, eventsStored: m.eventsStored, money: legacyMoney(m.eventsStored, m.amountStoredByCurrency), rejectSeq: m.rejectSeq, rejectsByCode: m.rejectsByCode ?? {} };
  }
  if (!isMoneyTotals(m.money)) throw corrupt('bad ingest meta money');
  return m;
}

/**
 * The forward meta, or `EMPTY_FORWARD_META`. A record of an earlier release (no money classes, no
 * acceptance log) opens with its money `unclassified` and `acceptSeq` 0; the store then writes the
 * acceptance record for what the cursor already passed (level-forward-queue.ts `init`).
 */
export function assertForwardMeta(value: unknown): ForwardMeta {
  if (value === undefined) return EMPTY_FORWARD_META;
  const m = value as ForwardMeta & LegacyMoneyFields;
  if (typeof m !== 'object' || m === null || !isCount(m.cursor) || !isCount(m.eventsForwarded) || !isCount(m.deadLetters)) {
    throw corrupt('bad forward meta');
  }
  const money = m.money ?? legacyMoney(m.eventsForwarded, m.amountForwardedByCurrency);
  if (!isMoneyTotals(money)) throw corrupt('bad forward meta money');
  const acceptSeq = m.acceptSeq ?? 0;
  if (!isCount(acceptSeq)) throw corrupt('bad forward meta acceptSeq');
  return { cursor: m.cursor, eventsForwarded: m.eventsForwarded, money, deadLetters: m.deadLetters, acceptSeq };
}

/** True when a forward meta record predates the acceptance log (written by an earlier release). */
export function isLegacyForwardMeta(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { acceptSeq?: unknown }).acceptSeq === undefined;
}
