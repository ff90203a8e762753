/**
 * Codes and states in words a field technician understands, with the code kept in brackets for
 * the support call. Unknown codes are shown as they are.
 */

const FORWARDER_STATE_WORDS: Readonly<Record<string, string>> = {
  created: 'starting',
  idle: 'nothing to send',
  sending: 'sending',
  backoff: 'waiting to retry',
  closing: 'stopping',
  closed: 'stopped',
  'not running': 'off — no cloud configured',
};

/** The forwarder's lifecycle state in words. */
export function forwarderStateWords(state: string): string {
  return FORWARDER_STATE_WORDS[state] ?? state;
}

/** Failure codes of a forward request (gateway/forwarder/cloud-client.ts) in words. */
const CLOUD_ERROR_WORDS: Readonly<Record<string, string>> = {
  NETWORK: 'cannot reach the cloud',
  TIMEOUT: 'the cloud did not answer in time',
  LINK_CUT: 'link switched off by an admin (outage test)',
  MALFORMED_RESPONSE: 'the cloud sent a broken answer',
  ABORTED: 'request stopped',
  HTTP_401: "the cloud refused this gateway's token",
  HTTP_403: "the cloud refused this gateway's token",
  HTTP_413: 'batch too large for the cloud; sending smaller ones',
  HTTP_429: 'the cloud asked us to slow down',
};

/** `"cannot reach the cloud (NETWORK)"`, `"the cloud had an error (HTTP_503)"`. */
export function cloudErrorWords(code: string): string {
  const words = CLOUD_ERROR_WORDS[code] ?? (/^HTTP_5\d\d$/.test(code) ? 'the cloud had an error' : null);
  return words === null ? code : `${words} (${code})`;
}

/** Which offline limit a refusal broke (terminal-agent/limits.ts codes); unknown codes as they are. */
const OFFLINE_REFUSAL_WORDS: Readonly<Record<string, string>> = {
  OFFLINE_LIMIT_AMOUNT: 'amount of one payment',
  OFFLINE_LIMIT_TOTAL: 'total held on the till',
  OFFLINE_LIMIT_COUNT: 'number held on the till',
  OFFLINE_LIMIT_AGE: 'oldest held too long',
};

/** `"amount of one payment ×2, total held on the till ×1"`, most frequent first. */
export function offlineRefusalWords(byCode: Readonly<Record<string, number>>): string {
  const entries = Object.entries(byCode).filter(([, n]) => n > 0).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  return entries.length === 0 ? 'limit not named' : entries.map(([code, n]) => `${OFFLINE_REFUSAL_WORDS[code] ?? code} ×${n}`).join(', ');
}

/** What each reject code (DESIGN §3.3, an open set) means, for the page's alarm details. */
const REJECT_WORDS: Readonly<Record<string, string>> = {
  SCHEMA: 'not a well-formed transaction',
  BAD_SIGNATURE: "the signature does not match the till's key",
  UNKNOWN_KEY: 'signed with a key not enrolled for this till',
  IDENTITY_MISMATCH: 'names another store or till',
  BAD_CHAIN: 'does not follow on from the previous transaction',
  SEQ_GAP: 'transactions before it are missing; the till sends them again',
  CONFLICT: 'a different transaction is already stored under this number',
  PAN_DETECTED: 'contains what looks like a full card number',
  TOO_LARGE: 'too large',
  STORE_FULL: 'the gateway was full; the till keeps it',
  KEY_REVOKED: 'signed with a revoked key',
  DUPLICATE_ID: 'this payment is already stored under another number',
};

/** `"the signature does not match the till's key (BAD_SIGNATURE)"`; an unknown code as it is. */
export function rejectWords(code: string): string {
  const words = REJECT_WORDS[code];
  return words === undefined ? code : `${words} (${code})`;
}

/** A storage problem (gateway/integrity.ts) in plain words, from its code and facts. */
export function integrityWords(p: { readonly code: string; readonly message: string; readonly terminal?: string; readonly seqs?: { readonly from: number; readonly through: number } }): string {
  const range = p.seqs === undefined ? '' : p.seqs.from === p.seqs.through ? ` no. ${p.seqs.from}` : ` no. ${p.seqs.from}–${p.seqs.through}`;
  const who = p.terminal === undefined ? '' : `terminal ${p.terminal}'s`;
  switch (p.code) {
    case 'EVENTS_MISSING':
      return `${who || 'some'} transactions${range} are missing on this gateway`;
    case 'EVENTS_REPLACED':
      return `${who || 'some'} transactions${range} were lost here and the till went on with different ones`;
    case 'LOG_DAMAGED':
      return "part of the gateway's write-ahead log was damaged";
    case 'QUEUE_ENTRIES_MISSING':
      return 'part of the list of transactions to send is missing';
    case 'CHAIN_BROKEN':
      return `${who || 'a till\'s'} stored transactions do not link up`;
    case 'STORE_CORRUPT':
      return 'the stored data is damaged';
    default:
      return p.message;
  }
}

/** Why the internet link is not online (gateway/wan), in words; unknown codes as they are. */
export function wanReasonWords(reason: string): string {
  switch (reason) {
    case 'NOT_PROBED':
      return 'not checked yet';
    case 'SLOW':
      return 'answers are slow';
    default:
      return cloudErrorWords(reason);
  }
}
