/**
 * Which enrollments the cloud records (DESIGN §3.1, §3.4): the decision is a pure function of the
 * trust configuration, the gateway's store and the enrollment, returning a verdict; the ingest
 * pipeline only applies it (the shape of gateway/forwarder/settle.ts).
 *
 * - `provisioning-keys` (the only safe mode): a key is recorded only with an endorsement signed by
 *   one of the operator's provisioning keys that names the gateway's store, the terminal, the kid
 *   and the key. A gateway, its cloud token and its admin token can then enroll nothing of their own.
 * - `gateway` (`--trust-gateway-enrollments`, explicit): any key an authenticated gateway sends is
 *   recorded, as the previous release did. Whoever holds a gateway token can then forge payments
 *   for that store; the cloud says so at start, on its health output and in a metric.
 */
import {
  checkEndorsementSubject, decodeEndorsement, ENDORSEMENT_ERROR_CODES, EndorsementError, ProvisioningKeys,
} from '../protocol/endorsement.js';
import type { Enrollment } from '../protocol/ingest-api.js';
import { kidOf, parsePublicKey } from '../protocol/keys.js';
import type { KeyRecord } from './ledger.js';

export const TRUST_MODES = ['provisioning-keys', 'gateway'] as const;
export type TrustMode = (typeof TRUST_MODES)[number];

export type EnrollmentTrust =
  | { readonly mode: 'provisioning-keys'; readonly keys: ProvisioningKeys }
  | { readonly mode: 'gateway' };

/** Why an enrollment was refused: the ENDORSEMENT_* codes, or one of these. Also the metric label. */
export const ENROLLMENT_REFUSAL_CODES = {
  ...ENDORSEMENT_ERROR_CODES,
  /** `publicKey` is not base64url of a raw 32-byte Ed25519 key. */
  badPublicKey: 'BAD_PUBLIC_KEY',
  /** `kid` is not the RFC 7638 thumbprint of `publicKey`: a forged pairing. */
  kidMismatch: 'KID_MISMATCH',
  /** The ledger already holds this kid with another key (never overwritten). */
  kidConflict: 'KID_CONFLICT',
} as const;
export type EnrollmentRefusalCode = (typeof ENROLLMENT_REFUSAL_CODES)[keyof typeof ENROLLMENT_REFUSAL_CODES];

/** Health and warning text of the unsafe mode (code stable for scripts and alerts). */
export const TRUST_GATEWAY_WARNING = {
  code: 'TRUST_GATEWAY_ENROLLMENTS',
  message: 'enrollments are trusted without an endorsement: whoever holds a gateway token can enroll a key of their own and forge payments; configure --provisioning-keys',
} as const;

/**
 * `verify`: everything but the signature holds; record it when `check` verifies (the caller runs
 * the Ed25519 check on the verify workers with the events', so a batch of endorsements does not
 * hold the event loop), else refuse it with ENDORSEMENT_BAD_SIGNATURE.
 */
export type EnrollmentVerdict =
  | { readonly kind: 'record'; readonly record: KeyRecord }
  | { readonly kind: 'verify'; readonly record: KeyRecord; readonly check: { readonly signingInput: Buffer; readonly signature: Buffer; readonly publicKeyRaw: Buffer } }
  | { readonly kind: 'refuse'; readonly code: EnrollmentRefusalCode; readonly message: string };

/** The trust configuration of validated options (cloud-bridge/options.ts guarantees one of the two). */
export function enrollmentTrustOf(options: { readonly provisioningKeys: readonly string[]; readonly trustGatewayEnrollments: boolean }): EnrollmentTrust {
  if (options.trustGatewayEnrollments) return { mode: 'gateway' };
  return { mode: 'provisioning-keys', keys: ProvisioningKeys.fromBase64url(options.provisioningKeys) };
}

/** Decides one enrollment sent by a gateway of `store`. Never throws on outside input. */
export function judgeEnrollment(trust: EnrollmentTrust, store: string, e: Enrollment): EnrollmentVerdict {
  let publicKey: Buffer;
  try {
    publicKey = parsePublicKey(e.publicKey);
  } catch {
    return { kind: 'refuse', code: ENROLLMENT_REFUSAL_CODES.badPublicKey, message: 'publicKey is not a raw Ed25519 key' };
  }
  // The kid is the key's RFC 7638 thumbprint (DESIGN §3.1); anything else is a forged pairing.
  if (kidOf(publicKey) !== e.kid) return { kind: 'refuse', code: ENROLLMENT_REFUSAL_CODES.kidMismatch, message: 'kid is not the thumbprint of publicKey' };
  const record: KeyRecord = { terminal: e.terminal, kid: e.kid, publicKey, at: e.at };
  if (trust.mode === 'gateway') return { kind: 'record', record };
  try {
    const endorsement = decodeEndorsement(e.endorsement);
    checkEndorsementSubject(endorsement, { store, terminal: e.terminal, kid: e.kid, publicKey: e.publicKey });
    const issuer = trust.keys.raw(endorsement.header.kid);
    if (issuer === undefined) throw new EndorsementError(ENDORSEMENT_ERROR_CODES.unknownIssuer, `endorsement is signed by ${endorsement.header.kid}, not a trusted provisioning key`);
    return { kind: 'verify', record, check: { signingInput: endorsement.signingInput, signature: endorsement.signature, publicKeyRaw: issuer } };
  } catch (err) {
    if (!(err instanceof EndorsementError)) throw err;
    return { kind: 'refuse', code: err.code, message: err.message };
  }
}
