/**
 * The local record API for the payment app, on 127.0.0.1 only: `POST /record` (a transaction,
 * JSON, at most 16 KiB; optional header `Idempotency-Key`) → 201 `{"id","seq","offline"}`; a retry
 * with a key already recorded → 200 `{"id","seq","offline","replayed":true}` (the original answer,
 * nothing recorded); or `{"error":{"code","message"}}` with 400 (BAD_TRANSACTION,
 * BAD_IDEMPOTENCY_KEY), 409 (IDEMPOTENCY_MISMATCH: the key belongs to another payment), 422 (an
 * OFFLINE_LIMIT_* refusal: show it to the cashier; SET_ASIDE: a retry of a payment the gateway
 * refused for good), 503 (NOT_SYNCED, RESYNCING, CHAIN_BLOCKED, OUTBOX_FULL, OUTBOX_CLOSED,
 * AGENT_STOPPED: not recorded, not now). `GET /status` → agent stats. `GET /set-aside?limit=&after=`
 * → `{"events":[…],"next"?}`: the events the gateway refused for good (set-aside.ts).
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { MAX_JWS_BYTES } from '../protocol/event.js';
import type { Agent } from './agent.js';
import { IDEMPOTENCY_KEY_HEADER } from './idempotency.js';
import { mountPaymentUpdates } from './updates.js';
import { exportSetAside } from './set-aside.js';

/** A transaction is well under a JWS's 16 KiB once signed and encoded. */
export const MAX_RECORD_BODY_BYTES = MAX_JWS_BYTES;

const STATUS_BY_CODE: Record<string, 400 | 409 | 422 | 503> = {
  BAD_TRANSACTION: 400,
  BAD_IDEMPOTENCY_KEY: 400,
  IDEMPOTENCY_MISMATCH: 409,
  OFFLINE_LIMIT_AMOUNT: 422,
  OFFLINE_LIMIT_TOTAL: 422,
  OFFLINE_LIMIT_COUNT: 422,
  OFFLINE_LIMIT_AGE: 422,
  SET_ASIDE: 422,
  NOT_SYNCED: 503,
  RESYNCING: 503,
  CHAIN_BLOCKED: 503,
  OUTBOX_FULL: 503,
  OUTBOX_CLOSED: 503,
  AGENT_STOPPED: 503,
};

/** Most set-aside events per page: each carries a JWS of up to 16 KiB. */
export const MAX_SET_ASIDE_PAGE = 100;

const setAsideQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_SET_ASIDE_PAGE).default(MAX_SET_ASIDE_PAGE),
  after: z.string().min(1).max(128).regex(/^[0-9A-Za-z:-]+$/).optional(),
});

export function createRecordApp(agent: Pick<Agent, 'record' | 'stats' | 'listSetAside'> & Partial<Pick<Agent, 'payments'>>): Hono {
  const app = new Hono();
  app.post(
    '/record',
    bodyLimit({ maxSize: MAX_RECORD_BODY_BYTES, onError: (c) => c.json({ error: { code: 'TOO_LARGE', message: `body over ${MAX_RECORD_BODY_BYTES} bytes` } }, 413) }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: { code: 'BAD_TRANSACTION', message: 'body is not JSON' } }, 400);
      }
      try {
        // The header is validated by record() (BAD_IDEMPOTENCY_KEY); absent means "no key".
        const { replayed, ...result } = await agent.record(body, { idempotencyKey: c.req.header(IDEMPOTENCY_KEY_HEADER) });
        // 200, not 201: nothing was created by this request (RFC 9110 §15.3.2).
        return replayed ? c.json({ ...result, replayed: true }, 200) : c.json(result, 201);
      } catch (err) {
        const code = String((err as { code?: unknown }).code ?? 'INTERNAL');
        return c.json({ error: { code, message: (err as Error).message } }, STATUS_BY_CODE[code] ?? 500);
      }
    },
  );
  app.get('/status', (c) => c.json(agent.stats()));
  app.get('/set-aside', async (c) => {
    const q = setAsideQuerySchema.safeParse(c.req.query());
    if (!q.success) return c.json({ error: { code: 'BAD_QUERY', message: 'limit must be 1-100; after is the `next` of the previous page' } }, 400);
    try {
      const page = await agent.listSetAside(q.data.limit, q.data.after);
      return c.json({ events: page.records.map(exportSetAside), ...(page.next === undefined ? {} : { next: page.next }) });
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? 'INTERNAL');
      return c.json({ error: { code, message: (err as Error).message } }, STATUS_BY_CODE[code] ?? 500);
    }
  });
  // What the cloud says of recent payments (DESIGN §3.6): GET /payments, GET /payments/{id}.
  if (agent.payments !== undefined) mountPaymentUpdates(app, agent.payments);
  return app;
}
