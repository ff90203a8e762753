/**
 * Where the cloud's copy of a terminal's chain ends: `GET {cloud}/v1/stores/{store}/terminals/{terminal}/head`
 * with the gateway's bearer token (the cloud answers it for the token's own store only) →
 * `{"seq","hash"}`. A restored gateway asks it before it trusts its restored heads (resync.ts).
 */
import { z } from 'zod';
import type { ChainHead } from '../../protocol/chain.js';
import { BodyTooLargeError, exchange } from '../forwarder/http-exchange.js';
import { CLOUD_FAILURE_CODES, httpCode } from '../forwarder/cloud-client.js';

/** `{"seq","hash"}` is tiny. */
const MAX_HEAD_RESPONSE_BYTES = 4 * 1024;

const headSchema = z.object({ seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), hash: z.string().max(64) })
  .refine((h) => (h.seq > 0) === (h.hash.length > 0), 'a head has a hash exactly when its seq is above 0');

export type HeadOutcome = { readonly ok: true; readonly head: ChainHead } | { readonly ok: false; readonly code: string };

export interface CloudHeads {
  head(terminal: string): Promise<HeadOutcome>;
}

export class HttpCloudHeads implements CloudHeads {
  readonly #base: string;
  readonly #store: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(options: { cloudUrl: string; store: string; cloudToken: string; timeoutMs: number }) {
    this.#base = options.cloudUrl.replace(/\/+$/, '');
    this.#store = options.store;
    this.#token = options.cloudToken;
    this.#timeoutMs = options.timeoutMs;
  }

  async head(terminal: string): Promise<HeadOutcome> {
    const url = new URL(`${this.#base}/v1/stores/${encodeURIComponent(this.#store)}/terminals/${encodeURIComponent(terminal)}/head`);
    let status: number;
    let text: string;
    try {
      const res = await exchange({
        url, method: 'GET', headers: { authorization: `Bearer ${this.#token}` },
        signal: AbortSignal.timeout(this.#timeoutMs), maxResponseBytes: MAX_HEAD_RESPONSE_BYTES,
      });
      status = res.status;
      text = res.text;
    } catch (err) {
      return { ok: false, code: err instanceof BodyTooLargeError ? CLOUD_FAILURE_CODES.malformed : CLOUD_FAILURE_CODES.network };
    }
    if (status !== 200) return { ok: false, code: httpCode(status) };
    try {
      const parsed = headSchema.safeParse(JSON.parse(text));
      return parsed.success ? { ok: true, head: parsed.data } : { ok: false, code: CLOUD_FAILURE_CODES.malformed };
    } catch {
      return { ok: false, code: CLOUD_FAILURE_CODES.malformed };
    }
  }
}
