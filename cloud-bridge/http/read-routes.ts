/**
 * The read side (DESIGN §3.4), behind the admin bearer token:
 * `GET /v1/stores/{store}/terminals/{terminal}/events?after={seq}&limit={n}` →
 * `{"head":N,"events":[{"seq","jws","receivedAt"}]}` in seq order, and
 * `GET /v1/stores/{store}/terminals?after={terminal}&limit={n}` → `{"terminals":[{"terminal","seq","hash"}]}`,
 * and `GET /v1/stores/{store}/terminals/{terminal}/head` → `{"seq","hash"}`, which a gateway may
 * read for its own store with its own token (a restored gateway confirms its chains with it).
 */
import type { Context, Hono } from 'hono';
import { isId, isTerminalId } from '../../protocol/ids.js';
import type { EventsPage } from '../../protocol/ingest-api.js';
import type { GatewayDirectory } from '../auth.js';
import type { Ledger } from '../ledger.js';
import { errorResponse, HttpError } from './answers.js';

/** The one read a gateway token may make: its own terminals' heads. */
const HEAD_PATH = /^\/v1\/stores\/([^/]+)\/terminals\/[^/]+\/head$/;

export interface ReadLimits {
  readonly defaultReadLimit: number;
  readonly maxReadLimit: number;
}

export function mountReadRoutes(app: Hono, ledger: Ledger, directory: GatewayDirectory, limits: ReadLimits): void {
  app.use('/v1/stores/*', async (c, next) => {
    const authorization = c.req.header('authorization');
    if (directory.isAdmin(authorization)) return next();
    // A gateway may read the heads of its own store's terminals, nothing else.
    const gateway = directory.gatewayFor(authorization);
    const head = HEAD_PATH.exec(c.req.path);
    if (gateway !== undefined && head !== null) {
      if (head[1] === gateway.store) return next();
      return errorResponse(c, 403, 'FORBIDDEN', 'a gateway reads its own store only');
    }
    return errorResponse(c, 401, 'UNAUTHORIZED', 'admin bearer token required');
  });

  app.get('/v1/stores/:store/terminals/:terminal/head', (c) =>
    answerJson(c, async () => {
      const store = param(c.req.param('store'), isId, 'store');
      const terminal = param(c.req.param('terminal'), isTerminalId, 'terminal');
      const head = await ledger.head(store, terminal);
      return { seq: head.seq, hash: head.hash };
    }),
  );

  app.get('/v1/stores/:store/terminals/:terminal/events', (c) =>
    answerJson(c, async () => {
      const store = param(c.req.param('store'), isId, 'store');
      const terminal = param(c.req.param('terminal'), isTerminalId, 'terminal');
      const after = intQuery(c.req.query('after'), 0, 0, Number.MAX_SAFE_INTEGER, 'after');
      const limit = intQuery(c.req.query('limit'), limits.defaultReadLimit, 1, limits.maxReadLimit, 'limit');
      // Events first, head second: the head is then never behind the events returned.
      const events = await ledger.readEvents(store, terminal, after, limit);
      const head = await ledger.head(store, terminal);
      const page: EventsPage = { head: head.seq, events };
      return page;
    }),
  );

  app.get('/v1/stores/:store/terminals', (c) =>
    answerJson(c, async () => {
      const store = param(c.req.param('store'), isId, 'store');
      const afterRaw = c.req.query('after') ?? '';
      const after = afterRaw === '' ? '' : param(afterRaw, isTerminalId, 'after');
      const limit = intQuery(c.req.query('limit'), limits.maxReadLimit, 1, limits.maxReadLimit, 'limit');
      return { terminals: await ledger.listHeads(store, after, limit) };
    }),
  );
}

/**
 * Runs a read and answers 200 with its JSON; HttpErrors and an unavailable ledger become coded
 * answers. LEDGER_CORRUPT goes on to the app's error handler, the one place that raises that alarm.
 */
export async function answerJson(c: Context, read: () => Promise<object>): Promise<Response> {
  try {
    return c.json(await read(), 200);
  } catch (err) {
    if (err instanceof HttpError) return errorResponse(c, err.status, err.code, err.message);
    const code = (err as { code?: unknown }).code;
    if (code === 'LEDGER_CORRUPT') throw err;
    if (typeof code === 'string' && code.startsWith('LEDGER_')) return errorResponse(c, 503, 'LEDGER_UNAVAILABLE', 'the ledger is unavailable; retry');
    throw err;
  }
}

export function param(value: string | undefined, valid: (v: unknown) => boolean, name: string): string {
  if (value === undefined || !valid(value)) throw new HttpError(400, 'MALFORMED', `${name} is not a valid id`);
  return value;
}

export function intQuery(raw: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new HttpError(400, 'MALFORMED', `${name} must be an integer in ${min}..${max}`);
  return n;
}
