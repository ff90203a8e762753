/** Who signs events: a device key file today, a secure element tomorrow (DESIGN §3.1). */
import { sign as edSign, type KeyObject } from 'node:crypto';
import { kidOf, privateKeyFromSeed, publicKeyFromRaw, rawFromPublicKey } from './keys.js';

export interface Signer {
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKeyRaw: Buffer;
  /** Ed25519 signature (64 bytes) of `data`. */
  sign(data: Buffer): Promise<Buffer>;
}

/** A signer over an in-process private key (device key file or tests). */
export class KeyObjectSigner implements Signer {
  readonly kid: string;
  readonly publicKeyRaw: Buffer;
  readonly #key: KeyObject;
  constructor(privateKey: KeyObject) {
    this.#key = privateKey;
    this.publicKeyRaw = rawFromPublicKey(publicKeyFromRawOrDerive(privateKey));
    this.kid = kidOf(this.publicKeyRaw);
  }
  static fromSeed(seed: Uint8Array): KeyObjectSigner {
    return new KeyObjectSigner(privateKeyFromSeed(seed));
  }
  signSync(data: Buffer): Buffer {
    return edSign(null, data, this.#key);
  }
  async sign(data: Buffer): Promise<Buffer> {
    return this.signSync(data);
  }
}

function publicKeyFromRawOrDerive(privateKey: KeyObject): KeyObject {
  const jwk = privateKey.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 private key');
  return publicKeyFromRaw(Buffer.from(jwk.x, 'base64url'));
}
