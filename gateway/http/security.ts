/**
 * HTTP protections of the gateway, installed once on the Hono app before any route so they cover
 * every response:
 *  - security headers on every response, including 404s, errors and the SSE stream;
 *  - reads (GET/HEAD) open on the store LAN, or behind HTTP basic auth when `statusUser` and
 *    `statusPassword` are set (RFC 7617); the admin bearer token also opens them, for scripts;
 *  - every state-changing request is refused when it comes from another site (`Origin` not ours,
 *    or `Sec-Fetch-Site: cross-site|same-site`), so a web page a technician visits cannot drive the
 *    gateway (cross-site request forgery);
 *  - the API's state-changing requests (enroll, drain, retry dead letters, WAN outage toggle) need
 *    `Authorization: Bearer <adminToken>` (RFC 6750 §2.1), a header a browser never adds on its
 *    own — for scripts;
 *  - the page's admin forms (`/login`, `/logout`, `/admin/*`, gateway/status-page/admin-routes.tsx)
 *    are for a technician's phone: the admin token is posted once to the login form (rate limited),
 *    then an HttpOnly, SameSite=Strict session cookie and a CSRF token bound to the session
 *    authorize each form; those routes check both themselves.
 * Health probes (`/healthz`, `/readyz`) stay open: they tell nothing and supervisors cannot log in.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { PAGE_SCRIPT_HASH, PAGE_STYLE_HASH } from '../status-page/assets.js';
import type { AdminSessions } from './admin-sessions.js';
import { secretEquals } from './secret.js';

export { secretEquals } from './secret.js';

export interface HttpSecurityOptions {
  readonly adminToken: string;
  /** Both set: reads need HTTP basic auth with these credentials. Neither: reads are open. */
  readonly statusUser?: string | undefined;
  readonly statusPassword?: string | undefined;
  /** Admin sessions of the page's login form: a live one also opens reads. */
  readonly sessions?: AdminSessions | undefined;
}

/** Paths every supervisor may probe without credentials. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);
/** The login form: open to everyone (it takes only the admin token), even when reads need basic auth. */
export const LOGIN_PATH = '/login';
/** Form posts that authorize themselves with the session cookie and its CSRF token (not the bearer token). */
export function isSessionFormPath(path: string): boolean {
  return path === LOGIN_PATH || path === '/logout' || path.startsWith('/admin/');
}
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** No external source of anything: the page's own inline style and script by hash, its own stream. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${PAGE_SCRIPT_HASH}`,
  `style-src ${PAGE_STYLE_HASH}`,
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  // The admin forms post to this gateway only.
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // Never sends this gateway's address to another site; same-origin (not no-referrer) because with
  // no-referrer a browser posts the page's own forms with `Origin: null` (Fetch §3.2.5), which the
  // cross-site check must refuse.
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
});

/** Sets SECURITY_HEADERS on every response that passes through. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  };
}

function bearer(c: Context): string | null {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
  return match?.[1] ?? null;
}

function basic(c: Context): { user: string; password: string } | null {
  const header = c.req.header('authorization') ?? '';
  const match = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(header);
  if (match?.[1] === undefined) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function deny(c: Context, status: 401 | 403, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status);
}

/** True when the request was sent by a page of another origin (RFC 6454 origin, Fetch metadata). */
export function isCrossSite(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = c.req.header('origin');
  if (origin === undefined) return false;
  const ours = new URL(c.req.url);
  const host = c.req.header('host') ?? ours.host;
  return origin !== `${ours.protocol}//${host}`;
}

/** Admin (state-changing) requests: never from another site; bearer token, or the page's session forms. */
export function adminGuard(options: HttpSecurityOptions): MiddlewareHandler {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    if (isCrossSite(c)) return deny(c, 403, 'CROSS_SITE', 'admin requests from another site are refused');
    // The page's forms check the session cookie and its CSRF token themselves (admin-routes.tsx).
    if (options.sessions !== undefined && isSessionFormPath(c.req.path)) return next();
    const token = bearer(c);
    if (token === null || !secretEquals(token, options.adminToken)) {
      c.header('WWW-Authenticate', 'Bearer realm="tillgate-admin"');
      return deny(c, 401, 'UNAUTHORIZED', 'admin bearer token required');
    }
    return next();
  };
}

/** Reads: open, or HTTP basic auth when configured (the admin bearer token works too). */
export function readAccess(options: HttpSecurityOptions): MiddlewareHandler {
  const { statusUser, statusPassword } = options;
  return async (c, next) => {
    if (statusUser === undefined || statusPassword === undefined) return next();
    if (!SAFE_METHODS.has(c.req.method) || OPEN_PATHS.has(c.req.path) || c.req.path === LOGIN_PATH) return next();
    const token = bearer(c);
    if (token !== null && secretEquals(token, options.adminToken)) return next();
    if (options.sessions?.of(c) !== undefined) return next();
    const creds = basic(c);
    // Both compared every time, so timing does not tell which one was wrong.
    const userOk = creds !== null && secretEquals(creds.user, statusUser);
    const passwordOk = creds !== null && secretEquals(creds.password, statusPassword);
    if (userOk && passwordOk) return next();
    c.header('WWW-Authenticate', 'Basic realm="tillgate status", charset="UTF-8"');
    return deny(c, 401, 'STATUS_AUTH_REQUIRED', 'the status page needs the status user and password');
  };
}

/**
 * True when the request carries valid read credentials: the admin bearer token, or the status user
 * and password when those are set. (Reads may be open without any; this tells who proved who they are.)
 */
export function hasReadCredentials(c: Context, options: HttpSecurityOptions): boolean {
  const token = bearer(c);
  if (token !== null && secretEquals(token, options.adminToken)) return true;
  if (options.sessions?.of(c) !== undefined) return true;
  if (options.statusUser === undefined || options.statusPassword === undefined) return false;
  const creds = basic(c);
  const userOk = creds !== null && secretEquals(creds.user, options.statusUser);
  const passwordOk = creds !== null && secretEquals(creds.password, options.statusPassword);
  return userOk && passwordOk;
}

/**
 * Installs headers, admin guard and read access on `app`. Call it right after `new Hono()`, before
 * any route: Hono runs middleware in registration order, so routes added earlier are not covered.
 */
export function installHttpSecurity(app: Hono, options: HttpSecurityOptions): void {
  if ((options.statusUser === undefined) !== (options.statusPassword === undefined)) {
    throw new TypeError('statusUser and statusPassword go together');
  }
  app.use('*', securityHeaders(), adminGuard(options), readAccess(options));
}
