/**
 * HTTP routes of the delivery side, mounted on the gateway's Hono app (DESIGN §3.5):
 * - `GET  /api/forwarder`                    state, backlog, rate, latency, WAN link, dead letters
 *                                             (`backlog` and `wan` in the shapes /api/status uses)
 * - `POST /api/forwarder/drain`              (admin) try now, ending any backoff
 * - `POST /api/forwarder/dead-letters/retry` (admin) `{"positions"?:[…]}` resend dead letters
 * - `GET  /api/forwarder/dead-letters/export` (admin) every dead letter with its signed event, to keep
 *   a copy elsewhere (the gateway keeps its own until a retry the cloud accepts resolves it)
 * - `POST /api/wan/outage`                   (admin) `{"seconds":N}` cut the cloud link for a demo
 */
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { Clock } from '../../lib/clock.js';
import type { ForwardQueue } from '../forward-queue.js';
import { backlogJson, wanJson, type WanLinkFacts } from '../api-shapes.js';
import { requireAdmin } from '../http/admin-auth.js';
import { errorBody, readJsonBody } from '../http/errors.js';
import type { WanMonitor } from '../wan/wan-monitor.js';
import type { Forwarder } from './forwarder.js';
import { MAX_OUTAGE_S, type LinkGate } from './link-gate.js';
import { deliveryActions } from './admin-actions.js';
import { forwarderStatus } from './status.js';

/** Admin bodies are a few bytes; anything larger is refused before it is read. */
const ADMIN_BODY_MAX_BYTES = 16 * 1024;
/** Dead letters listed in one answer. */
const DEAD_LETTERS_LISTED = 100;
/** Dead letters exported in one answer, each with its JWS (≤ 16 KiB): ~16 MB at most. */
const DEAD_LETTERS_EXPORTED = 1_000;

const retryBodySchema = z.object({ positions: z.array(z.number().int().min(1)).max(1000).optional() }).strict();
const outageBodySchema = z.object({ seconds: z.number().min(0).max(MAX_OUTAGE_S) }).strict();

export interface DeliveryRouteDeps {
  readonly adminToken: string;
  readonly forwarder: Forwarder;
  readonly queue: ForwardQueue;
  readonly monitor: WanMonitor;
  readonly gate: LinkGate;
  readonly clock: Clock;
}

/** The link as the WAN monitor sees it, with an admin's test cut (the facts of `wanJson`). */
export function wanFacts(monitor: WanMonitor, gate: LinkGate): WanLinkFacts {
  const link = monitor.link;
  return { state: link.state, sinceMs: link.since, rttMs: link.rttMs, reason: link.state === 'online' ? null : link.reason, cutUntilMs: gate.cutUntilMs() };
}

/** `/api/forwarder` `wan`, the same shape as `/api/status` `wanLink` (gateway/api-shapes.ts). */
export function wanView(monitor: WanMonitor, gate: LinkGate) {
  return wanJson(wanFacts(monitor, gate));
}

export function mountDeliveryRoutes(app: Hono, deps: DeliveryRouteDeps): void {
  const admin = requireAdmin(deps.adminToken);
  const limit = bodyLimit({ maxSize: ADMIN_BODY_MAX_BYTES, onError: (c) => c.json(errorBody('TOO_LARGE', `body over ${ADMIN_BODY_MAX_BYTES} bytes`), 413) });

  app.get('/api/forwarder', async (c) => {
    // The numbers first, then the list: a cursor that covers an event comes with its dead letter
    // (the list is read after the write that moved both), never with a list from before it.
    const forwarder = forwarderStatus(deps.forwarder, deps.queue, deps.clock);
    // The same shapes as /api/status `backlog` and `wanLink` (gateway/api-shapes.ts), read with the numbers.
    const backlog = backlogJson(deps.queue, deps.clock);
    // A damaged store may fail this read: the answer still comes, saying the list is unreadable.
    const letters = await deps.queue.listDeadLetters(DEAD_LETTERS_LISTED).then(
      (list) => ({ deadLetters: list.map((d) => ({ ...d, at: new Date(d.atMs).toISOString() })) }),
      (err: unknown) => ({ deadLetters: [], deadLettersError: String((err as { code?: unknown }).code ?? 'STORE_ERROR') }),
    );
    return c.json({ forwarder, backlog, wan: wanView(deps.monitor, deps.gate), ...letters });
  });

  // Admin-only although a read: the events carry card brands, last digits and tokens.
  app.get('/api/forwarder/dead-letters/export', admin, async (c) => {
    const letters = await deps.queue.listDeadLetters(DEAD_LETTERS_EXPORTED);
    const exported = [];
    for (const d of letters) {
      const [event] = await deps.queue.readTerminalEvents(d.terminal, d.seq, 1);
      exported.push({ ...d, at: new Date(d.atMs).toISOString(), jws: event?.seq === d.seq ? event.jws : null });
    }
    c.header('Cache-Control', 'no-store');
    return c.json({ exportedAt: new Date(deps.clock.now()).toISOString(), count: exported.length, total: deps.queue.deadLetterCount(), deadLetters: exported });
  });

  const actions = deliveryActions(deps);
  app.post('/api/forwarder/drain', admin, (c) => {
    const { state, backlog } = actions.drain();
    return c.json({ draining: true, state, backlog }, 202);
  });

  app.post('/api/forwarder/dead-letters/retry', admin, limit, async (c) => {
    const body = await readJsonBody(c, retryBodySchema, '{"positions"?: [pos, …]} (at most 1000)');
    if (body.response !== undefined) return body.response;
    const queued = await actions.retryDeadLetters(body.data.positions);
    return c.json({ queued }, 202);
  });

  app.post('/api/wan/outage', admin, limit, async (c) => {
    const body = await readJsonBody(c, outageBodySchema, `{"seconds": 0–${MAX_OUTAGE_S}}`);
    if (body.response !== undefined) return body.response;
    await actions.cutWan(body.data.seconds);
    return c.json({ wan: wanView(deps.monitor, deps.gate) });
  });
}
