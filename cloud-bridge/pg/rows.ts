/**
 * Read-back checks of what comes out of PostgreSQL: a row is checked like outside input
 * before it is served or compared, and one that fails is LEDGER_CORRUPT (an alarm, never served).
 * bigint columns arrive as strings from node-postgres; they are turned into safe integers here.
 */
import { TillgateError } from '../../protocol/errors.js';
import type { ChainHead } from '../../protocol/chain.js';
import type { FeedEntry } from '../feed.js';
import { LEDGER_ERROR_CODES as E, type KeyView, type LedgerEvent } from '../ledger.js';

const CHAIN_HASH = /^[A-Za-z0-9_-]{43}$/;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function corrupt(what: string): never {
  throw new TillgateError(E.corrupt, `stored ${what} is malformed`);
}

export function int(value: unknown, what: string, min = 0): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) corrupt(what);
  return n;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') corrupt(what);
  return value;
}

function iso(value: unknown, what: string): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) corrupt(what);
  return value.toISOString();
}

export interface HeadRow { terminal: string; seq: string; hash: string }
export function headOf(row: HeadRow, what: string): ChainHead {
  const seq = int(row.seq, `head of ${what}`);
  if (seq === 0 ? row.hash !== '' : !CHAIN_HASH.test(row.hash)) corrupt(`head of ${what}`);
  return { seq, hash: row.hash };
}

export interface EventRow { seq: string; jws: string; received_at: Date }
export function eventOf(row: EventRow, what: string): LedgerEvent {
  const seq = int(row.seq, `event of ${what}`, 1);
  if (typeof row.jws !== 'string' || !COMPACT_JWS.test(row.jws)) corrupt(`event ${seq} of ${what}`);
  return { seq, jws: row.jws, receivedAt: iso(row.received_at, `event ${seq} of ${what}`) };
}

export interface FeedRow extends EventRow {
  position: string; store: string; terminal: string;
  event_id: string; type: string; at: string; amount: string; currency: string; outcome: string; mode: string; ref: string | null;
}
export function feedEntryOf(row: FeedRow): FeedEntry {
  const what = `${String(row.store)}/${String(row.terminal)}`;
  const e = eventOf(row, what);
  const ref = row.ref === null ? undefined : text(row.ref, `ref of ${what}`);
  return {
    position: int(row.position, `position of ${what}`, 1),
    store: text(row.store, 'feed store'),
    terminal: text(row.terminal, 'feed terminal'),
    seq: e.seq,
    jws: e.jws,
    receivedAt: e.receivedAt,
    event: {
      id: text(row.event_id, `id of ${what}`),
      type: text(row.type, `type of ${what}`),
      at: text(row.at, `at of ${what}`),
      amount: int(row.amount, `amount of ${what}`, 1),
      currency: text(row.currency, `currency of ${what}`),
      outcome: text(row.outcome, `outcome of ${what}`),
      mode: text(row.mode, `mode of ${what}`),
      ...(ref === undefined ? {} : { ref }),
    },
  };
}

export interface KeyRow { terminal: string; kid: string; public_key: Buffer; enrolled_at: string; revoked_after_seq: string | null; revoked_at: Date | null }
export function publicKeyOf(value: unknown, what: string): Buffer {
  if (!Buffer.isBuffer(value) || value.length !== 32) corrupt(`key of ${what}`);
  return value;
}
export function revokedAfterOf(value: unknown, what: string): number | null {
  return value === null ? null : int(value, `revocation point of ${what}`);
}
export function keyViewOf(row: KeyRow): KeyView {
  const what = `${String(row.terminal)}/${String(row.kid)}`;
  return {
    terminal: text(row.terminal, 'key terminal'),
    kid: text(row.kid, 'key kid'),
    publicKey: publicKeyOf(row.public_key, what).toString('base64url'),
    enrolledAt: text(row.enrolled_at, `enrollment time of ${what}`),
    revokedAfterSeq: revokedAfterOf(row.revoked_after_seq, what),
    revokedAt: row.revoked_at === null ? null : iso(row.revoked_at, `revocation time of ${what}`),
  };
}
