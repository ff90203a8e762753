/**
 * Admin sessions for a technician's phone: the admin token is posted once to the login form, and
 * the browser then holds only a random session id in an HttpOnly, SameSite=Strict cookie (Secure
 * over TLS) that expires. Each session has its own CSRF token, which every admin form carries.
 * In memory and bounded: a gateway restart logs everyone out, the oldest session makes room.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Clock } from '../../lib/clock.js';
import { secretEquals } from './secret.js';

/** A shift in a store: long enough for one visit, short enough that a lost phone's login ends. */
export const DEFAULT_ADMIN_SESSION_TTL_S = 8 * 3600;
/** Sessions at once: a store has a technician or two with a phone and a laptop each. */
export const DEFAULT_ADMIN_SESSIONS_MAX = 16;
/** 32 random bytes: unguessable session ids and CSRF tokens (OWASP: at least 64 bits of entropy). */
const ID_BYTES = 32;
export const SESSION_COOKIE = 'tillgate_admin';
/** What a session id or CSRF token looks like (base64url of ID_BYTES); anything else is refused unread. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface AdminSession {
  readonly id: string;
  readonly csrf: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
}

export interface AdminSessionOptions {
  readonly ttlMs: number;
  readonly maxSessions: number;
}

export class AdminSessions {
  readonly #sessions = new Map<string, AdminSession>();
  readonly #clock: Clock;
  readonly #o: AdminSessionOptions;
  readonly #random: (n: number) => Buffer;

  constructor(clock: Clock, options: AdminSessionOptions, random: (n: number) => Buffer = randomBytes) {
    this.#clock = clock;
    this.#o = options;
    this.#random = random;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** A new session (a new id every login: no fixation); the oldest goes when the table is full. */
  create(): AdminSession {
    const now = this.#clock.now();
    this.#sweep(now);
    while (this.#sessions.size >= this.#o.maxSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    const session: AdminSession = {
      id: this.#random(ID_BYTES).toString('base64url'),
      csrf: this.#random(ID_BYTES).toString('base64url'),
      createdAtMs: now,
      expiresAtMs: now + this.#o.ttlMs,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session of this request's cookie, or undefined (none, unknown, expired). */
  of(c: Context): AdminSession | undefined {
    const id = getCookie(c, SESSION_COOKIE);
    if (id === undefined || !TOKEN_PATTERN.test(id)) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAtMs <= this.#clock.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** True when `token` is this session's CSRF token (compared in constant time). */
  csrfMatches(session: AdminSession, token: unknown): boolean {
    return typeof token === 'string' && TOKEN_PATTERN.test(token) && secretEquals(token, session.csrf);
  }

  /** Ends the request's session and clears its cookie. */
  end(c: Context): void {
    const session = this.of(c);
    if (session !== undefined) this.#sessions.delete(session.id);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: overTls(c), httpOnly: true, sameSite: 'Strict' });
  }

  /** Sets the session cookie: HttpOnly, SameSite=Strict, Secure when the request came over TLS, expiring with the session. */
  setCookie(c: Context, session: AdminSession): void {
    setCookie(c, SESSION_COOKIE, session.id, {
      path: '/',
      httpOnly: true,
      sameSite: 'Strict',
      secure: overTls(c),
      maxAge: Math.max(1, Math.floor((session.expiresAtMs - this.#clock.now()) / 1000)),
    });
  }

  #sweep(now: number): void {
    for (const [id, s] of this.#sessions) if (s.expiresAtMs <= now) this.#sessions.delete(id);
  }
}

/** True when the browser reached this gateway over TLS (directly, or through a TLS proxy that says so). */
export function overTls(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}
