/**
 * Regenerates test/protocol/endorsement-vectors.json: `npx tsx test/protocol/generate-endorsement-vectors.ts`.
 * A provisioning key from the fixed seed 20..3f endorses the terminal key of vectors.json (seed
 * 00..1f) as s-1/t-1; then one vector per way an endorsement must be refused, with its code.
 * Ed25519 is deterministic (RFC 8032), so the file is the same every time; other implementations
 * test against it.
 */
import { writeFileSync } from 'node:fs';
import { signEndorsement } from '../../protocol/endorsement.js';
import { KeyObjectSigner } from '../../protocol/signer.js';

const seed = (from: number) => Buffer.from(Array.from({ length: 32 }, (_, i) => from + i));
const provisioning = KeyObjectSigner.fromSeed(seed(0x20));
const terminalKey = KeyObjectSigner.fromSeed(seed(0x00));
const otherTerminalKey = KeyObjectSigner.fromSeed(seed(0x40));
const stranger = KeyObjectSigner.fromSeed(seed(0x60));
const iat = '2026-11-20T08:00:00Z';
const publicKey = terminalKey.publicKeyRaw.toString('base64url');
const subject = { store: 's-1', terminal: 't-1', kid: terminalKey.kid, publicKey };

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
/** Signs any header and payload as given: the refusals need forms signEndorsement will not make. */
function raw(header: unknown, payload: unknown, signer: KeyObjectSigner = provisioning): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer.signSync(Buffer.from(input, 'latin1')).toString('base64url')}`;
}
const header = { alg: 'EdDSA', kid: provisioning.kid, typ: 'tillgate-endorsement' };
const payload = { v: 1, store: 's-1', terminal: 't-1', kid: terminalKey.kid, publicKey, iat };

const valid = await signEndorsement({ store: 's-1', terminal: 't-1', publicKey }, provisioning, iat);
const [vh, vp, vs] = valid.split('.') as [string, string, string];
const tamperedPayload = b64({ ...payload, terminal: 't-2' });

const invalid = [
  { name: 'no endorsement', jws: '', subject, code: 'ENDORSEMENT_MISSING' },
  { name: 'longer than 1024 characters', jws: `${valid}${'A'.repeat(1024)}`, subject, code: 'ENDORSEMENT_TOO_LARGE' },
  { name: 'not three parts', jws: `${vh}.${vp}`, subject, code: 'ENDORSEMENT_MALFORMED' },
  { name: 'payload not base64url', jws: `${vh}.!!!.${vs}`, subject, code: 'ENDORSEMENT_MALFORMED' },
  { name: 'header typ is not tillgate-endorsement', jws: raw({ ...header, typ: 'JWT' }, payload), subject, code: 'ENDORSEMENT_BAD_HEADER' },
  { name: 'header alg none', jws: raw({ ...header, alg: 'none' }, payload), subject, code: 'ENDORSEMENT_BAD_HEADER' },
  { name: 'header with an extra member', jws: raw({ ...header, crit: ['exp'] }, payload), subject, code: 'ENDORSEMENT_BAD_HEADER' },
  { name: 'payload version 2', jws: raw(header, { ...payload, v: 2 }), subject, code: 'ENDORSEMENT_BAD_PAYLOAD' },
  { name: 'payload with an extra field', jws: raw(header, { ...payload, notAfter: '2027-01-01T00:00:00Z' }), subject, code: 'ENDORSEMENT_BAD_PAYLOAD' },
  { name: 'payload without iat', jws: raw(header, { ...payload, iat: undefined }), subject, code: 'ENDORSEMENT_BAD_PAYLOAD' },
  { name: 'kid not the thumbprint of publicKey', jws: raw(header, { ...payload, kid: otherTerminalKey.kid }), subject, code: 'ENDORSEMENT_BAD_KID' },
  { name: 'signed by a key that is not a provisioning key', jws: raw({ ...header, kid: stranger.kid }, payload, stranger), subject, code: 'ENDORSEMENT_UNKNOWN_ISSUER' },
  { name: 'signed by another key under the provisioning kid', jws: raw(header, payload, stranger), subject, code: 'ENDORSEMENT_BAD_SIGNATURE' },
  { name: 'payload altered after signing', jws: `${vh}.${tamperedPayload}.${vs}`, subject: { ...subject, terminal: 't-2' }, code: 'ENDORSEMENT_BAD_SIGNATURE' },
  { name: 'genuine, for another store', jws: valid, subject: { ...subject, store: 's-2' }, code: 'ENDORSEMENT_WRONG_STORE' },
  { name: 'genuine, for another terminal', jws: valid, subject: { ...subject, terminal: 't-2' }, code: 'ENDORSEMENT_WRONG_TERMINAL' },
  {
    name: 'genuine, for another key',
    jws: valid,
    subject: { ...subject, kid: otherTerminalKey.kid, publicKey: otherTerminalKey.publicKeyRaw.toString('base64url') },
    code: 'ENDORSEMENT_WRONG_KEY',
  },
];

const vectors = {
  description:
    'tillgate key endorsement test vectors (DESIGN §3.1): provisioning key seed 20..3f endorses the terminal key of vectors.json (seed 00..1f) as s-1/t-1; each invalid vector must be refused with its code when checked against its subject with only that provisioning key trusted',
  provisioningKeySeedHex: seed(0x20).toString('hex'),
  provisioningPublicKey: provisioning.publicKeyRaw.toString('base64url'),
  provisioningKid: provisioning.kid,
  iat,
  subject,
  endorsement: valid,
  invalid,
};
writeFileSync(new URL('./endorsement-vectors.json', import.meta.url), JSON.stringify(vectors, null, 2) + '\n');
console.log(`wrote 1 valid and ${invalid.length} invalid endorsements, provisioning kid ${provisioning.kid}`);
