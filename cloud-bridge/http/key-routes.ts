/**
 * Key administration (DESIGN §3.1), behind the admin bearer token (the `/v1/stores/*` guard of
 * read-routes.ts):
 * `GET /v1/stores/{store}/terminals/{terminal}/keys` → `{"keys":[{"terminal","kid","publicKey",
 * "enrolledAt","revokedAfterSeq","revokedAt"}]}`;
 * `POST /v1/stores/{store}/terminals/{terminal}/keys/{kid}/revoke` with an optional body
 * `{"afterSeq":N}` → the key record. Idempotent; the point only ever moves down.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { isId, isTerminalId } from '../../protocol/ids.js';
import type { Logger } from '../../lib/logger.js';
import type { Ledger } from '../ledger.js';
import type { CloudMetrics } from '../metrics.js';
import { HttpError } from './answers.js';
import { parseJsonBody, readBoundedBody } from './body.js';
import { answerJson, param } from './read-routes.js';

/** A revoke body is `{"afterSeq":N}` or nothing: a few dozen bytes. */
const MAX_REVOKE_BODY_BYTES = 1024;
const KID = /^[A-Za-z0-9_-]{43}$/;
const revokeBodySchema = z.object({ afterSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() }).strict();

export function mountKeyRoutes(app: Hono, ledger: Ledger, metrics: CloudMetrics, logger: Logger): void {
  app.get('/v1/stores/:store/terminals/:terminal/keys', (c) =>
    answerJson(c, async () => {
      const store = param(c.req.param('store'), isId, 'store');
      const terminal = param(c.req.param('terminal'), isTerminalId, 'terminal');
      return { keys: await ledger.listKeys(store, terminal) };
    }),
  );

  app.post('/v1/stores/:store/terminals/:terminal/keys/:kid/revoke', (c) =>
    answerJson(c, async () => {
      const store = param(c.req.param('store'), isId, 'store');
      const terminal = param(c.req.param('terminal'), isTerminalId, 'terminal');
      const kid = param(c.req.param('kid'), (v) => typeof v === 'string' && KID.test(v), 'kid');
      const raw = await readBoundedBody(c.req.raw, MAX_REVOKE_BODY_BYTES);
      const parsed = revokeBodySchema.safeParse(raw.length === 0 ? {} : parseJsonBody(raw));
      if (!parsed.success) throw new HttpError(400, 'MALFORMED', 'body must be {} or {"afterSeq": <integer >= 0>}');
      const before = (await ledger.listKeys(store, terminal)).find((k) => k.kid === kid);
      const key = await ledger.revokeKey(store, terminal, kid, parsed.data.afterSeq);
      if (key === undefined) {
        metrics.keyRevocations.inc({ result: 'unknown' });
        throw new HttpError(404, 'NOT_FOUND', 'no such key enrolled for this terminal');
      }
      const changed = before?.revokedAfterSeq !== key.revokedAfterSeq;
      metrics.keyRevocations.inc({ result: changed ? 'revoked' : 'unchanged' });
      if (changed) logger.warn('key revoked', { store, terminal, kid, revokedAfterSeq: key.revokedAfterSeq, before: before?.revokedAfterSeq ?? null });
      return key;
    }),
  );
}
