/**
 * Bearer-token checks (DESIGN §3.4). Tokens are compared in constant time: both sides are hashed
 * to a fixed length first (timingSafeEqual needs equal lengths, and hashing hides the length), and
 * every configured token is compared, so timing tells neither which gateway nor how close a guess is.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { GatewayCredential } from './options.js';

/** Bearer tokens longer than this are refused unread: a token is a few dozen characters. */
const MAX_AUTHORIZATION_CHARS = 1024;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_AUTHORIZATION_CHARS) return undefined;
  const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return m?.[1];
}

export class GatewayDirectory {
  readonly #entries: ReadonlyArray<{ readonly gateway: GatewayCredential; readonly digest: Buffer }>;
  readonly #admin: Buffer | undefined;

  constructor(gateways: readonly GatewayCredential[], adminToken: string | undefined) {
    this.#entries = gateways.map((gateway) => ({ gateway, digest: digest(gateway.token) }));
    this.#admin = adminToken === undefined ? undefined : digest(adminToken);
  }

  /** The gateway whose token the header carries, or undefined. */
  gatewayFor(authorization: string | undefined): GatewayCredential | undefined {
    const token = bearerToken(authorization);
    if (token === undefined) return undefined;
    const presented = digest(token);
    let found: GatewayCredential | undefined;
    for (const e of this.#entries) if (timingSafeEqual(e.digest, presented)) found = e.gateway;
    return found;
  }

  /** True when the header carries the admin token (never when no admin token is configured). */
  isAdmin(authorization: string | undefined): boolean {
    const token = bearerToken(authorization);
    if (token === undefined || this.#admin === undefined) return false;
    return timingSafeEqual(this.#admin, digest(token));
  }
}
