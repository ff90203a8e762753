/**
 * Key endorsement, the trust anchor of DESIGN §3.1: the operator's offline Ed25519 **provisioning
 * key** signs a statement "this public key is terminal T of store S". The cloud accepts a terminal
 * key only with such an endorsement, so neither a gateway nor its tokens can make it trust a key.
 *
 * Form: a compact JWS (RFC 7515 §7.1) signed with EdDSA (RFC 8037 §3.1), protected header exactly
 * `{"alg":"EdDSA","kid":"<provisioning kid>","typ":"tillgate-endorsement"}` and payload exactly
 * `{"v":1,"store","terminal","kid","publicKey","iat"}` (`publicKey` base64url of the raw 32 bytes,
 * `kid` its RFC 7638 thumbprint, `iat` RFC 3339). The provisioning key's own `kid` is its RFC 7638
 * thumbprint too.
 *
 * Unlike an event payload, an endorsement allows no extra fields: a trust statement a verifier
 * does not fully understand (a restriction added by a newer tool) must be refused, not half-read.
 * A newer form gets a new `v`, which this version refuses with ENDORSEMENT_BAD_PAYLOAD.
 */
import { verify as edVerify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import * as b64 from './base64url.js';
import { TillgateError } from './errors.js';
import { idSchema, terminalIdSchema } from './ids.js';
import { describeIssues } from './event.js';
import { kidOf, parsePublicKey, publicKeyFromRaw } from './keys.js';
import type { Signer } from './signer.js';

export const ENDORSEMENT_TYP = 'tillgate-endorsement';
export const ENDORSEMENT_VERSION = 1 as const;
/**
 * Largest endorsement in characters. The biggest valid one (two 64-character ids) is ~620; the
 * bound leaves room and keeps 1,000 enrollments of an ingest request under 1 MiB.
 */
export const MAX_ENDORSEMENT_CHARS = 1024;
/** Most provisioning keys a verifier trusts at once: a current one and a few being rotated out. */
export const MAX_PROVISIONING_KEYS = 64;

/** Stable codes of every way an endorsement can fail; tests and operators match on these. */
export const ENDORSEMENT_ERROR_CODES = {
  /** The enrollment carries no endorsement. */
  missing: 'ENDORSEMENT_MISSING',
  /** Longer than MAX_ENDORSEMENT_CHARS. */
  tooLarge: 'ENDORSEMENT_TOO_LARGE',
  /** Not a compact JWS of base64url JSON parts. */
  malformed: 'ENDORSEMENT_MALFORMED',
  /** The protected header is not exactly `{"alg":"EdDSA","kid","typ":"tillgate-endorsement"}`. */
  badHeader: 'ENDORSEMENT_BAD_HEADER',
  /** The payload is not exactly the v1 schema. */
  badPayload: 'ENDORSEMENT_BAD_PAYLOAD',
  /** The payload's `kid` is not the RFC 7638 thumbprint of its `publicKey`. */
  badKid: 'ENDORSEMENT_BAD_KID',
  /** Signed by a key that is not one of the trusted provisioning keys. */
  unknownIssuer: 'ENDORSEMENT_UNKNOWN_ISSUER',
  /** The signature does not verify with the provisioning key its header names. */
  badSignature: 'ENDORSEMENT_BAD_SIGNATURE',
  /** It endorses a key for another store. */
  wrongStore: 'ENDORSEMENT_WRONG_STORE',
  /** It endorses a key for another terminal. */
  wrongTerminal: 'ENDORSEMENT_WRONG_TERMINAL',
  /** It endorses another key than the one being enrolled. */
  wrongKey: 'ENDORSEMENT_WRONG_KEY',
} as const;
export type EndorsementErrorCode = (typeof ENDORSEMENT_ERROR_CODES)[keyof typeof ENDORSEMENT_ERROR_CODES];

export class EndorsementError extends TillgateError<EndorsementErrorCode> {
  constructor(code: EndorsementErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'EndorsementError';
  }
}

const KID = /^[A-Za-z0-9_-]{43}$/;
/** RFC 3339 date-time with a mandatory offset, as for event times (protocol/event.ts). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

const headerSchema = z.strictObject({ alg: z.literal('EdDSA'), kid: z.string().regex(KID), typ: z.literal(ENDORSEMENT_TYP) });
export type EndorsementHeader = z.infer<typeof headerSchema>;

export const endorsementPayloadSchema = z.strictObject({
  v: z.literal(ENDORSEMENT_VERSION),
  store: idSchema,
  terminal: terminalIdSchema,
  kid: z.string().regex(KID),
  publicKey: z.string().regex(KID, 'must be base64url of a raw 32-byte Ed25519 key'),
  iat: z
    .string()
    .max(40)
    .regex(RFC3339, 'must be an RFC 3339 date-time')
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be a real date-time'),
});
export type EndorsementPayload = z.infer<typeof endorsementPayloadSchema>;

/** What an endorsement is checked against: the enrollment that carries it. */
export interface EndorsementSubject {
  readonly store: string;
  readonly terminal: string;
  readonly kid: string;
  /** base64url of the raw 32-byte key. */
  readonly publicKey: string;
}

/** A structurally valid endorsement whose signature has not been checked yet. */
export interface DecodedEndorsement {
  readonly jws: string;
  readonly header: EndorsementHeader;
  readonly payload: EndorsementPayload;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

/**
 * Signs an endorsement of `subject.publicKey` as terminal `subject.terminal` of `subject.store`
 * with the provisioning key behind `issuer`. Ed25519 is deterministic (RFC 8032), so the same
 * inputs always give the same string (the test vectors rely on it).
 */
export async function signEndorsement(subject: Omit<EndorsementSubject, 'kid'>, issuer: Signer, iat: string): Promise<string> {
  const signingInput = endorsementSigningInput(subject, issuer.kid, iat);
  const signature = await issuer.sign(Buffer.from(signingInput, 'latin1'));
  return `${signingInput}.${b64.encode(signature)}`;
}

/** `base64url(header).base64url(payload)` of an endorsement: what the provisioning key signs. */
export function endorsementSigningInput(subject: Omit<EndorsementSubject, 'kid'>, issuerKid: string, iat: string): string {
  const raw = parsePublicKey(subject.publicKey);
  const parsed = endorsementPayloadSchema.safeParse({
    v: ENDORSEMENT_VERSION,
    store: subject.store,
    terminal: subject.terminal,
    kid: kidOf(raw),
    publicKey: subject.publicKey,
    iat,
  });
  // Callers validate their input first (the CLI through its option schema): this is a programmer error.
  if (!parsed.success) throw new TypeError(`cannot endorse: ${describeIssues(parsed.error)}`);
  const payload: EndorsementPayload = parsed.data;
  const header: EndorsementHeader = { alg: 'EdDSA', kid: issuerKid, typ: ENDORSEMENT_TYP };
  return `${b64.encode(JSON.stringify(header))}.${b64.encode(JSON.stringify(payload))}`;
}

/**
 * Every check that needs no trusted key: size, JWS form, header, payload schema, and that the
 * payload's kid is its key's thumbprint. Throws an EndorsementError.
 */
export function decodeEndorsement(input: unknown): DecodedEndorsement {
  const E = ENDORSEMENT_ERROR_CODES;
  if (input === undefined || input === null || input === '') throw new EndorsementError(E.missing, 'no endorsement');
  if (typeof input !== 'string') throw new EndorsementError(E.malformed, 'endorsement is not a string');
  if (input.length > MAX_ENDORSEMENT_CHARS) throw new EndorsementError(E.tooLarge, `endorsement is longer than ${MAX_ENDORSEMENT_CHARS} characters`);
  const parts = input.split('.');
  if (parts.length !== 3) throw new EndorsementError(E.malformed, 'endorsement is not a compact JWS (expected 3 parts)');
  const [h, p, s] = parts as [string, string, string];
  const header = headerSchema.safeParse(parseJsonPart(h, 'header'));
  if (!header.success) throw new EndorsementError(E.badHeader, `endorsement header must be exactly {"alg":"EdDSA","kid","typ":"${ENDORSEMENT_TYP}"}`);
  const payload = endorsementPayloadSchema.safeParse(parseJsonPart(p, 'payload'));
  if (!payload.success) throw new EndorsementError(E.badPayload, `endorsement payload ${describeIssues(payload.error)}`);
  let raw: Buffer;
  try {
    raw = parsePublicKey(payload.data.publicKey);
  } catch (cause) {
    throw new EndorsementError(E.badPayload, 'endorsement publicKey is not a raw Ed25519 key', { cause });
  }
  if (kidOf(raw) !== payload.data.kid) throw new EndorsementError(E.badKid, 'endorsement kid is not the thumbprint of its publicKey');
  const signature = b64.decode(s);
  if (signature === undefined || signature.length !== 64) throw new EndorsementError(E.malformed, 'endorsement signature is not 64 bytes of base64url');
  return { jws: input, header: header.data, payload: payload.data, signingInput: Buffer.from(`${h}.${p}`, 'latin1'), signature };
}

/** That the endorsement names exactly the enrollment's store, terminal and key. */
export function checkEndorsementSubject(e: DecodedEndorsement, subject: EndorsementSubject): void {
  const E = ENDORSEMENT_ERROR_CODES;
  if (e.payload.store !== subject.store) throw new EndorsementError(E.wrongStore, `endorsement is for store ${e.payload.store}, not ${subject.store}`);
  if (e.payload.terminal !== subject.terminal) throw new EndorsementError(E.wrongTerminal, `endorsement is for terminal ${e.payload.terminal}, not ${subject.terminal}`);
  if (e.payload.kid !== subject.kid || e.payload.publicKey !== subject.publicKey) throw new EndorsementError(E.wrongKey, 'endorsement is for another key');
}

/**
 * The provisioning public keys a verifier trusts, by kid (RFC 7638 thumbprint). Built once at
 * start from configuration; parsing a KeyObject per verify would cost ~40 % of it (DESIGN §5.1).
 */
export class ProvisioningKeys {
  readonly #byKid: ReadonlyMap<string, KeyObject>;
  readonly #rawByKid: ReadonlyMap<string, Buffer>;

  /** @param raws raw 32-byte Ed25519 public keys (at most MAX_PROVISIONING_KEYS) */
  constructor(raws: readonly Uint8Array[]) {
    if (raws.length > MAX_PROVISIONING_KEYS) throw new RangeError(`at most ${MAX_PROVISIONING_KEYS} provisioning keys`);
    this.#byKid = new Map(raws.map((raw) => [kidOf(raw), publicKeyFromRaw(raw)]));
    this.#rawByKid = new Map(raws.map((raw) => [kidOf(raw), Buffer.from(raw)]));
  }

  /** From base64url raw keys, as given on the command line; throws BAD_PUBLIC_KEY on a bad one. */
  static fromBase64url(keys: readonly string[]): ProvisioningKeys {
    return new ProvisioningKeys(keys.map(parsePublicKey));
  }

  get size(): number {
    return this.#byKid.size;
  }

  /** The kids, for logs and health output (public values). */
  kids(): string[] {
    return [...this.#byKid.keys()];
  }

  get(kid: string): KeyObject | undefined {
    return this.#byKid.get(kid);
  }

  /** The raw key of `kid`, for a verifier that takes raw keys (the worker pool). */
  raw(kid: string): Buffer | undefined {
    return this.#rawByKid.get(kid);
  }
}

/** That a trusted provisioning key signed the endorsement. */
export function verifyEndorsementSignature(e: DecodedEndorsement, trusted: ProvisioningKeys): void {
  const key = trusted.get(e.header.kid);
  if (key === undefined) throw new EndorsementError(ENDORSEMENT_ERROR_CODES.unknownIssuer, `endorsement is signed by ${e.header.kid}, not a trusted provisioning key`);
  let ok = false;
  try {
    ok = edVerify(null, e.signingInput, key, e.signature);
  } catch (cause) {
    throw new EndorsementError(ENDORSEMENT_ERROR_CODES.badSignature, 'endorsement signature verification failed', { cause });
  }
  if (!ok) throw new EndorsementError(ENDORSEMENT_ERROR_CODES.badSignature, 'endorsement signature does not match the provisioning key');
}

/**
 * The whole check the cloud makes (DESIGN §3.1): form, a trusted issuer, its signature, then that
 * it names the enrollment's store, terminal, kid and key. The signature comes before the names, so
 * a statement is read only once it is known to be the operator's. Returns the decoded endorsement.
 */
export function verifyEndorsement(input: unknown, subject: EndorsementSubject, trusted: ProvisioningKeys): DecodedEndorsement {
  const e = decodeEndorsement(input);
  verifyEndorsementSignature(e, trusted);
  checkEndorsementSubject(e, subject);
  return e;
}

function parseJsonPart(part: string, what: string): unknown {
  const bytes = b64.decode(part);
  if (bytes === undefined) throw new EndorsementError(ENDORSEMENT_ERROR_CODES.malformed, `endorsement ${what} is not base64url`);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (cause) {
    throw new EndorsementError(ENDORSEMENT_ERROR_CODES.malformed, `endorsement ${what} is not JSON`, { cause });
  }
}
