/**
 * How a simulated terminal talks to the PSP (protocol/psp-api.ts): an online payment is authorised
 * first, under the event id it is then recorded with (merchantReference, DESIGN §3.6), and carries
 * the PSP's reference as `ref`. A payment approved offline (the terminal could not reach anyone) is
 * authorised later, once the terminal is online again — as real terminals submit their offline
 * approvals — so the PSP's notification eventually arrives for it too.
 */
import { authoriseResponseSchema, MAX_PSP_RESPONSE_BYTES } from '../../protocol/psp-api.js';
import { cryptoRandom, uuidv7 } from '../../protocol/uuid.js';
import type { TransactionInput } from '../recorder.js';

/** An authorise call may take this long; a slower PSP counts as unreachable (record offline). */
export const PSP_AUTHORISE_TIMEOUT_MS = 5_000;
/** Offline approvals waiting to be authorised; beyond it the oldest are dropped (a simulator only). */
export const MAX_DEFERRED_AUTHORISATIONS = 1_000;

interface Deferred {
  readonly id: string;
  readonly amount: number;
  readonly currency: string;
}

export class SimPspAuthoriser {
  readonly #deferred: Deferred[] = [];
  failures = 0;

  constructor(
    private readonly pspUrl: string,
    private readonly store: string,
    private readonly terminal: string,
  ) {}

  /** The transaction with the id and PSP reference of a successful authorisation, or null (PSP down). */
  async authorise(tx: TransactionInput, nowMs: number): Promise<TransactionInput | null> {
    const id = uuidv7(nowMs, cryptoRandom);
    const pspReference = await this.#call(id, tx.amount, tx.currency);
    return pspReference === null ? null : { ...tx, id, ref: pspReference };
  }

  /** Remembers an offline approval, to authorise when the terminal is online again. */
  defer(id: string, tx: Pick<TransactionInput, 'amount' | 'currency'>): void {
    this.#deferred.push({ id, amount: tx.amount, currency: tx.currency });
    if (this.#deferred.length > MAX_DEFERRED_AUTHORISATIONS) this.#deferred.shift();
  }

  /** Authorises what waited, oldest first, until one fails. */
  async flush(): Promise<void> {
    while (this.#deferred.length > 0) {
      const d = this.#deferred[0] as Deferred;
      if ((await this.#call(d.id, d.amount, d.currency)) === null) return;
      this.#deferred.shift();
    }
  }

  get waiting(): number {
    return this.#deferred.length;
  }

  async #call(merchantReference: string, value: number, currency: string): Promise<string | null> {
    try {
      const res = await fetch(new URL('/v1/authorise', this.pspUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ merchantReference, amount: { value, currency }, store: this.store, terminal: this.terminal }),
        signal: AbortSignal.timeout(PSP_AUTHORISE_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.status !== 200 || text.length > MAX_PSP_RESPONSE_BYTES) throw new Error(`PSP answered ${res.status}`);
      return authoriseResponseSchema.parse(JSON.parse(text)).pspReference;
    } catch {
      this.failures++;
      return null;
    }
  }
}
