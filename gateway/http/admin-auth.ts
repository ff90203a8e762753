/**
 * `Authorization: Bearer <adminToken>` for admin routes (DESIGN §3.5). Compared as SHA-256
 * digests with timingSafeEqual, so neither the length nor the content leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function requireAdmin(adminToken: string): MiddlewareHandler {
  const expected = digest(adminToken);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    if (match === null || !timingSafeEqual(digest(match[1] as string), expected)) {
      return c.json(errorBody('UNAUTHORIZED', 'admin bearer token required'), 401);
    }
    await next();
  };
}
