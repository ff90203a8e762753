/** Non-200 answers: always `{"error":{"code","message"}}` (protocol errorBodySchema), never a stack. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody } from '../../protocol/ingest-api.js';

/** Stable codes of HTTP answers. The gateway branches on the status, people on the code. */
export const HTTP_ERROR_CODES = {
  malformed: 'MALFORMED',
  unauthorized: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  notFound: 'NOT_FOUND',
  tooLarge: 'TOO_LARGE',
  tooManyEvents: 'TOO_MANY_EVENTS',
  tooManyEnrollments: 'TOO_MANY_ENROLLMENTS',
  busy: 'BUSY',
  unavailable: 'LEDGER_UNAVAILABLE',
  corrupt: 'LEDGER_CORRUPT',
  internal: 'INTERNAL',
  /** A PSP notification item whose HMAC signature does not verify (DESIGN §3.6): nothing stored. */
  badHmac: 'BAD_HMAC',
  tooManyItems: 'TOO_MANY_ITEMS',
  /** The payment lifecycle's storage is unavailable: retry (PSPs resend on any non-2xx). */
  lifecycleUnavailable: 'LIFECYCLE_UNAVAILABLE',
} as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[keyof typeof HTTP_ERROR_CODES];

/** An answer other than 200, thrown by a step and turned into a response by the route. */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: HttpErrorCode;
  constructor(status: ContentfulStatusCode, code: HttpErrorCode, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

export function errorResponse(c: Context, status: ContentfulStatusCode, code: HttpErrorCode, message: string): Response {
  // 429 and 503 mean "retry" (DESIGN §3.4): say when.
  if (status === 429 || status === 503) c.header('Retry-After', '1');
  const body: ErrorBody = { error: { code, message } };
  return c.json(body, status);
}
