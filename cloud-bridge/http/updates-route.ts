/**
 * `GET /v1/stores/{store}/updates?after={cursor}&limit={n}` (DESIGN §3.6), with the bearer token of
 * a gateway of that store (the admin token may read any store) → `{"cursor","updates":[{"terminal",
 * "id","seq","state","charged","contradicted"}]}`. The gateway stores `cursor` and sends it back; it
 * publishes each update on `P/{terminal}/updates`. A cursor beyond the store's newest update (a
 * cloud restored from an older backup) answers the newest, so the gateway does not wait forever.
 */
import type { Hono } from 'hono';
import { isId } from '../../protocol/ids.js';
import { updatesCursorSchema, type UpdatesPage } from '../../protocol/payments.js';
import type { GatewayDirectory } from '../auth.js';
import type { PaymentStore } from '../lifecycle/payment-store.js';
import { errorResponse, HttpError } from './answers.js';
import { intQuery } from './payment-routes.js';

/** Updates per page when the gateway does not say, and at most. */
export const DEFAULT_UPDATES_PAGE = 100;
export const MAX_UPDATES_PAGE = 1_000;

export function mountUpdatesRoute(app: Hono, store: PaymentStore, directory: GatewayDirectory): void {
  app.get('/v1/stores/:store/updates', async (c) => {
    const s = c.req.param('store');
    const authorization = c.req.header('authorization');
    const gateway = directory.gatewayFor(authorization);
    if (gateway === undefined && !directory.isAdmin(authorization)) return errorResponse(c, 401, 'UNAUTHORIZED', 'gateway bearer token required');
    if (gateway !== undefined && gateway.store !== s) return errorResponse(c, 403, 'FORBIDDEN', 'the token belongs to a gateway of another store');
    try {
      if (!isId(s)) throw new HttpError(400, 'MALFORMED', 'store is not a valid id');
      const afterRaw = c.req.query('after') ?? '0';
      if (!updatesCursorSchema.safeParse(afterRaw).success || !Number.isSafeInteger(Number(afterRaw))) throw new HttpError(400, 'MALFORMED', 'after must be a cursor from an earlier answer');
      const after = Number(afterRaw);
      const limit = intQuery(c.req.query('limit'), DEFAULT_UPDATES_PAGE, 1, MAX_UPDATES_PAGE, 'limit');
      const { head, updates } = await store.readUpdates(s, after, limit);
      const last = updates.at(-1);
      const body: UpdatesPage = {
        cursor: String(last?.seq ?? Math.min(after, head)),
        updates: updates.map((u) => ({ terminal: u.terminal, id: u.id, seq: u.terminalSeq, state: u.state, charged: u.charged, contradicted: u.contradicted })),
      };
      return c.json(body, 200);
    } catch (err) {
      if (err instanceof HttpError) return errorResponse(c, err.status, err.code, err.message);
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('LIFECYCLE_')) return errorResponse(c, 503, 'LIFECYCLE_UNAVAILABLE', 'the payment store is unavailable; retry');
      throw err;
    }
  });
}
