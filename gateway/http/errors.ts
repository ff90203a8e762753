/** The error body of every non-2xx answer: a stable code and a human message (protocol ErrorBody). */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { ErrorBody } from '../../protocol/ingest-api.js';

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * Reads a small admin JSON body and validates it: `{ data }`, or `{ response }` — a 400
 * `BAD_REQUEST` that says what the body must be. An empty body reads as `{}` (all fields optional).
 * Size is bounded by the route's bodyLimit before this runs.
 */
export async function readJsonBody<T>(
  c: Context,
  schema: z.ZodType<T>,
  expected: string,
): Promise<{ readonly data: T; readonly response?: undefined } | { readonly response: Response }> {
  let body: unknown;
  try {
    const text = await c.req.text();
    body = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    return { response: c.json(errorBody('BAD_REQUEST', 'body is not JSON'), 400) };
  }
  const parsed = schema.safeParse(body);
  return parsed.success ? { data: parsed.data } : { response: c.json(errorBody('BAD_REQUEST', `body must be ${expected}`), 400) };
}
