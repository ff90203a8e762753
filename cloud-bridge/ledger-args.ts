/**
 * Argument checks every `Ledger` implementation runs before it touches storage (public
 * methods validate). A failure is a programming mistake of the caller, so it is a TypeError thrown
 * synchronously, not a code.
 */
import { isId, isTerminalId } from '../protocol/ids.js';
import { MAX_FEED_READ } from './feed.js';
import { MAX_KEY_LOOKUP, MAX_LEDGER_APPEND, MAX_LEDGER_READ, type AppendItem, type KeyRecord, type KeyRef } from './ledger.js';

const KID = /^[A-Za-z0-9_-]{43}$/;

export function checkStore(store: string): void {
  if (!isId(store)) throw new TypeError('store must be an id (DESIGN §3.1)');
}
export function checkTerminal(terminal: string): void {
  if (!isTerminalId(terminal)) throw new TypeError('terminal must be a terminal id (DESIGN §3.1)');
}
export function checkKid(kid: string): void {
  if (typeof kid !== 'string' || !KID.test(kid)) throw new TypeError('kid must be a base64url SHA-256 thumbprint');
}
export function checkLimit(limit: number, max = MAX_LEDGER_READ): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) throw new TypeError(`limit must be 1..${max}`);
}
export function checkSeqBound(seq: number, name: string): void {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError(`${name} must be an integer >= 0`);
}
export function checkFeedRead(afterPosition: number, limit: number): void {
  checkSeqBound(afterPosition, 'afterPosition');
  checkLimit(limit, MAX_FEED_READ);
}

export function checkKeyRecords(records: readonly KeyRecord[]): void {
  if (records.length > MAX_LEDGER_APPEND) throw new TypeError('too many key records in one call');
  for (const r of records) {
    checkTerminal(r.terminal);
    checkKid(r.kid);
    if (r.publicKey.length !== 32) throw new TypeError('bad key record');
  }
}

export function checkKeyRefs(refs: readonly KeyRef[]): void {
  if (refs.length > MAX_KEY_LOOKUP) throw new TypeError('too many keys in one lookup');
  for (const r of refs) {
    checkTerminal(r.terminal);
    checkKid(r.kid);
  }
}

export function checkAppendItems(items: readonly AppendItem[]): void {
  if (items.length > MAX_LEDGER_APPEND) throw new TypeError('too many items in one append');
  for (const it of items) {
    checkTerminal(it.terminal);
    if (!Number.isSafeInteger(it.seq) || it.seq < 1 || typeof it.prev !== 'string' || typeof it.jws !== 'string') throw new TypeError('bad append item');
    checkKid(it.kid);
    const e = it.event;
    const texts = [e?.id, e?.type, e?.at, e?.currency, e?.outcome, e?.mode, ...(e?.ref === undefined ? [] : [e.ref])];
    if (texts.some((t) => typeof t !== 'string' || t.includes('\u0000')) || !Number.isSafeInteger(e.amount) || !Number.isFinite(Date.parse(e.at))) {
      throw new TypeError('bad append item: event fields (strings without U+0000, an integer amount, a parsable at)');
    }
  }
}

/**
 * Free text as storage can hold it: U+0000 becomes U+FFFD (PostgreSQL text cannot hold U+0000,
 * and one such value must not turn a batch into one that fails on every retry).
 */
export function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\ufffd') : text;
}
