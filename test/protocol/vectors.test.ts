import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  chainHash, classifySequence, decodeEvent, kidOf, KeyObjectSigner, publicKeyFromRaw, parsePublicKey,
  signEvent, verifyEventSignature, checkIdentity, type EventPayload,
} from '../../protocol/index.js';
import { codeOf } from '../support/codes.js';

interface Vectors {
  privateKeySeedHex: string;
  publicKey: string;
  kid: string;
  events: { payload: EventPayload; jws: string; chainHash: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('./vectors.json', import.meta.url), 'utf8')) as Vectors;
const publicKey = publicKeyFromRaw(parsePublicKey(vectors.publicKey));


function tamper(jws: string, edit: (payload: Record<string, unknown>) => void): string {
  const [h, p, s] = jws.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  edit(payload);
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

describe('protocol test vectors', () => {
  it('derives the public key and the RFC 7638 kid from the fixed seed', () => {
    const signer = KeyObjectSigner.fromSeed(Buffer.from(vectors.privateKeySeedHex, 'hex'));
    expect(signer.publicKeyRaw.toString('base64url')).toBe(vectors.publicKey);
    expect(signer.kid).toBe(vectors.kid);
    expect(kidOf(parsePublicKey(vectors.publicKey))).toBe(vectors.kid);
  });

  it('signing each vector payload reproduces its JWS byte for byte', async () => {
    const signer = KeyObjectSigner.fromSeed(Buffer.from(vectors.privateKeySeedHex, 'hex'));
    for (const v of vectors.events) expect(await signEvent(v.payload, signer)).toBe(v.jws);
  });

  it('every vector decodes, verifies and links to the previous chain hash', () => {
    let head = { seq: 0, hash: '' };
    for (const v of vectors.events) {
      const event = decodeEvent(v.jws);
      expect(event.header).toEqual({ alg: 'EdDSA', kid: vectors.kid });
      expect(event.payload).toEqual(v.payload);
      verifyEventSignature(event, publicKey);
      checkIdentity(event, 's-1', 't-1');
      expect(classifySequence(head, event.payload.seq, event.payload.prev)).toEqual({ kind: 'next' });
      expect(chainHash(v.jws)).toBe(v.chainHash);
      head = { seq: event.payload.seq, hash: v.chainHash };
    }
  });

  it('keeps extra payload fields it does not know', () => {
    const second = vectors.events[1];
    expect(decodeEvent(second!.jws).payload).toMatchObject({ tip: 150, ref: 'psp-42' });
  });
});

describe('protocol verification failures carry their codes', () => {
  const first = vectors.events[0]!;
  const second = vectors.events[1]!;

  it('a tampered payload fails with BAD_SIGNATURE', () => {
    const forged = tamper(first.jws, (p) => (p.amount = 999_999));
    expect(codeOf(() => verifyEventSignature(decodeEvent(forged), publicKey))).toBe('BAD_SIGNATURE');
  });

  it('a signature by another key fails with BAD_SIGNATURE', async () => {
    const other = KeyObjectSigner.fromSeed(Buffer.alloc(32, 7));
    const jws = await signEvent(first.payload, other);
    expect(codeOf(() => verifyEventSignature(decodeEvent(jws), publicKey))).toBe('BAD_SIGNATURE');
  });

  it('a header naming another kid is not the enrolled key', async () => {
    const other = KeyObjectSigner.fromSeed(Buffer.alloc(32, 7));
    const jws = await signEvent(first.payload, other);
    expect(decodeEvent(jws).header.kid).not.toBe(vectors.kid);
  });

  it('a broken chain is classified bad-chain, a skipped seq a gap with the expected seq', () => {
    const event = decodeEvent(second.jws);
    expect(classifySequence({ seq: 1, hash: 'A'.repeat(43) }, event.payload.seq, event.payload.prev)).toEqual({ kind: 'bad-chain' });
    expect(classifySequence({ seq: 0, hash: '' }, event.payload.seq, event.payload.prev)).toEqual({ kind: 'gap', expected: 1 });
    expect(classifySequence({ seq: 3, hash: 'x' }, event.payload.seq, event.payload.prev)).toEqual({ kind: 'past' });
  });

  it('an event that names another terminal fails with IDENTITY_MISMATCH', () => {
    expect(codeOf(() => checkIdentity(decodeEvent(first.jws), 's-1', 't-2'))).toBe('IDENTITY_MISMATCH');
  });

  it.each([
    ['not a JWS', 'hello'],
    ['four parts', 'a.b.c.d'],
    ['header not base64url', '!!!.e30.AA'],
    ['non-ASCII bytes', 'é.e30.AA'],
  ])('malformed input (%s) fails with SCHEMA', (_name, input) => {
    expect(codeOf(() => decodeEvent(input))).toBe('SCHEMA');
  });

  it('an oversized event fails with TOO_LARGE before any parsing', () => {
    expect(codeOf(() => decodeEvent('a'.repeat(16 * 1024 + 1)))).toBe('TOO_LARGE');
  });

  it('a payload missing a required field fails with SCHEMA', () => {
    expect(codeOf(() => decodeEvent(tamper(first.jws, (p) => delete p.currency)))).toBe('SCHEMA');
  });

  it('a card number anywhere in the payload fails with PAN_DETECTED', () => {
    expect(codeOf(() => decodeEvent(tamper(first.jws, (p) => (p.note = 'card 4111111111111111'))))).toBe('PAN_DETECTED');
    expect(codeOf(() => decodeEvent(tamper(first.jws, (p) => (p.card = { brand: 'visa', last4: '1111', pan: '4111 1111 1111 1111' }))))).toBe('PAN_DETECTED');
  });
});
