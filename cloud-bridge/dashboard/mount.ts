/**
 * Mounts the dashboard at `GET /` on the cloud-bridge. It shows payment ids, amounts and stores, so
 * it is behind the admin token: `Authorization: Bearer <token>`, or HTTP basic auth (RFC 7617) with
 * any user name and the admin token as password, which a browser can prompt for. Its own strict
 * Content-Security-Policy allows nothing but its hashed inline style.
 */
import type { Hono } from 'hono';
import type { Clock } from '../../lib/clock.js';
import type { GatewayDirectory } from '../auth.js';
import type { PaymentStore } from '../lifecycle/payment-store.js';
import { DASHBOARD_CSP } from './assets.js';
import { renderDashboard } from './page.js';
import { readDashboard } from './view.js';

export interface DashboardDeps {
  readonly store: PaymentStore;
  readonly directory: GatewayDirectory;
  readonly clock: Clock;
  readonly optimisticCharge: boolean;
  readonly latencyWindow: number;
}

/** The admin token from a bearer or basic Authorization header, as a bearer header. */
export function adminAuthorization(header: string | undefined): string | undefined {
  if (header === undefined || header.length > 2048) return undefined;
  const basic = /^Basic ([A-Za-z0-9+/=]{1,2000})$/i.exec(header);
  if (basic?.[1] === undefined) return header;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : `Bearer ${decoded.slice(colon + 1)}`;
}

export function mountDashboard(app: Hono, deps: DashboardDeps): void {
  app.get('/', async (c) => {
    c.header('Content-Security-Policy', DASHBOARD_CSP);
    c.header('Cache-Control', 'no-store');
    if (!deps.directory.isAdmin(adminAuthorization(c.req.header('authorization')))) {
      c.header('WWW-Authenticate', 'Basic realm="tillgate cloud", charset="UTF-8"');
      return c.text('The dashboard needs the admin token (as the password of any user name).', 401);
    }
    try {
      const view = await readDashboard(deps.store, { nowMs: deps.clock.now(), optimisticCharge: deps.optimisticCharge, window: deps.latencyWindow });
      return c.html(await renderDashboard(view));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('LIFECYCLE_')) return c.text('The payment store is unavailable; this page refreshes by itself.', 503);
      throw err;
    }
  });
  // Browsers ask for it on every visit; an empty answer keeps logs and consoles free of 404s.
  app.get('/favicon.ico', (c) => c.body(null, 204));
}
