/**
 * Reads a request body with a hard byte bound: the declared Content-Length is checked
 * first, and the bytes actually read are counted too, because a chunked body declares nothing and a
 * lying client may send more than it declared.
 */
import { readBoundedStream } from '../../lib/bounded-read.js';
import { HttpError } from './answers.js';

export async function readBoundedBody(request: Request, maxBytes: number): Promise<Buffer> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (!/^\d{1,16}$/.test(declared)) throw new HttpError(400, 'MALFORMED', 'Content-Length is not a number');
    if (Number(declared) > maxBytes) throw new HttpError(413, 'TOO_LARGE', `body is larger than ${maxBytes} bytes`);
  }
  return readBoundedStream(request.body, maxBytes, () => new HttpError(413, 'TOO_LARGE', `body is larger than ${maxBytes} bytes`));
}

/** JSON.parse of a body, as a 400 when it is not JSON. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'MALFORMED', 'body is not JSON');
  }
}
