/**
 * The payment lifecycle's read side (DESIGN §3.6), behind the admin bearer token:
 * `GET /v1/payments/latency`, `GET /v1/payments/pending?after=&limit=` (payments whose terminal event
 * has not arrived, so no store is known yet), `GET /v1/payments/{id}`, and
 * `GET /v1/stores/{store}/payments?state=&limit=&after=` → `{"payments":[…],"next"}`.
 * Each route checks the token itself: they are mounted before the ledger's read routes.
 */
import type { Context, Hono } from 'hono';
import { isId } from '../../protocol/ids.js';
import { PAYMENT_STATES, type PaymentView } from '../../protocol/payments.js';
import type { GatewayDirectory } from '../auth.js';
import type { Payment, PaymentState } from '../lifecycle/machine.js';
import { latencyReport } from '../lifecycle/latency.js';
import type { PaymentStore } from '../lifecycle/payment-store.js';
import { paymentIdOf } from '../lifecycle/signals.js';
import { errorResponse, HttpError } from './answers.js';

export interface PaymentReadLimits {
  readonly defaultReadLimit: number;
  readonly maxReadLimit: number;
  readonly latencyWindow: number;
}

export function mountPaymentRoutes(app: Hono, store: PaymentStore, directory: GatewayDirectory, limits: PaymentReadLimits): void {
  const admin = (c: Context, read: () => Promise<object>) =>
    directory.isAdmin(c.req.header('authorization')) ? answer(c, read) : Promise.resolve(errorResponse(c, 401, 'UNAUTHORIZED', 'admin bearer token required'));
  const limitOf = (c: Context) => intQuery(c.req.query('limit'), limits.defaultReadLimit, 1, Math.min(limits.maxReadLimit, 1000), 'limit');
  const afterOf = (c: Context) => {
    const raw = c.req.query('after') ?? '';
    if (raw === '') return '';
    const id = paymentIdOf(raw);
    if (id === null) throw new HttpError(400, 'MALFORMED', 'after must be a payment id');
    return id;
  };

  app.get('/v1/payments/latency', (c) => admin(c, () => latencyReport(store, limits.latencyWindow)));

  app.get('/v1/payments/pending', (c) =>
    admin(c, async () => {
      const payments = await store.listPending(afterOf(c), limitOf(c));
      return page(payments);
    }),
  );

  app.get('/v1/payments/:id', (c) =>
    admin(c, async () => {
      const id = paymentIdOf(c.req.param('id'));
      if (id === null) throw new HttpError(400, 'MALFORMED', 'a payment id is the event id (a UUID)');
      const p = await store.get(id);
      if (p === undefined) throw new HttpError(404, 'NOT_FOUND', 'no such payment');
      return paymentView(p);
    }),
  );

  app.get('/v1/stores/:store/payments', (c) =>
    admin(c, async () => {
      const s = c.req.param('store');
      if (!isId(s)) throw new HttpError(400, 'MALFORMED', 'store is not a valid id');
      const stateRaw = c.req.query('state') ?? '';
      if (stateRaw !== '' && !(PAYMENT_STATES as readonly string[]).includes(stateRaw)) {
        throw new HttpError(400, 'MALFORMED', `state must be one of ${PAYMENT_STATES.join(', ')}`);
      }
      const payments = await store.listByStore(s, { limit: limitOf(c), afterId: afterOf(c), ...(stateRaw === '' ? {} : { state: stateRaw as PaymentState }) });
      return page(payments);
    }),
  );
}

function page(payments: readonly Payment[]): { payments: PaymentView[]; next: string | null } {
  return { payments: payments.map(paymentView), next: payments.at(-1)?.id ?? null };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** DESIGN §3.6 `GET /v1/payments/{id}`, plus refunds and the PSP references (readers ignore extras). */
export function paymentView(p: Payment): PaymentView {
  const e = p.event;
  return {
    id: p.id,
    store: e?.store ?? null,
    terminal: e?.terminal ?? null,
    seq: e?.seq ?? null,
    amount: e?.amount ?? null,
    currency: e?.currency ?? null,
    mode: e?.mode ?? null,
    state: p.state,
    charged: p.charged,
    chargedAt: iso(p.chargedAtMs),
    chargedBy: p.chargedBy,
    contradicted: p.contradicted,
    at: e?.at ?? null,
    capturedAt: iso(e?.capturedAtMs ?? null),
    authorisedAt: iso(p.authorisedAtMs),
    history: p.history.map((h) => ({ at: new Date(h.atMs).toISOString(), state: h.state, source: h.source })),
    refunds: p.refunds.map((r) => ({ pspReference: r.pspReference, amount: r.amount, currency: r.currency, at: new Date(r.atMs).toISOString() })),
    pspReferences: [...new Set(p.psp.map((f) => f.pspReference))],
  };
}

async function answer(c: Context, read: () => Promise<object>): Promise<Response> {
  try {
    return c.json(await read(), 200);
  } catch (err) {
    if (err instanceof HttpError) return errorResponse(c, err.status, err.code, err.message);
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('LIFECYCLE_')) return errorResponse(c, 503, 'LIFECYCLE_UNAVAILABLE', 'the payment store is unavailable; retry');
    throw err;
  }
}

export function intQuery(raw: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new HttpError(400, 'MALFORMED', `${name} must be an integer in ${min}..${max}`);
  return n;
}
