/**
 * Stable error codes of the terminal agent. The payment app shows `code` to the cashier,
 * so these are part of the agent's API: never rename one.
 */
export const AGENT_ERROR_CODES = {
  /** Offline approval refused: the single transaction is above `maxOfflineTxAmountMinor`. */
  OFFLINE_LIMIT_AMOUNT: 'OFFLINE_LIMIT_AMOUNT',
  /** Offline approval refused: unacknowledged approved amount would pass `maxUnackedAmountMinor`. */
  OFFLINE_LIMIT_TOTAL: 'OFFLINE_LIMIT_TOTAL',
  /** Offline approval refused: unacknowledged approved count would pass `maxUnackedCount`. */
  OFFLINE_LIMIT_COUNT: 'OFFLINE_LIMIT_COUNT',
  /** Offline approval refused: the oldest unacknowledged event is older than `maxUnackedAgeS`. */
  OFFLINE_LIMIT_AGE: 'OFFLINE_LIMIT_AGE',
  /** The outbox holds `maxOutboxEvents` (pending and set aside): nothing more can be kept safely on this device. */
  OUTBOX_FULL: 'OUTBOX_FULL',
  /** The outbox has never learned the gateway's chain head (fresh or wiped device): connect once. */
  NOT_SYNCED: 'NOT_SYNCED',
  /** The transaction does not match the event schema (or carries a card number). */
  BAD_TRANSACTION: 'BAD_TRANSACTION',
  /** The `Idempotency-Key` is empty, longer than 128 characters, or outside `[A-Za-z0-9._:-]`. */
  BAD_IDEMPOTENCY_KEY: 'BAD_IDEMPOTENCY_KEY',
  /** The key was already used for a different payment (type, amount or currency differ): nothing recorded. */
  IDEMPOTENCY_MISMATCH: 'IDEMPOTENCY_MISMATCH',
  /**
   * Not recorded: the terminal found its chain out of step with the gateway's (restored from a
   * backup, or an event refused for good) and is moving its unsent payments onto the gateway's
   * head. Retry in a moment (HTTP 503).
   */
  RESYNCING: 'RESYNCING',
  /**
   * Not recorded: the gateway keeps refusing this terminal's events, or lost events it had
   * acknowledged. Nothing recorded now would be delivered: take the payment another way (HTTP 503).
   */
  CHAIN_BLOCKED: 'CHAIN_BLOCKED',
  /**
   * A retry of a payment the gateway refused for good (e.g. PAN_DETECTED): it is kept on the
   * terminal, set aside for an operator, and will not be delivered (HTTP 422).
   */
  SET_ASIDE: 'SET_ASIDE',
  /** The outbox is not open (closed, or never opened). */
  OUTBOX_CLOSED: 'OUTBOX_CLOSED',
  /** An append broke the outbox's order (seq must be head + 1; a key is stored once): a bug, never bad input. */
  OUTBOX_SEQUENCE: 'OUTBOX_SEQUENCE',
  /** The outbox storage failed (disk error): the event was NOT recorded. */
  OUTBOX_IO: 'OUTBOX_IO',
  /** The agent is stopped or stopping. */
  AGENT_STOPPED: 'AGENT_STOPPED',
  /** Enrollment at the gateway failed (HTTP status or network): see `cause`. */
  ENROLL_FAILED: 'ENROLL_FAILED',
  /** The terminal directory is missing, unreadable or inconsistent. */
  TERMINAL_DIR: 'TERMINAL_DIR',
} as const;

export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[keyof typeof AGENT_ERROR_CODES];
