/**
 * What a reject code from the gateway (DESIGN §3.3 `rejects`) means for the event it names. The
 * codes are an OPEN set (DESIGN §3.4): a code this agent does not know is a permanent refusal of
 * that one event, so it is set aside and the chain carries on without it, never resent forever.
 */

export type RefusalAction =
  /** Not now (disk full, key not enrolled yet): keep the event and resend it later. */
  | 'retry-later'
  /** The gateway is missing earlier events: resend from `expected`. */
  | 'rewind'
  /**
   * The seq is taken by another event, or the chain before it differs (a restore from backup, a
   * second device): the event itself is fine, so it moves onto the gateway's head with the rest.
   */
  | 'resequence'
  /** The gateway already holds this payment (its id) at another seq: delivered, not refused. */
  | 'delivered'
  /** The gateway will never take these bytes (card number, schema, signature, an unknown code). */
  | 'set-aside';

const ACTIONS: Readonly<Record<string, RefusalAction>> = {
  STORE_FULL: 'retry-later',
  UNKNOWN_KEY: 'retry-later',
  SEQ_GAP: 'rewind',
  CONFLICT: 'resequence',
  BAD_CHAIN: 'resequence',
  DUPLICATE_ID: 'delivered',
};

/** The action for a reject; a SEQ_GAP without `expected` cannot be rewound, so it re-sequences. */
export function refusalAction(code: string, expected?: number): RefusalAction {
  const action = Object.hasOwn(ACTIONS, code) ? ACTIONS[code]! : 'set-aside';
  return action === 'rewind' && expected === undefined ? 'resequence' : action;
}
