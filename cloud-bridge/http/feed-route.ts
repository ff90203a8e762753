/**
 * The ledger as a log over HTTP (DESIGN §5.4), behind the admin bearer token:
 * `GET /v1/feed?after={position}&limit={n}` → `{"head":P,"entries":[{"position","store","terminal",
 * "seq","jws","receivedAt","event":{"id","type","at","amount","currency","outcome","mode","ref"?}}]}`
 * in position order. A follower keeps the last position it processed as its cursor; it never misses
 * an entry by doing so (feed.ts states the invariant).
 */
import type { Hono } from 'hono';
import type { GatewayDirectory } from '../auth.js';
import type { LedgerFeed } from '../feed.js';
import { errorResponse } from './answers.js';
import { answerJson, intQuery } from './read-routes.js';

export function mountFeedRoute(app: Hono, feed: LedgerFeed, directory: GatewayDirectory, limits: { defaultReadLimit: number; maxReadLimit: number }): void {
  app.get('/v1/feed', async (c) => {
    if (!directory.isAdmin(c.req.header('authorization'))) return errorResponse(c, 401, 'UNAUTHORIZED', 'admin bearer token required');
    return answerJson(c, async () => {
      const after = intQuery(c.req.query('after'), 0, 0, Number.MAX_SAFE_INTEGER, 'after');
      const limit = intQuery(c.req.query('limit'), limits.defaultReadLimit, 1, limits.maxReadLimit, 'limit');
      // Head first, entries second: the entries may run past the head, never the other way round.
      const head = await feed.feedHead();
      return { head, entries: await feed.readFeed(after, limit) };
    });
  });
}
