/**
 * The PSP's status API, as the reconciliation job sees it (a network edge is an
 * interface): `status(merchantReference)` → what the PSP says about the payment. The production
 * client speaks `GET {pspUrl}/v1/payments/{merchantReference}` (protocol/psp-api.ts); tests hand
 * in a fake.
 */
import { readBoundedStream } from '../../lib/bounded-read.js';
import { TillgateError } from '../../protocol/errors.js';
import { MAX_PSP_RESPONSE_BYTES, pspPaymentStatusSchema, type PspPaymentStatus } from '../../protocol/psp-api.js';

export interface PspClient {
  /** `status: 'unknown'` when the PSP does not know the payment; rejects with PSP_UNAVAILABLE. */
  status(merchantReference: string): Promise<PspPaymentStatus>;
}

export const PSP_UNAVAILABLE = 'PSP_UNAVAILABLE';

export interface HttpPspClientOptions {
  readonly baseUrl: string;
  /** One status query may take this long before it counts as failed (the next run asks again). */
  readonly timeoutMs: number;
}

export class HttpPspClient implements PspClient {
  readonly #base: URL;
  readonly #timeoutMs: number;

  constructor(options: HttpPspClientOptions) {
    this.#base = new URL(options.baseUrl);
    this.#timeoutMs = options.timeoutMs;
  }

  async status(merchantReference: string): Promise<PspPaymentStatus> {
    const url = new URL(`v1/payments/${encodeURIComponent(merchantReference)}`, this.#base.href.endsWith('/') ? this.#base : `${this.#base.href}/`);
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.#timeoutMs), headers: { accept: 'application/json' } });
    } catch (cause) {
      throw new TillgateError(PSP_UNAVAILABLE, 'the PSP status API did not answer', { cause });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return { merchantReference, pspReference: null, status: 'unknown' };
    }
    const text = await readBounded(res);
    if (res.status !== 200) throw new TillgateError(PSP_UNAVAILABLE, `the PSP status API answered ${res.status}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new TillgateError(PSP_UNAVAILABLE, 'the PSP status API answered something that is not JSON', { cause });
    }
    const parsed = pspPaymentStatusSchema.safeParse(json);
    if (!parsed.success || parsed.data.merchantReference.toLowerCase() !== merchantReference.toLowerCase()) {
      throw new TillgateError(PSP_UNAVAILABLE, 'the PSP status API answered an unexpected body');
    }
    return parsed.data;
  }
}

async function readBounded(res: Response): Promise<string> {
  const tooLarge = () => new TillgateError(PSP_UNAVAILABLE, `the PSP status API answered more than ${MAX_PSP_RESPONSE_BYTES} bytes`);
  return (await readBoundedStream(res.body, MAX_PSP_RESPONSE_BYTES, tooLarge)).toString('utf8');
}
