/**
 * The simulated PSP's HTTP API (protocol/psp-api.ts): `POST /v1/authorise` for terminals,
 * `GET /v1/payments/{merchantReference}` for the cloud's reconciliation, and for whoever measures
 * the cloud against it `GET /v1/truth?after=&limit=` (the injected truth, in order) and
 * `GET /v1/stats`. Bodies are bounded and schema-validated; errors carry stable codes.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { authoriseRequestSchema } from '../protocol/psp-api.js';
import { describeIssues } from '../protocol/event.js';
import type { Deliverer } from './deliverer.js';
import type { PspSimulator } from './simulator.js';

/** An authorise request is a few short fields. */
export const MAX_AUTHORISE_BODY_BYTES = 4 * 1024;
/** Largest page of the truth log. */
export const MAX_TRUTH_PAGE = 10_000;

const error = (code: string, message: string) => ({ error: { code, message } });

export function createPspSimApp(sim: PspSimulator, deliverer: Deliverer): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.post(
    '/v1/authorise',
    bodyLimit({ maxSize: MAX_AUTHORISE_BODY_BYTES, onError: (c) => c.json(error('TOO_LARGE', `body over ${MAX_AUTHORISE_BODY_BYTES} bytes`), 413) }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json(error('MALFORMED', 'body is not JSON'), 400);
      }
      const parsed = authoriseRequestSchema.safeParse(body);
      if (!parsed.success) return c.json(error('MALFORMED', describeIssues(parsed.error)), 400);
      try {
        return c.json(sim.authorise(parsed.data), 200);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'BUSY') return c.json(error('BUSY', (err as Error).message), 503);
        if (code === 'CONFLICT') return c.json(error('CONFLICT', (err as Error).message), 409);
        throw err;
      }
    },
  );

  app.get('/v1/payments/:reference', (c) => {
    const ref = c.req.param('reference');
    if (ref.length > 256) return c.json(error('MALFORMED', 'reference too long'), 400);
    const status = sim.status(ref);
    return status === undefined ? c.json(error('NOT_FOUND', 'no such payment'), 404) : c.json(status, 200);
  });

  app.get('/v1/truth', (c) => {
    const after = Number(c.req.query('after') ?? '0');
    const limit = Number(c.req.query('limit') ?? '1000');
    if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TRUTH_PAGE) {
      return c.json(error('MALFORMED', `after >= 0 and limit 1..${MAX_TRUTH_PAGE}`), 400);
    }
    return c.json(sim.truth(after, limit), 200);
  });

  app.get('/v1/stats', (c) => c.json({ ...sim.stats(), delivery: deliverer.stats }));
  app.notFound((c) => c.json(error('NOT_FOUND', 'no such route'), 404));
  return app;
}
