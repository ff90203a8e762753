/**
 * The gateway's HTTP app (Hono): health probes and enrollment (DESIGN §3.5). The status API and
 * page (gateway/status-page/api-routes.ts, mount.ts) and the forwarder routes mount on the same app
 * later (gateway/index.ts wireExtensions).
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ENDORSEMENT_ERROR_CODES } from '../../protocol/endorsement.js';
import { hasCode } from '../../protocol/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Enrollment } from '../enrollment.js';
import { requireAdmin } from './admin-auth.js';
import { installHttpSecurity } from './security.js';
import type { AdminSessions } from './admin-sessions.js';
import { errorBody } from './errors.js';

export interface HttpDeps {
  readonly adminToken: string;
  readonly enrollBodyMaxBytes: number;
  readonly enrollment: Enrollment;
  /** Store open, not damaged, and broker listening; else why not (a stable code). */
  readonly ready: () => Readiness;
  readonly logger: Logger;
  /** HTTP basic auth for reads (both or neither; gateway/http/security.ts). */
  readonly statusUser?: string | undefined;
  readonly statusPassword?: string | undefined;
  /** The status page's admin sessions (their forms authorize themselves; a session also opens reads). */
  readonly sessions?: AdminSessions | undefined;
}

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly code: string; readonly message: string };

/** Enrollment error codes that are the caller's fault, and their HTTP status. */
const CLIENT_ERRORS: Record<string, 400 | 409> = {
  BAD_REQUEST: 400,
  BAD_PUBLIC_KEY: 400,
  // Every way an endorsement can be wrong (protocol/endorsement.ts) is the caller's to fix.
  ...Object.fromEntries(Object.values(ENDORSEMENT_ERROR_CODES).map((code) => [code, 400 as const])),
  TERMINAL_LIMIT: 409,
  KEY_LIMIT: 409,
};

export function createApp(deps: HttpDeps): Hono {
  const app = new Hono();
  // First, so every route below and every later mount is covered: headers, basic auth, admin/CSRF.
  installHttpSecurity(app, { adminToken: deps.adminToken, statusUser: deps.statusUser, statusPassword: deps.statusPassword, sessions: deps.sessions });

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', (c) => {
    const r = deps.ready();
    return r.ready ? c.json({ ready: true }) : c.json(errorBody(r.code, r.message), 503);
  });

  app.post(
    '/api/terminals',
    requireAdmin(deps.adminToken),
    bodyLimit({ maxSize: deps.enrollBodyMaxBytes, onError: (c) => c.json(errorBody('TOO_LARGE', `body over ${deps.enrollBodyMaxBytes} bytes`), 413) }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json(errorBody('BAD_REQUEST', 'body is not JSON'), 400);
      }
      try {
        return c.json(await deps.enrollment.enroll(body), 201);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && code in CLIENT_ERRORS) {
          return c.json(errorBody(code, (err as Error).message), CLIENT_ERRORS[code] ?? 400);
        }
        if (hasCode(err, 'COMMITTER_CLOSED')) return c.json(errorBody('SHUTTING_DOWN', 'the gateway is shutting down'), 503);
        throw err;
      }
    },
  );

  app.notFound((c) => c.json(errorBody('NOT_FOUND', 'no such route'), 404));
  app.onError((err, c) => {
    deps.logger.error('http handler failed', { err, path: c.req.path });
    return c.json(errorBody('INTERNAL', 'internal error'), 500);
  });
  return app;
}
