/**
 * Reads a request body with a hard byte bound (STYLE 9): the declared Content-Length is checked
 * first, and the bytes actually read are counted too, because a chunked body declares nothing and a
 * lying client may send more than it declared.
 */
import { HttpError } from './answers.js';

export async function readBoundedBody(request: Request, maxBytes: number): Promise<Buffer> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (!/^\d{1,16}$/.test(declared)) throw new HttpError(400, 'MALFORMED', 'Content-Length is not a number');
    if (Number(declared) > maxBytes) throw new HttpError(413, 'TOO_LARGE', `body is larger than ${maxBytes} bytes`);
  }
  if (request.body === null) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new HttpError(413, 'TOO_LARGE', `body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** JSON.parse of a body, as a 400 when it is not JSON. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'MALFORMED', 'body is not JSON');
  }
}
