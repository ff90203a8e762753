/**
 * The ingest request body (DESIGN §3.4) serialized straight into one Buffer, byte for byte what
 * `JSON.stringify(request)` gives, without building the ~1 MB string of a full batch first. Issue
 * 4 (RSS < 150 MB during a drain): each batch's body string was a large V8 object that lived until
 * the next full GC, and fetch encoded it into another 1 MB buffer; several batches of both piled up.
 * The buffer is reused from batch to batch while no request still holds it.
 */
import type { IngestRequest } from '../../protocol/ingest-api.js';

/** A reusable body buffer; `take` hands out a slice, `release` gives the buffer back. */
export class IngestBodyWriter {
  #spare: Buffer | null = null;

  /** Serializes `request`; the returned Buffer is the caller's until it calls `release` with it. */
  take(request: IngestRequest): Buffer {
    // Same key order as the IngestRequest literal of request-builder.ts, so the bytes equal JSON.stringify.
    const { events, ...head } = request;
    const headJson = JSON.stringify(head);
    const prefix = `${headJson.slice(0, -1)},"events":[`;
    const items = events.map((jws) => JSON.stringify(jws));
    let bytes = Buffer.byteLength(prefix) + 2 + Math.max(0, items.length - 1);
    for (const item of items) bytes += Buffer.byteLength(item);
    const spare = this.#spare;
    this.#spare = null;
    const buf = spare !== null && spare.length >= bytes ? spare : Buffer.allocUnsafeSlow(bytes);
    let at = buf.write(prefix, 0);
    items.forEach((item, i) => {
      if (i > 0) at += buf.write(',', at);
      at += buf.write(item, at);
    });
    at += buf.write(']}', at);
    return buf.subarray(0, at);
  }

  /** The request is finished with `body` (its socket closed or went back to the pool). */
  release(body: Buffer): void {
    const whole = Buffer.from(body.buffer, body.byteOffset, body.buffer.byteLength - body.byteOffset);
    if (this.#spare === null || whole.length > this.#spare.length) this.#spare = whole;
  }
}
