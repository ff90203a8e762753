/**
 * The production CloudClient: `POST {cloud}/v1/ingest` and `GET {cloud}/healthz` on node:http(s)
 * (http-exchange.ts), the body serialized once into a reused Buffer (ingest-body.ts).
 * Every answer is read with a byte bound and a timeout, and a 200 is trusted only after the zod
 * schema and the result count check pass: a malformed 200 is a retryable fault, never a cursor
 * advance (DESIGN §3.4).
 */
import { receivedIngestResponseSchema, type IngestRequest } from '../../protocol/ingest-api.js';
import type { Clock } from '../../lib/clock.js';
import { CLOUD_FAILURE_CODES, httpCode, type CloudClient, type IngestOutcome, type ProbeOutcome } from './cloud-client.js';
import { BodyTooLargeError, exchange } from './http-exchange.js';
import { IngestBodyWriter } from './ingest-body.js';

/** A health answer is tiny; anything bigger is not our cloud. */
const MAX_PROBE_RESPONSE_BYTES = 64 * 1024;

export interface HttpCloudClientOptions {
  /** e.g. `http://127.0.0.1:8090` (no trailing slash needed). */
  readonly cloudUrl: string;
  /** The gateway's bearer token; never logged. */
  readonly cloudToken: string;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

export class HttpCloudClient implements CloudClient {
  readonly #ingestUrl: URL;
  readonly #healthUrl: URL;
  readonly #body = new IngestBodyWriter();
  readonly #options: HttpCloudClientOptions;
  readonly #clock: Clock;

  constructor(options: HttpCloudClientOptions, clock: Clock) {
    const base = options.cloudUrl.replace(/\/+$/, '');
    this.#ingestUrl = new URL(`${base}/v1/ingest`);
    this.#healthUrl = new URL(`${base}/healthz`);
    this.#options = options;
    this.#clock = clock;
  }

  async ingest(request: IngestRequest, signal?: AbortSignal): Promise<IngestOutcome> {
    const started = this.#clock.monotonicMs();
    const elapsed = () => Math.round(this.#clock.monotonicMs() - started);
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    let status: number;
    let text: string;
    const body = this.#body.take(request);
    try {
      const res = await exchange(
        {
          url: this.#ingestUrl,
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#options.cloudToken}` },
          body,
          signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
          maxResponseBytes: this.#options.maxResponseBytes,
        },
        () => this.#body.release(body),
      );
      status = res.status;
      text = res.text;
    } catch (err) {
      return { kind: 'retry', code: failureCode(err, timeout, signal), status: null, latencyMs: elapsed() };
    }
    if (status === 200) {
      const parsed = parseResults(text, request.events.length);
      if (parsed === undefined) return { kind: 'retry', code: CLOUD_FAILURE_CODES.malformed, status, latencyMs: elapsed() };
      return { kind: 'ok', results: parsed, latencyMs: elapsed() };
    }
    if (status === 413) return { kind: 'too-large', code: 'HTTP_413', latencyMs: elapsed() };
    if (status === 400) return { kind: 'bad-request', code: httpCode(status), latencyMs: elapsed() };
    if (status === 401 || status === 403) return { kind: 'auth', code: httpCode(status), status, latencyMs: elapsed() };
    // 429, 5xx and anything unexpected (a proxy's 404 page, a redirect): retry with backoff.
    return { kind: 'retry', code: httpCode(status), status, latencyMs: elapsed() };
  }

  async probe(timeoutMs: number): Promise<ProbeOutcome> {
    const started = this.#clock.monotonicMs();
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const res = await exchange({ url: this.#healthUrl, method: 'GET', headers: {}, signal: timeout, maxResponseBytes: MAX_PROBE_RESPONSE_BYTES });
      const rttMs = Math.round(this.#clock.monotonicMs() - started);
      return res.status === 200 ? { ok: true, rttMs } : { ok: false, code: httpCode(res.status), rttMs };
    } catch (err) {
      return { ok: false, code: failureCode(err, timeout, undefined), rttMs: null };
    }
  }
}

function parseResults(text: string, eventCount: number) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Open statuses and codes (DESIGN §3.4): a value this gateway does not know is settle.ts's business.
  const parsed = receivedIngestResponseSchema.safeParse(json);
  // One result per event, in order (DESIGN §3.4): anything else cannot be matched to our entries.
  if (!parsed.success || parsed.data.results.length !== eventCount) return undefined;
  return parsed.data.results;
}

function failureCode(err: unknown, timeout: AbortSignal, caller: AbortSignal | undefined): string {
  if (err instanceof BodyTooLargeError) return CLOUD_FAILURE_CODES.malformed;
  if (timeout.aborted) return CLOUD_FAILURE_CODES.timeout;
  if (caller?.aborted === true) return CLOUD_FAILURE_CODES.aborted;
  return CLOUD_FAILURE_CODES.network;
}
