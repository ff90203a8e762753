/**
 * The local record API for the payment app, on 127.0.0.1 only: `POST /record` (a transaction,
 * JSON, at most 16 KiB) → 201 `{"id","seq","offline"}`, or `{"error":{"code","message"}}` with
 * 400 (BAD_TRANSACTION), 422 (an OFFLINE_LIMIT_* refusal: show it to the cashier), 503
 * (NOT_SYNCED, OUTBOX_FULL, OUTBOX_CLOSED, AGENT_STOPPED: not now). `GET /status` → agent stats.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { MAX_JWS_BYTES } from '../protocol/event.js';
import type { Agent } from './agent.js';

/** A transaction is well under a JWS's 16 KiB once signed and encoded. */
export const MAX_RECORD_BODY_BYTES = MAX_JWS_BYTES;

const STATUS_BY_CODE: Record<string, 400 | 422 | 503> = {
  BAD_TRANSACTION: 400,
  OFFLINE_LIMIT_AMOUNT: 422,
  OFFLINE_LIMIT_TOTAL: 422,
  OFFLINE_LIMIT_COUNT: 422,
  OFFLINE_LIMIT_AGE: 422,
  NOT_SYNCED: 503,
  OUTBOX_FULL: 503,
  OUTBOX_CLOSED: 503,
  AGENT_STOPPED: 503,
};

export function createRecordApp(agent: Pick<Agent, 'record' | 'stats'>): Hono {
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
        return c.json(await agent.record(body), 201);
      } catch (err) {
        const code = String((err as { code?: unknown }).code ?? 'INTERNAL');
        return c.json({ error: { code, message: (err as Error).message } }, STATUS_BY_CODE[code] ?? 500);
      }
    },
  );
  app.get('/status', (c) => c.json(agent.stats()));
  return app;
}
