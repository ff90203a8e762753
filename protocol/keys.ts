/**
 * Ed25519 keys: raw public keys, RFC 7638 thumbprints (the `kid`), and a small cache of parsed
 * KeyObjects (parsing costs ~40 % of a verify, DESIGN §5.1).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import * as b64 from './base64url.js';
import { TillgateError } from './errors.js';

export const ED25519_PUBLIC_KEY_BYTES = 32;
/** PKCS#8 DER prefix for an Ed25519 private key (RFC 8410 §7) followed by the 32-byte seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** RFC 7638 §3: thumbprint over the required members in lexicographic order, no whitespace. */
export function kidOf(publicKeyRaw: Uint8Array): string {
  assertRaw(publicKeyRaw);
  const jwk = `{"crv":"Ed25519","kty":"OKP","x":"${b64.encode(publicKeyRaw)}"}`;
  return createHash('sha256').update(jwk, 'utf8').digest('base64url');
}

export function publicKeyFromRaw(publicKeyRaw: Uint8Array): KeyObject {
  assertRaw(publicKeyRaw);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64.encode(publicKeyRaw) }, format: 'jwk' });
}

/** Parses a base64url raw public key as sent in enrollments (DESIGN §3.4). */
export function parsePublicKey(text: string): Buffer {
  const raw = b64.decode(text);
  if (raw === undefined || raw.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new TillgateError('BAD_PUBLIC_KEY', 'publicKey must be base64url of a raw 32-byte Ed25519 key');
  }
  return raw;
}

export function rawFromPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 public key');
  return Buffer.from(jwk.x, 'base64url');
}

/** A deterministic private key from a 32-byte seed (test vectors, device key files). */
export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new TypeError('Ed25519 seed must be 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function seedFromPrivateKey(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(der.subarray(der.length - 32));
}

function assertRaw(raw: Uint8Array): void {
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES) throw new TypeError('Ed25519 public key must be 32 bytes');
}

/**
 * A bounded LRU of parsed public keys by base64url raw key. Bounded because enrollments come from
 * outside; 4,096 keys covers the largest store many times over.
 */
export class KeyCache {
  readonly #max: number;
  readonly #map = new Map<string, KeyObject>();
  constructor(maxEntries = 4096) {
    this.#max = maxEntries;
  }
  get(publicKeyRaw: Uint8Array): KeyObject {
    const id = b64.encode(publicKeyRaw);
    let key = this.#map.get(id);
    if (key !== undefined) {
      this.#map.delete(id);
    } else {
      key = publicKeyFromRaw(publicKeyRaw);
      if (this.#map.size >= this.#max) {
        const oldest = this.#map.keys().next().value;
        if (oldest !== undefined) this.#map.delete(oldest);
      }
    }
    this.#map.set(id, key);
    return key;
  }
}
