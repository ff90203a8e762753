/**
 * One HTTP exchange with the cloud on node:http(s): the request body is a Buffer written to the
 * socket as is, the answer is read with a byte bound. The target (RSS < 150 MB during a drain): fetch
 * (undici) copies a Buffer body into a new buffer per request (the fetch spec's "copy of the
 * bytes"), and its per-request objects outlived the batch; a 1 MB copy per batch piled up until a
 * full GC. Connections are kept alive by Node's global agent (keep-alive on in Node 20).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ExchangeRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly signal: AbortSignal;
  readonly maxResponseBytes: number;
}

export interface ExchangeResponse {
  readonly status: number;
  readonly text: string;
}

/** The answer was bigger than `maxResponseBytes` (a hostile or broken peer cannot grow us). */
export class BodyTooLargeError extends Error {}

/**
 * Sends the request and reads the whole answer. Rejects on network errors, on abort (the error of
 * the signal's abort) and with BodyTooLargeError. `onClosed` runs once the request no longer uses
 * `body` (its socket closed or went back to the agent).
 */
export function exchange(req: ExchangeRequest, onClosed: () => void = () => undefined): Promise<ExchangeResponse> {
  const send = req.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers = req.body === undefined ? req.headers : { ...req.headers, 'content-length': String(req.body.length) };
  return new Promise<ExchangeResponse>((resolve, reject) => {
    const out = send(req.url, { method: req.method, headers, signal: req.signal }, (res) => {
      readBounded(res, req.maxResponseBytes).then((text) => resolve({ status: res.statusCode ?? 0, text }), (err: unknown) => {
        res.destroy();
        reject(err);
      });
    });
    out.once('close', onClosed);
    out.once('error', reject);
    out.end(req.body);
  });
}

async function readBounded(res: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(res.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
