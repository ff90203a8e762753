/**
 * How one append places its items, as a pure function both ledgers share (decisions are
 * values): given the locked heads and what storage already holds, it returns each item's outcome,
 * the items to store and the moved heads. The storage-specific code only reads the inputs under
 * its locks and writes the result.
 */
import { chainHash, classifySequence, type ChainHead } from '../protocol/chain.js';
import { TillgateError } from '../protocol/errors.js';
import { LEDGER_ERROR_CODES as E, type AppendItem, type AppendOutcome } from './ledger.js';

/** What storage holds that the rules need, read under the heads' locks. */
export interface AppendLookup {
  /** Stored JWS by `eventKey(terminal, seq)`, for every item at or below its head. */
  readonly stored: ReadonlyMap<string, string>;
  /** `eventKey` of the stored event holding each lower-cased event id the items carry. */
  readonly ids: ReadonlyMap<string, string>;
  /** Revocation points by `keyKey(terminal, kid)`, for revoked keys only. */
  readonly revokedAfter: ReadonlyMap<string, number>;
}

export interface AppendPlan {
  readonly outcomes: AppendOutcome[];
  /** Items to store, in order (their feed positions follow this order). */
  readonly accepted: AppendItem[];
  /** New heads of the terminals that moved. */
  readonly moved: Map<string, ChainHead>;
}

export const eventKey = (terminal: string, seq: number): string => `${terminal}:${seq}`;
export const keyKey = (terminal: string, kid: string): string => `${terminal}:${kid}`;
/** UUIDs compare case-insensitively (RFC 9562 §4): the idempotency key is the lower-cased id. */
export const idKey = (id: string): string => id.toLowerCase();

/** The rules of `Ledger.append` (see ledger.ts), applied item by item; `heads` is not modified. */
export function planAppend(items: readonly AppendItem[], heads: ReadonlyMap<string, ChainHead>, lookup: AppendLookup): AppendPlan {
  const current = new Map(heads);
  const moved = new Map<string, ChainHead>();
  const stored = new Map(lookup.stored);
  const ids = new Map(lookup.ids);
  const outcomes: AppendOutcome[] = [];
  const accepted: AppendItem[] = [];
  for (const item of items) {
    const head = current.get(item.terminal);
    if (head === undefined) throw new TypeError(`no head read for terminal ${item.terminal}`);
    const revokedAfter = lookup.revokedAfter.get(keyKey(item.terminal, item.kid));
    if (revokedAfter !== undefined && item.seq > revokedAfter) {
      outcomes.push({ status: 'rejected', code: 'KEY_REVOKED' });
      continue;
    }
    const verdict = classifySequence(head, item.seq, item.prev);
    const key = eventKey(item.terminal, item.seq);
    if (verdict.kind === 'past') {
      const before = stored.get(key);
      if (before === undefined) corrupt(key);
      outcomes.push(before === item.jws ? { status: 'duplicate' } : { status: 'rejected', code: 'CONFLICT' });
    } else if (verdict.kind === 'gap') {
      outcomes.push({ status: 'rejected', code: 'SEQ_GAP', expected: verdict.expected });
    } else if (verdict.kind === 'bad-chain') {
      outcomes.push({ status: 'rejected', code: 'BAD_CHAIN' });
    } else if (ids.has(idKey(item.event.id))) {
      outcomes.push({ status: 'rejected', code: 'DUPLICATE_ID' });
    } else {
      const next = { seq: item.seq, hash: chainHash(item.jws) };
      current.set(item.terminal, next);
      moved.set(item.terminal, next);
      stored.set(key, item.jws);
      ids.set(idKey(item.event.id), key);
      accepted.push(item);
      outcomes.push({ status: 'accepted' });
    }
  }
  return { outcomes, accepted, moved };
}

function corrupt(key: string): never {
  throw new TillgateError(E.corrupt, `event ${key} is below its terminal's head but missing`);
}
