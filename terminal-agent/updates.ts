/**
 * Payment updates from the cloud (DESIGN §3.6), as the gateway publishes them on
 * `P/{terminal}/updates`: the terminal keeps the latest state of each of its recent payments and
 * offers it to the payment app on its local API (`GET /payments`, `GET /payments/{id}`), so a
 * cashier learns when an optimistic charge was contradicted (refused, cancelled, inconsistent).
 *
 * Updates may come twice or out of order (the gateway delivers at least once): a state never moves
 * back (the cloud's forward order), and a state this version does not know (an open set) replaces
 * the one kept. Kept in memory, bounded to the most recent `maxPaymentUpdates` payments.
 */
import type { Hono } from 'hono';
import type { Clock } from '../lib/clock.js';
import { MAX_PAYMENT_UPDATE_BYTES, PAYMENT_STATES, paymentUpdateSchema, type PaymentUpdate } from '../protocol/payments.js';
import { UUID_PATTERN } from '../protocol/ids.js';

/** Payments whose latest update is kept: a busy terminal's day. */
export const DEFAULT_MAX_PAYMENT_UPDATES = 2_000;
/** Largest page of `GET /payments`. */
export const MAX_PAYMENT_UPDATES_PAGE = 500;

export interface KeptUpdate extends PaymentUpdate {
  /** When this terminal received it (ms since the epoch, the terminal's clock). */
  readonly receivedAtMs: number;
}

const rank = (state: string): number => (PAYMENT_STATES as readonly string[]).indexOf(state);

export class PaymentUpdates {
  readonly #latest = new Map<string, KeptUpdate>();
  /** Updates refused: too large, not JSON, not the schema, or another terminal's. */
  ignored = 0;

  constructor(
    private readonly terminal: string,
    private readonly clock: Clock,
    private readonly max = DEFAULT_MAX_PAYMENT_UPDATES,
  ) {}

  /** Takes one MQTT payload; false when it was ignored. Never throws. */
  offer(payload: Buffer): boolean {
    if (payload.length === 0 || payload.length > MAX_PAYMENT_UPDATE_BYTES) return this.#ignore();
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.#ignore();
    }
    const parsed = paymentUpdateSchema.safeParse(json);
    if (!parsed.success || parsed.data.terminal !== this.terminal) return this.#ignore();
    const update = { ...parsed.data, id: parsed.data.id.toLowerCase() };
    const before = this.#latest.get(update.id);
    // Forward only: a known state never replaces a later one; `charged` and `contradicted` never undo.
    if (before !== undefined && rank(update.state) >= 0 && rank(before.state) > rank(update.state)) return true;
    const kept: KeptUpdate = {
      ...update,
      charged: update.charged || (before?.charged ?? false),
      contradicted: (update.contradicted ?? false) || (before?.contradicted ?? false),
      receivedAtMs: this.clock.now(),
    };
    this.#latest.delete(update.id);
    this.#latest.set(update.id, kept);
    while (this.#latest.size > this.max) this.#latest.delete(this.#latest.keys().next().value as string);
    return true;
  }

  get(id: string): KeptUpdate | undefined {
    return this.#latest.get(id.toLowerCase());
  }

  /** Most recent first; `contradictedOnly` for the cashier's "needs attention" list. */
  list(limit: number, contradictedOnly = false): KeptUpdate[] {
    const all = [...this.#latest.values()].reverse();
    return (contradictedOnly ? all.filter((u) => u.contradicted) : all).slice(0, limit);
  }

  get size(): number {
    return this.#latest.size;
  }

  #ignore(): false {
    this.ignored++;
    return false;
  }
}

/** `GET /payments?contradicted=true&limit=N` and `GET /payments/{id}` on the terminal's local API. */
export function mountPaymentUpdates(app: Hono, updates: PaymentUpdates): void {
  app.get('/payments', (c) => {
    const limitRaw = c.req.query('limit') ?? '50';
    const limit = /^\d{1,4}$/.test(limitRaw) ? Number(limitRaw) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_PAYMENT_UPDATES_PAGE)) return c.json({ error: { code: 'BAD_REQUEST', message: `limit must be 1..${MAX_PAYMENT_UPDATES_PAGE}` } }, 400);
    return c.json({ payments: updates.list(limit, c.req.query('contradicted') === 'true') });
  });
  app.get('/payments/:id', (c) => {
    const id = c.req.param('id');
    if (!UUID_PATTERN.test(id)) return c.json({ error: { code: 'BAD_REQUEST', message: 'a payment id is the event id (a UUID)' } }, 400);
    const u = updates.get(id);
    return u === undefined ? c.json({ error: { code: 'NOT_FOUND', message: 'no update from the cloud for this payment yet' } }, 404) : c.json(u);
  });
}
