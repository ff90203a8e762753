/** Key endorsement (DESIGN §3.1) against the fixed vectors in endorsement-vectors.json, plus sizes and signing. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkEndorsementSubject, decodeEndorsement, ENDORSEMENT_ERROR_CODES, KeyObjectSigner, kidOf, MAX_ENDORSEMENT_CHARS,
  parsePublicKey, ProvisioningKeys, signEndorsement, verifyEndorsement, type EndorsementSubject,
} from '../../protocol/index.js';
import { codeOf } from '../support/codes.js';

interface Vectors {
  provisioningKeySeedHex: string;
  provisioningPublicKey: string;
  provisioningKid: string;
  iat: string;
  subject: EndorsementSubject;
  endorsement: string;
  invalid: { name: string; jws: string; subject: EndorsementSubject; code: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('./endorsement-vectors.json', import.meta.url), 'utf8')) as Vectors;
const trusted = ProvisioningKeys.fromBase64url([vectors.provisioningPublicKey]);
const provisioning = KeyObjectSigner.fromSeed(Buffer.from(vectors.provisioningKeySeedHex, 'hex'));

describe('endorsement test vectors', () => {
  it('endorsement - the provisioning key and its kid derive from the fixed seed', () => {
    expect(provisioning.publicKeyRaw.toString('base64url')).toBe(vectors.provisioningPublicKey);
    expect(provisioning.kid).toBe(vectors.provisioningKid);
    expect(kidOf(parsePublicKey(vectors.provisioningPublicKey))).toBe(vectors.provisioningKid);
    expect(trusted.kids()).toEqual([vectors.provisioningKid]);
  });

  it('endorsement - signing the vector subject reproduces the vector byte for byte', async () => {
    const { store, terminal, publicKey } = vectors.subject;
    expect(await signEndorsement({ store, terminal, publicKey }, provisioning, vectors.iat)).toBe(vectors.endorsement);
  });

  it('endorsement - the valid vector verifies and carries exactly the header and payload of DESIGN §3.1', () => {
    const e = verifyEndorsement(vectors.endorsement, vectors.subject, trusted);
    expect(e.header).toEqual({ alg: 'EdDSA', kid: vectors.provisioningKid, typ: 'tillgate-endorsement' });
    expect(e.payload).toEqual({ v: 1, ...vectors.subject, iat: vectors.iat });
    const [h, p] = vectors.endorsement.split('.') as [string, string];
    expect(Buffer.from(h, 'base64url').toString()).toBe(`{"alg":"EdDSA","kid":"${vectors.provisioningKid}","typ":"tillgate-endorsement"}`);
    expect(Object.keys(JSON.parse(Buffer.from(p, 'base64url').toString()) as object)).toEqual(['v', 'store', 'terminal', 'kid', 'publicKey', 'iat']);
  });

  it('endorsement - the vectors cover every refusal code', () => {
    expect(new Set(vectors.invalid.map((v) => v.code))).toEqual(new Set(Object.values(ENDORSEMENT_ERROR_CODES)));
  });

  it.each(vectors.invalid.map((v) => [v.name, v] as const))('endorsement - refuses one %s with its code', (_name, v) => {
    expect(codeOf(() => verifyEndorsement(v.jws, v.subject, trusted))).toBe(v.code);
  });
});

describe('endorsement checks', () => {
  it('endorsement - a missing endorsement (undefined or null) is ENDORSEMENT_MISSING, a non-string is MALFORMED', () => {
    expect(codeOf(() => decodeEndorsement(undefined))).toBe('ENDORSEMENT_MISSING');
    expect(codeOf(() => decodeEndorsement(null))).toBe('ENDORSEMENT_MISSING');
    expect(codeOf(() => decodeEndorsement({ jws: vectors.endorsement }))).toBe('ENDORSEMENT_MALFORMED');
  });

  it('endorsement - the largest valid endorsement (64-character ids) fits the size bound', async () => {
    const store = `s${'x'.repeat(63)}`;
    const terminal = `t${'y'.repeat(63)}`;
    const jws = await signEndorsement({ store, terminal, publicKey: vectors.subject.publicKey }, provisioning, '2026-11-20T08:00:00.123456789+01:00');
    expect(jws.length).toBeLessThan(MAX_ENDORSEMENT_CHARS);
    expect(() => verifyEndorsement(jws, { ...vectors.subject, store, terminal }, trusted)).not.toThrow();
  });

  it('endorsement - checking names alone needs no trusted key (what a gateway without provisioning keys does)', () => {
    const e = decodeEndorsement(vectors.endorsement);
    expect(() => checkEndorsementSubject(e, vectors.subject)).not.toThrow();
    expect(codeOf(() => checkEndorsementSubject(e, { ...vectors.subject, terminal: 't-9' }))).toBe('ENDORSEMENT_WRONG_TERMINAL');
  });

  it('endorsement - any of several trusted provisioning keys may sign (rotation)', async () => {
    const next = KeyObjectSigner.fromSeed(Buffer.alloc(32, 9));
    const both = new ProvisioningKeys([provisioning.publicKeyRaw, next.publicKeyRaw]);
    const { store, terminal, publicKey } = vectors.subject;
    const byNext = await signEndorsement({ store, terminal, publicKey }, next, vectors.iat);
    expect(() => verifyEndorsement(byNext, vectors.subject, both)).not.toThrow();
    expect(() => verifyEndorsement(vectors.endorsement, vectors.subject, both)).not.toThrow();
    expect(codeOf(() => verifyEndorsement(byNext, vectors.subject, trusted))).toBe('ENDORSEMENT_UNKNOWN_ISSUER');
  });

  it('endorsement - signing refuses a subject that is not a valid id or key', async () => {
    await expect(signEndorsement({ store: 'S 1', terminal: 't-1', publicKey: vectors.subject.publicKey }, provisioning, vectors.iat)).rejects.toBeInstanceOf(TypeError);
    await expect(signEndorsement({ store: 's-1', terminal: 't-1', publicKey: 'AAAA' }, provisioning, vectors.iat)).rejects.toMatchObject({ code: 'BAD_PUBLIC_KEY' });
  });

  it('endorsement - a bad provisioning key in the configuration is BAD_PUBLIC_KEY', () => {
    expect(codeOf(() => ProvisioningKeys.fromBase64url(['not-a-key']))).toBe('BAD_PUBLIC_KEY');
  });
});
