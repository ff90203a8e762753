/**
 * Stable error codes. Callers and tests match on `code`, never on messages (STYLE 7).
 * The reject codes are part of the wire contract (DESIGN §3.3): never rename one.
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
] as const;

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
