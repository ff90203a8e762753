/** The error body of every non-2xx answer: a stable code and a human message (protocol ErrorBody). */
import type { ErrorBody } from '../../protocol/ingest-api.js';

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
