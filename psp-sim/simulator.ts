/**
 * The simulated PSP's behaviour, without HTTP: `authorise` decides each payment's truth and
 * schedules its AUTHORISATION notification (signed with the merchant's HMAC key, delayed on the
 * seed's distribution, sometimes twice); `status` answers the status API from the truth; `truth`
 * pages through what was decided, in order. Clock, randomness and delivery are injected.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Clock } from '../lib/clock.js';
import { TillgateError } from '../protocol/errors.js';
import { notificationRequestItemSchema, signAdyenItem, type NotificationRequestItem } from '../protocol/adyen.js';
import type { AuthoriseRequest, AuthoriseResponse, PspPaymentStatus } from '../protocol/psp-api.js';
import type { Deliverer } from './deliverer.js';
import type { PspSimOptions } from './options.js';
import { pspReferenceOf, sampleDelayS, sampleOutcome, type TruthRecord } from './truth.js';

/** A duplicate arrives up to this long after the first delivery (seconds, before timeScale). */
const DUPLICATE_SPREAD_S = 60;

export const PSP_SIM_ERROR_CODES = {
  busy: 'BUSY',
  conflict: 'CONFLICT',
} as const;

export interface PspSimStats {
  readonly payments: number;
  readonly authorised: number;
  readonly refused: number;
  readonly never: number;
  readonly duplicates: number;
}

export class PspSimulator {
  readonly #o: PspSimOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #deliverer: Deliverer;
  readonly #byReference = new Map<string, { record: TruthRecord; n: number }>();
  #records: TruthRecord[] = [];
  /** Sequence number of #records[0]. */
  #first = 1;
  readonly #counts = { authorised: 0, refused: 0, never: 0, duplicates: 0 };
  readonly #truthFile: WriteStream | null;
  #urls: readonly string[];

  constructor(o: PspSimOptions, clock: Clock, random: () => number, deliverer: Deliverer) {
    this.#o = o;
    this.#urls = o.webhookUrl;
    this.#clock = clock;
    this.#random = random;
    this.#deliverer = deliverer;
    this.#truthFile = o.truthFile === undefined ? null : createWriteStream(o.truthFile, { flags: 'a', mode: 0o600 });
  }

  /** The terminal shows success on this answer; what the PSP really does follows (the truth). */
  authorise(req: AuthoriseRequest): AuthoriseResponse {
    const reference = req.merchantReference.toLowerCase();
    const known = this.#byReference.get(reference);
    if (known !== undefined) {
      // A terminal's retry: the same answer, nothing new.
      if (known.record.amount !== req.amount.value || known.record.currency !== req.amount.currency) {
        throw new TillgateError(PSP_SIM_ERROR_CODES.conflict, 'this merchantReference was authorised with another amount');
      }
      return { pspReference: known.record.pspReference, resultCode: 'Authorised' };
    }
    const outcome = sampleOutcome(this.#random, this.#o);
    const pspReference = pspReferenceOf(this.#random);
    const delayMs = outcome === 'never' ? null : sampleDelayS(this.#random, this.#o) * 1000;
    const deliveries = outcome === 'never' ? 0 : this.#random() < this.#o.duplicateRate ? 2 : 1;
    if (!this.#deliverer.hasRoom(deliveries * this.#urls.length)) {
      throw new TillgateError(PSP_SIM_ERROR_CODES.busy, 'too many notifications waiting for delivery; retry');
    }
    const now = this.#clock.now();
    const record: TruthRecord = {
      merchantReference: reference, pspReference, amount: req.amount.value, currency: req.amount.currency,
      store: req.store ?? null, terminal: req.terminal ?? null, outcome, authorisedAtMs: now, notifyDelayMs: delayMs, deliveries,
    };
    this.#remember(record);
    this.#counts[outcome]++;
    if (deliveries === 2) this.#counts.duplicates++;
    if (delayMs !== null) {
      const item = this.#item(record, now + delayMs);
      const firstDue = now + delayMs / this.#o.timeScale;
      for (const url of this.#urls) {
        this.#deliverer.schedule(url, item, firstDue);
        if (deliveries === 2) this.#deliverer.schedule(url, item, firstDue + (this.#random() * DUPLICATE_SPREAD_S * 1000) / this.#o.timeScale);
      }
    }
    this.#truthFile?.write(`${JSON.stringify(record)}\n`);
    return { pspReference, resultCode: 'Authorised' };
  }

  /**
   * Where later notifications go (a program that embeds the simulator may learn the cloud's URL
   * only after starting it). Notifications already scheduled keep their URL.
   */
  setWebhookUrls(urls: readonly string[]): void {
    this.#urls = Object.freeze([...urls]);
  }

  /** The status API: the PSP's truth, at once (its notifications may still be on their way). */
  status(merchantReference: string): PspPaymentStatus | undefined {
    const known = this.#byReference.get(merchantReference.toLowerCase());
    if (known === undefined || known.record.outcome === 'never') return undefined;
    return { merchantReference: known.record.merchantReference, pspReference: known.record.pspReference, status: known.record.outcome };
  }

  /** Truth records with sequence number > after, in order; `next` to continue. */
  truth(after: number, limit: number): { records: TruthRecord[]; next: number } {
    const start = Math.max(0, after + 1 - this.#first);
    const records = this.#records.slice(start, start + limit);
    return { records, next: records.length === 0 ? after : this.#first + start + records.length - 1 };
  }

  stats(): PspSimStats {
    return { payments: this.#byReference.size, ...this.#counts };
  }

  async close(): Promise<void> {
    const file = this.#truthFile;
    if (file !== null) await new Promise<void>((resolve) => file.end(() => resolve()));
  }

  #item(r: TruthRecord, eventAtMs: number): NotificationRequestItem {
    const item = notificationRequestItemSchema.parse({
      eventCode: 'AUTHORISATION',
      success: r.outcome === 'authorised' ? 'true' : 'false',
      pspReference: r.pspReference,
      merchantAccountCode: this.#o.merchantAccount,
      merchantReference: r.merchantReference,
      amount: { value: r.amount, currency: r.currency },
      eventDate: new Date(eventAtMs).toISOString(),
      paymentMethod: 'visa',
      ...(r.outcome === 'refused' ? { reason: 'Refused' } : {}),
    });
    return { ...item, additionalData: { hmacSignature: signAdyenItem(item, this.#o.hmacKey) } };
  }

  #remember(record: TruthRecord): void {
    this.#records.push(record);
    this.#byReference.set(record.merchantReference, { record, n: this.#first + this.#records.length - 1 });
    // Bounded: the oldest payments are forgotten first.
    while (this.#byReference.size > this.#o.maxPayments) {
      const oldest = this.#records[0] as TruthRecord;
      this.#byReference.delete(oldest.merchantReference);
      this.#records.shift();
      this.#first++;
    }
  }
}
