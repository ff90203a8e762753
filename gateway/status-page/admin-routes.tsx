/**
 * Admin from a phone's browser, without typing a bearer token into anything:
 * - `GET  /login`                 a login form (one field: the admin token, as a password field)
 * - `POST /login`                 checks the token once (rate limited per address and overall), then
 *                                 sets the session cookie (admin-sessions.ts) and goes to the page
 * - `POST /logout`                ends the session
 * - `POST /admin/drain`           send now
 * - `POST /admin/dead-letters/retry`  retry the payments the cloud refused
 * - `POST /admin/wan-outage`      `minutes` = 1, 5, 15, 60 cuts the link for a test; 0 restores it
 * Every form post must come from this gateway's own page (the security middleware refuses other
 * origins) and carry the session's CSRF token; each answers with a redirect back to the page
 * (post/redirect/get), which says in words what was done.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { FC } from 'hono/jsx';
import { raw } from 'hono/html';
import type { Logger } from '../../lib/logger.js';
import type { AdminActions } from '../forwarder/admin-actions.js';
import type { AdminSessions } from '../http/admin-sessions.js';
import type { LoginLimiter } from '../http/login-limiter.js';
import { secretEquals } from '../http/secret.js';
import { OUTAGE_TEST_MINUTES, type AdminState } from './admin-panel.js';
import { PAGE_CSS } from './assets.js';
import { plural } from './format.js';
import type { StatusView } from './view.js';

/** Login and admin form bodies are a few hundred bytes; anything larger is refused unread. */
export const ADMIN_FORM_MAX_BYTES = 4 * 1024;

export interface AdminRouteDeps {
  readonly adminToken: string;
  readonly sessions: AdminSessions;
  readonly limiter: LoginLimiter;
  /** Null without a cloud: nothing to send, retry or cut. */
  readonly actions: AdminActions | null;
  readonly logger: Logger;
}

/** Why the login form is shown again, from a fixed set (never text taken from the request). */
const LOGIN_MESSAGES = {
  failed: 'That is not the admin token. Check it and try again.',
  expired: 'Your admin session has ended: log in again.',
  csrf: 'That form was stale: log in again and retry.',
} as const;

/** What the page says after an action, from a fixed set; `n` is a count taken from the redirect. */
export function flashWords(done: string | undefined, n: string | undefined): string | null {
  const count = n !== undefined && /^\d{1,7}$/.test(n) ? Number(n) : 0;
  switch (done) {
    case 'drain':
      return 'Sending now: the gateway is trying to send what waits, without waiting for the next retry.';
    case 'retry':
      return `${plural(count, 'refused payment')} queued to be sent again.`;
    case 'cut':
      return 'Internet link cut for a test: it comes back by itself at the time shown, or restore it below.';
    case 'restored':
      return 'Internet link restored: what waits goes out now.';
    case 'none':
      return 'No cloud is configured: there is nothing to do.';
    case 'login':
      return 'Logged in as admin.';
    default:
      return null;
  }
}

const LoginPage: FC<{ message: string | null; status: 'form' | 'limited'; retryAfterS?: number }> = ({ message, status, retryAfterS }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light" />
      <title>Admin login — tillgate</title>
      <style>{raw(PAGE_CSS)}</style>
    </head>
    <body>
      <main class="login">
        <h1>Admin login</h1>
        <p>
          Log in with this gateway's admin token to send now, retry refused payments or test the internet link. <a href="/">Back to the status page</a>
        </p>
        {message === null ? '' : (
          <p class="error" role="alert" id="login-message">
            {message}
          </p>
        )}
        {status === 'limited' ? (
          <p class="error" role="alert" id="login-limited">
            Too many wrong tries from this device: wait {Math.ceil((retryAfterS ?? 60) / 60)} min, then try again.
          </p>
        ) : (
          <form method="post" action="/login">
            <label for="token">Admin token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" autocapitalize="off" spellcheck={false} required maxlength={512} />
            <button type="submit" id="login-submit">Log in</button>
          </form>
        )}
      </main>
    </body>
  </html>
);

async function loginPage(message: string | null, status: 'form' | 'limited' = 'form', retryAfterS?: number): Promise<string> {
  return `<!doctype html>${await (<LoginPage message={message} status={status} {...(retryAfterS === undefined ? {} : { retryAfterS })} />).toString()}`;
}

/** The peer address of a request served by @hono/node-server; `unknown` elsewhere (app.request). */
export function remoteAddress(c: Context): string {
  const env = c.env as { incoming?: IncomingMessage; server?: { incoming?: IncomingMessage } } | undefined;
  return (env?.server?.incoming ?? env?.incoming)?.socket.remoteAddress ?? 'unknown';
}

async function formField(c: Context, name: string): Promise<string | undefined> {
  const body = await c.req.parseBody();
  const value = body[name];
  return typeof value === 'string' ? value : undefined;
}

/** The admin's side of the page for this request: anonymous, or logged in with its CSRF token. */
export function adminStateFor(c: Context, view: StatusView, deps: Pick<AdminRouteDeps, 'sessions' | 'actions'>): AdminState {
  const session = deps.sessions.of(c);
  if (session === undefined) return { kind: 'anonymous' };
  return {
    kind: 'admin',
    csrf: session.csrf,
    expiresAtMs: session.expiresAtMs,
    flash: flashWords(c.req.query('done'), c.req.query('n')),
    actions: { cloud: deps.actions !== null, deadLetters: view.forwarder.deadLetters, backlogEvents: view.forwarder.backlogEvents, cutUntilMs: view.wan.cutUntilMs ?? null },
  };
}

export function mountAdminRoutes(app: Hono, deps: AdminRouteDeps): void {
  const limit = bodyLimit({ maxSize: ADMIN_FORM_MAX_BYTES, onError: (c) => c.json({ error: { code: 'TOO_LARGE', message: `form over ${ADMIN_FORM_MAX_BYTES} bytes` } }, 413) });
  const html = (c: Context, body: string, status: 200 | 403 | 429 = 200) => {
    c.header('Cache-Control', 'no-store');
    return c.html(body, status);
  };

  app.get('/login', async (c) => {
    if (deps.sessions.of(c) !== undefined) return c.redirect('/#admin', 303);
    const e = c.req.query('e');
    return html(c, await loginPage(e !== undefined && e in LOGIN_MESSAGES ? LOGIN_MESSAGES[e as keyof typeof LOGIN_MESSAGES] : null));
  });

  app.post('/login', limit, async (c) => {
    const address = remoteAddress(c);
    const verdict = deps.limiter.attempt(address);
    if (!verdict.ok) {
      c.header('Retry-After', String(verdict.retryAfterS));
      deps.logger.warn('admin login refused: too many tries', { address, retryAfterS: verdict.retryAfterS });
      return html(c, await loginPage(null, 'limited', verdict.retryAfterS), 429);
    }
    const token = await formField(c, 'token');
    if (token === undefined || token.length > 512 || !secretEquals(token, deps.adminToken)) {
      deps.limiter.failed(address);
      deps.logger.warn('admin login refused: wrong token', { address });
      return c.redirect('/login?e=failed', 303);
    }
    deps.limiter.succeeded(address);
    const session = deps.sessions.create();
    deps.sessions.setCookie(c, session);
    deps.logger.info('admin logged in on the status page', { address });
    return c.redirect('/?done=login#admin', 303);
  });

  app.post('/logout', limit, async (c) => {
    const session = deps.sessions.of(c);
    if (session !== undefined && !deps.sessions.csrfMatches(session, await formField(c, 'csrf'))) return html(c, await loginPage(LOGIN_MESSAGES.csrf), 403);
    deps.sessions.end(c);
    return c.redirect('/', 303);
  });

  /** Runs `act` for a logged-in admin whose form carries the session's CSRF token; else says why not. */
  const adminForm = (act: (form: Record<string, unknown>) => Promise<string>) => async (c: Context) => {
    const session = deps.sessions.of(c);
    if (session === undefined) return c.redirect('/login?e=expired', 303);
    const form = await c.req.parseBody();
    if (!deps.sessions.csrfMatches(session, form.csrf)) {
      deps.logger.warn('admin form refused: CSRF token missing or wrong', { address: remoteAddress(c), path: c.req.path });
      return c.json({ error: { code: 'CSRF_INVALID', message: 'the form does not carry this session\'s token; reload the page' } }, 403);
    }
    if (deps.actions === null) return c.redirect('/?done=none#admin', 303);
    return c.redirect(`/?${await act(form)}#admin`, 303);
  };

  app.post('/admin/drain', limit, adminForm(async () => {
    deps.actions?.drain();
    return 'done=drain';
  }));

  app.post('/admin/dead-letters/retry', limit, adminForm(async () => {
    const n = (await deps.actions?.retryDeadLetters()) ?? 0;
    return `done=retry&n=${n}`;
  }));

  app.post('/admin/wan-outage', limit, adminForm(async (form) => {
    const minutes = Number(form.minutes);
    if (minutes !== 0 && !(OUTAGE_TEST_MINUTES as readonly number[]).includes(minutes)) return 'done=invalid';
    await deps.actions?.cutWan(minutes * 60);
    deps.logger.info(minutes === 0 ? 'admin restored the internet link' : 'admin cut the internet link for a test', { minutes });
    return minutes === 0 ? 'done=restored' : 'done=cut';
  }));
}
