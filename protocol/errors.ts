/**
 * Stable error codes. Callers and tests match on `code`, never on messages.
 * The reject codes are part of the wire contract (DESIGN §3.3): never rename one. They are an open
 * set (DESIGN §3.4): these are the codes this version sends; a receiver must accept any code of the
 * form `WIRE_CODE_PATTERN` from a newer peer and treat one it does not know as a permanent
 * rejection of that one event.
 */
export const REJECT_CODES = [
  'SCHEMA',
  'BAD_SIGNATURE',
  'UNKNOWN_KEY',
  'IDENTITY_MISMATCH',
  'BAD_CHAIN',
  'SEQ_GAP',
  'CONFLICT',
  'PAN_DETECTED',
  'TOO_LARGE',
  'STORE_FULL',
  /** The key that signed the event was revoked at the cloud below this seq (DESIGN §3.1). */
  'KEY_REVOKED',
  /** The event's `id` (its idempotency key) is already stored at another seq of the store. */
  'DUPLICATE_ID',
] as const;

/** What any code on the wire looks like, known or not: bounded, so a hostile peer cannot bloat logs. */
export const WIRE_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

export type RejectCode = (typeof REJECT_CODES)[number];

export function isRejectCode(value: unknown): value is RejectCode {
  return typeof value === 'string' && (REJECT_CODES as readonly string[]).includes(value);
}

/** An error with a stable code and an optional cause. */
export class TillgateError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TillgateError';
    this.code = code;
  }
}

/** A verification failure of an event: carries one of the wire reject codes. */
export class RejectError extends TillgateError<RejectCode> {
  /** For `SEQ_GAP`: the seq the receiver expects next. */
  readonly expected: number | undefined;
  constructor(code: RejectCode, message: string, options?: { cause?: unknown; expected?: number }) {
    super(code, message, options);
    this.name = 'RejectError';
    this.expected = options?.expected;
  }
}

/** True when `err` is any error carrying `code`. */
export function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
