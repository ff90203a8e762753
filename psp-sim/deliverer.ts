/**
 * Delivers the simulated PSP's notifications when they are due, Adyen's way: signed items in
 * `{"live","notificationItems"}` bodies, a success only when the answer is 200 `[accepted]`, and
 * retries with growing pauses (Adyen: 2, 5, 10, 15, 30 min, 1, 2, 4, 8 h), divided by `timeScale`.
 * Items due together go out up to `batchMaxItems` per request, shuffled: reordering on top of the
 * random delays. Time is the injected clock; `deliverDue()` can be driven by a bench's virtual
 * clock, `start()` runs it on real timers.
 */
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { NotificationRequestItem } from '../protocol/adyen.js';

/** Adyen's retry pauses for a notification not acknowledged, seconds. */
export const RETRY_PAUSES_S = [120, 300, 600, 900, 1_800, 3_600, 7_200, 14_400, 28_800] as const;
/** Requests in flight at once. */
const MAX_CONCURRENT_REQUESTS = 8;

/** Sends one request; true only for 200 `[accepted]`. */
export type WebhookSender = (url: string, items: readonly NotificationRequestItem[]) => Promise<boolean>;

interface Pending {
  readonly url: string;
  readonly item: NotificationRequestItem;
  dueAtMs: number;
  attempts: number;
  readonly order: number;
}

export interface DelivererStats {
  pending: number;
  requests: number;
  delivered: number;
  failedAttempts: number;
  givenUp: number;
}

export interface DelivererOptions {
  readonly timeScale: number;
  readonly batchMaxItems: number;
  readonly retryMax: number;
  readonly maxPending: number;
}

export class Deliverer {
  readonly stats: DelivererStats = { pending: 0, requests: 0, delivered: 0, failedAttempts: 0, givenUp: 0 };
  /** A binary min-heap on (dueAtMs, order). */
  readonly #heap: Pending[] = [];
  #order = 0;
  #timer: NodeJS.Timeout | undefined;
  #state: 'idle' | 'running' | 'stopped' = 'idle';
  #delivering: Promise<number> | undefined;

  constructor(
    private readonly o: DelivererOptions,
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly send: WebhookSender,
    private readonly logger: Logger,
  ) {}

  /** Room for `n` more notifications (the queue is bounded). */
  hasRoom(n: number): boolean {
    return this.#heap.length + n <= this.o.maxPending;
  }

  /** Queues one notification for `url`, due at `dueAtMs`. */
  schedule(url: string, item: NotificationRequestItem, dueAtMs: number): void {
    if (this.#heap.length >= this.o.maxPending) throw new TypeError('the delivery queue is full: check hasRoom() first');
    this.#push({ url, item, dueAtMs, attempts: 0, order: this.#order++ });
    this.#arm();
  }

  nextDueAtMs(): number | null {
    return this.#heap[0]?.dueAtMs ?? null;
  }

  /** Sends everything due now; resolves with the number of items acknowledged. */
  deliverDue(): Promise<number> {
    this.#delivering = (this.#delivering ?? Promise.resolve(0)).then(() => this.#deliverDue());
    return this.#delivering;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#state = 'stopped';
    clearTimeout(this.#timer);
    await this.#delivering;
  }

  async #deliverDue(): Promise<number> {
    const now = this.clock.now();
    const due: Pending[] = [];
    while (this.#heap.length > 0 && (this.#heap[0] as Pending).dueAtMs <= now) due.push(this.#pop());
    if (due.length === 0) return 0;
    // Shuffle (seeded), then group per URL into requests of up to batchMaxItems.
    for (let i = due.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [due[i], due[j]] = [due[j] as Pending, due[i] as Pending];
    }
    const batches: Pending[][] = [];
    for (const url of new Set(due.map((d) => d.url))) {
      const mine = due.filter((d) => d.url === url);
      for (let i = 0; i < mine.length; i += this.o.batchMaxItems) batches.push(mine.slice(i, i + this.o.batchMaxItems));
    }
    let delivered = 0;
    for (let i = 0; i < batches.length; i += MAX_CONCURRENT_REQUESTS) {
      await Promise.all(batches.slice(i, i + MAX_CONCURRENT_REQUESTS).map(async (batch) => {
        const first = batch[0] as Pending;
        this.stats.requests++;
        let ok = false;
        try {
          ok = await this.send(first.url, batch.map((b) => b.item));
        } catch (err) {
          this.logger.debug('webhook delivery failed', { url: first.url, err });
        }
        if (ok) {
          delivered += batch.length;
          this.stats.delivered += batch.length;
          return;
        }
        this.stats.failedAttempts++;
        for (const p of batch) this.#retry(p);
      }));
    }
    this.stats.pending = this.#heap.length;
    return delivered;
  }

  #retry(p: Pending): void {
    const pause = RETRY_PAUSES_S[Math.min(p.attempts, RETRY_PAUSES_S.length - 1)] as number;
    p.attempts++;
    if (p.attempts > this.o.retryMax) {
      this.stats.givenUp++;
      this.logger.warn('notification given up after its retries', { pspReference: p.item.pspReference, eventCode: p.item.eventCode });
      return;
    }
    p.dueAtMs = this.clock.now() + (pause * 1000) / this.o.timeScale;
    this.#push(p);
  }

  /** Real timers: sleep until the next due item (or a newly earlier one), then deliver. */
  #arm(): void {
    this.stats.pending = this.#heap.length;
    if (this.#state !== 'running') return;
    clearTimeout(this.#timer);
    const next = this.nextDueAtMs();
    if (next === null) return;
    // Capped so a clock jump or a long tail never leaves one huge timer pending.
    const waitMs = Math.max(0, Math.min(60_000, next - this.clock.now()));
    this.#timer = setTimeout(() => {
      void this.deliverDue().finally(() => this.#arm());
    }, waitMs);
    this.#timer.unref();
  }

  #push(p: Pending): void {
    const h = this.#heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Pending, h[parent] as Pending)) break;
      [h[i], h[parent]] = [h[parent] as Pending, h[i] as Pending];
      i = parent;
    }
    this.stats.pending = h.length;
  }

  #pop(): Pending {
    const h = this.#heap;
    const top = h[0] as Pending;
    const last = h.pop() as Pending;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as Pending, h[m] as Pending)) m = l;
        if (r < h.length && before(h[r] as Pending, h[m] as Pending)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Pending, h[i] as Pending];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Pending, b: Pending): boolean {
  return a.dueAtMs < b.dueAtMs || (a.dueAtMs === b.dueAtMs && a.order < b.order);
}
