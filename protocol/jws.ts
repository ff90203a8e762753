/**
 * Events as compact JWS (RFC 7515 §7.1) signed with EdDSA/Ed25519 (RFC 8037 §3.1).
 * `decodeEvent` does every check that needs no key; `verifyEventSignature` does the expensive one.
 */
import { verify as edVerify, type KeyObject } from 'node:crypto';
import * as b64 from './base64url.js';
import { RejectError } from './errors.js';
import { describeIssues, eventPayloadSchema, MAX_JWS_BYTES, type EventPayload } from './event.js';
import { valueContainsPan, containsPan } from './pan.js';
import type { Signer } from './signer.js';

export interface JwsHeader {
  readonly alg: 'EdDSA';
  readonly kid: string;
}

/** A structurally valid event whose signature has not been checked yet. */
export interface DecodedEvent {
  readonly jws: string;
  readonly header: JwsHeader;
  readonly payload: EventPayload;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

const MAX_HEADER_CHARS = 256;
const KID = /^[A-Za-z0-9_-]{43}$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/** Signs a payload: the protected header is exactly `{"alg":"EdDSA","kid":"…"}` (DESIGN §3.2). */
export async function signEvent(payload: EventPayload, signer: Signer): Promise<string> {
  const header = b64.encode(JSON.stringify({ alg: 'EdDSA', kid: signer.kid }));
  const body = b64.encode(JSON.stringify(payload));
  const signingInput = `${header}.${body}`;
  const signature = await signer.sign(Buffer.from(signingInput, 'latin1'));
  return `${signingInput}.${b64.encode(signature)}`;
}

/**
 * Parses and validates an event without its key: size, JWS form, header, payload schema and
 * card-number check. Throws a RejectError with TOO_LARGE, SCHEMA or PAN_DETECTED.
 */
export function decodeEvent(input: string | Buffer): DecodedEvent {
  if (input.length > MAX_JWS_BYTES) throw new RejectError('TOO_LARGE', `event is larger than ${MAX_JWS_BYTES} bytes`);
  const jws = typeof input === 'string' ? input : input.toString('latin1');
  if (!PRINTABLE_ASCII.test(jws)) throw new RejectError('SCHEMA', 'event is not a compact JWS (non-ASCII bytes)');
  const parts = jws.split('.');
  if (parts.length !== 3) throw new RejectError('SCHEMA', 'event is not a compact JWS (expected 3 parts)');
  const [h, p, s] = parts as [string, string, string];
  if (h.length > MAX_HEADER_CHARS) throw new RejectError('SCHEMA', 'JWS header too long');
  const header = parseJson(b64.decode(h), 'header');
  if (
    typeof header !== 'object' || header === null || Array.isArray(header) ||
    Object.keys(header).length !== 2 || (header as Record<string, unknown>).alg !== 'EdDSA' ||
    typeof (header as Record<string, unknown>).kid !== 'string' || !KID.test((header as { kid: string }).kid)
  ) {
    throw new RejectError('SCHEMA', 'JWS header must be exactly {"alg":"EdDSA","kid":"<thumbprint>"}');
  }
  const payloadBytes = b64.decode(p);
  const payloadJson = parseJson(payloadBytes, 'payload');
  // A card number anywhere, even in a payload that is otherwise malformed, is the louder problem.
  if ((payloadBytes !== undefined && containsPan(payloadBytes.toString('utf8'))) || valueContainsPan(payloadJson)) {
    throw new RejectError('PAN_DETECTED', 'payload contains what looks like a card number');
  }
  const parsed = eventPayloadSchema.safeParse(payloadJson);
  if (!parsed.success) throw new RejectError('SCHEMA', `payload ${describeIssues(parsed.error)}`);
  const signature = b64.decode(s);
  if (signature === undefined || signature.length !== 64) throw new RejectError('BAD_SIGNATURE', 'signature is not 64 bytes of base64url');
  return {
    jws,
    header: header as JwsHeader,
    payload: parsed.data,
    signingInput: Buffer.from(`${h}.${p}`, 'latin1'),
    signature,
  };
}

/** Verifies the Ed25519 signature with the key enrolled under the header's `kid`. */
export function verifyEventSignature(event: DecodedEvent, publicKey: KeyObject): void {
  let ok = false;
  try {
    ok = edVerify(null, event.signingInput, publicKey, event.signature);
  } catch (cause) {
    throw new RejectError('BAD_SIGNATURE', 'signature verification failed', { cause });
  }
  if (!ok) throw new RejectError('BAD_SIGNATURE', 'signature does not match the enrolled key');
}

/** Checks that the payload names the sender the transport authenticated (DESIGN §3.3). */
export function checkIdentity(event: DecodedEvent, store: string, terminal: string): void {
  if (event.payload.store !== store || event.payload.terminal !== terminal) {
    throw new RejectError('IDENTITY_MISMATCH', `event names ${event.payload.store}/${event.payload.terminal}, sender is ${store}/${terminal}`);
  }
}

function parseJson(bytes: Buffer | undefined, what: string): unknown {
  if (bytes === undefined) throw new RejectError('SCHEMA', `JWS ${what} is not base64url`);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (cause) {
    throw new RejectError('SCHEMA', `JWS ${what} is not JSON`, { cause });
  }
}
