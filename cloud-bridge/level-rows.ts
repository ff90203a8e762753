/**
 * What the LevelDB ledger stores, and the read-back checks of what comes out of it: a
 * value is checked like outside input before it is served or compared; one that fails is
 * LEDGER_CORRUPT (an alarm, never served).
 */
import { TillgateError } from '../protocol/errors.js';
import type { ChainHead } from '../protocol/chain.js';
import * as b64 from '../protocol/base64url.js';
import type { FeedEntry, FeedEventFields } from './feed.js';
import { LEDGER_ERROR_CODES as E, type KeyView, type LedgerEvent } from './ledger.js';

const CHAIN_HASH = /^[A-Za-z0-9_-]{43}$/;

export interface StoredKey { publicKey: string; at: string; revokedAfterSeq?: number; revokedAt?: string }
export interface StoredHead { seq: number; hash: string }
/** `position`, `kid` and `event` are absent on events stored before the feed existed. */
export interface StoredEvent { seq: number; jws: string; receivedAt: string; position?: number; kid?: string; event?: FeedEventFields }

export function checkHead(value: StoredHead, what: string): ChainHead {
  if (!Number.isSafeInteger(value?.seq) || value.seq < 1 || typeof value.hash !== 'string' || !CHAIN_HASH.test(value.hash)) {
    throw new TillgateError(E.corrupt, `stored head of ${what} is malformed`);
  }
  return { seq: value.seq, hash: value.hash };
}
export function checkEvent(value: StoredEvent, seqFromKey: number): LedgerEvent {
  if (value?.seq !== seqFromKey || typeof value.jws !== 'string' || typeof value.receivedAt !== 'string') {
    throw new TillgateError(E.corrupt, `stored event ${seqFromKey} is malformed`);
  }
  return { seq: value.seq, jws: value.jws, receivedAt: value.receivedAt };
}
export function checkPublicKey(stored: StoredKey, what: string): Buffer {
  const raw = typeof stored?.publicKey === 'string' ? b64.decode(stored.publicKey) : undefined;
  if (raw === undefined || raw.length !== 32) throw new TillgateError(E.corrupt, `stored key of ${what} is malformed`);
  return raw;
}
export function checkRevokedAfter(stored: StoredKey, what: string): number | null {
  const point = stored.revokedAfterSeq;
  if (point === undefined) return null;
  if (!Number.isSafeInteger(point) || point < 0) throw new TillgateError(E.corrupt, `stored revocation of ${what} is malformed`);
  return point;
}
export function keyView(terminal: string, kid: string, stored: StoredKey): KeyView {
  const what = `${terminal}/${kid}`;
  const publicKey = checkPublicKey(stored, what);
  return {
    terminal,
    kid,
    publicKey: b64.encode(publicKey),
    enrolledAt: stored.at,
    revokedAfterSeq: checkRevokedAfter(stored, what),
    revokedAt: stored.revokedAt ?? null,
  };
}
export function feedEntry(key: string, position: number, value: StoredEvent | undefined): FeedEntry {
  const [store, terminal, seqText] = key.split(':') as [string, string, string];
  const seq = Number(seqText);
  if (value === undefined || value.position !== position || value.event === undefined) {
    throw new TillgateError(E.corrupt, `feed entry ${position} points at a missing or mismatched event`);
  }
  const e = checkEvent(value, seq);
  return { position, store, terminal, seq, jws: e.jws, receivedAt: e.receivedAt, event: value.event };
}
