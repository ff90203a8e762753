/**
 * Sealing stored values with AES-256-GCM (NIST SP 800-38D): a fresh random 96-bit nonce per record
 * and the id of the key that sealed it stored with the value, so keys can rotate while old records
 * stay readable. One envelope for every store of the three programs.
 *
 *   0x00 0x54 0x47 ("\0TG")  magic: no JSON text starts with a NUL byte, so a value written by an
 *                            earlier release (plain JSON) is told apart without a flag
 *   0x01                     envelope version
 *   n (1 byte), id (n bytes) key id, ASCII, 1..64
 *   nonce (12 bytes)         random per record (SP 800-38D §8.2.2: ≤ 2^32 records per key with
 *                            random nonces — rotate long before; a gateway writes ~10^7 a year)
 *   ciphertext, tag (16)     GCM authenticates the header too (it is the AAD)
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { TillgateError } from '../../protocol/errors.js';
import type { KeyProvider } from './key-provider.js';

export const SEAL_MAGIC = Buffer.from([0x00, 0x54, 0x47]);
export const SEAL_VERSION = 0x01;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** Stable codes of sealing failures. */
export const AT_REST_ERROR_CODES = {
  /** The value names a key the key provider does not have (key file replaced or retired too early). */
  keyUnknown: 'AT_REST_KEY_UNKNOWN',
  /** GCM authentication failed: the value was altered on disk, or sealed with a different key of the same id. */
  tampered: 'AT_REST_TAMPERED',
  /** Not an envelope and not a plain value either. */
  malformed: 'AT_REST_MALFORMED',
} as const;

/** What a stored value is: sealed (with which key) or plain (written before encryption at rest). */
export type SealInfo = { readonly kind: 'sealed'; readonly keyId: string } | { readonly kind: 'plain' };

/**
 * Random bytes for nonces, drawn 4 KiB at a time: a 12-byte `randomFillSync` per record cost as much
 * as the cipher itself here. Each nonce is still fresh CSPRNG output, never reused.
 */
const NONCE_POOL_BYTES = 4096 - (4096 % NONCE_BYTES);
const noncePool = Buffer.alloc(NONCE_POOL_BYTES);
let nonceOffset = NONCE_POOL_BYTES;
function nextNonce(): Buffer {
  if (nonceOffset === NONCE_POOL_BYTES) {
    randomFillSync(noncePool);
    nonceOffset = 0;
  }
  const nonce = noncePool.subarray(nonceOffset, nonceOffset + NONCE_BYTES);
  nonceOffset += NONCE_BYTES;
  return nonce;
}

export class SealCodec {
  readonly #keys: KeyProvider;

  constructor(keys: KeyProvider) {
    this.#keys = keys;
  }

  get keys(): KeyProvider {
    return this.#keys;
  }

  /** Seals `plain` with the provider's current key. */
  seal(plain: Uint8Array): Buffer {
    const { id, key } = this.#keys.current();
    const header = headerOf(id);
    const nonce = nextNonce();
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(header);
    const body = cipher.update(plain);
    const final = cipher.final();
    // concat copies the nonce out of the pool before the pool is refilled.
    return Buffer.concat([header, nonce, body, final, cipher.getAuthTag()]);
  }

  /** Opens a sealed value; a plain (legacy) value is returned as it is. */
  open(stored: Uint8Array): Buffer {
    const buf = Buffer.isBuffer(stored) ? stored : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    const info = inspect(buf);
    if (info.kind === 'plain') return buf;
    const key = this.#keys.byId(info.keyId);
    if (key === undefined) {
      throw new TillgateError(AT_REST_ERROR_CODES.keyUnknown, `a stored value is sealed with key "${info.keyId}", which the key file does not hold`);
    }
    const headerBytes = SEAL_MAGIC.length + 2 + info.keyId.length;
    const nonce = buf.subarray(headerBytes, headerBytes + NONCE_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    const body = buf.subarray(headerBytes + NONCE_BYTES, buf.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key.key, nonce);
    decipher.setAAD(buf.subarray(0, headerBytes));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch (cause) {
      throw new TillgateError(AT_REST_ERROR_CODES.tampered, `a stored value sealed with key "${info.keyId}" failed authentication`, { cause });
    }
  }
}

/** Reads the envelope header only (no decryption): used to find values sealed with an old key. */
export function inspect(stored: Uint8Array): SealInfo {
  if (stored.length < SEAL_MAGIC.length || stored[0] !== SEAL_MAGIC[0] || stored[1] !== SEAL_MAGIC[1] || stored[2] !== SEAL_MAGIC[2]) {
    return { kind: 'plain' };
  }
  const version = stored[3];
  const n = stored[4] ?? 0;
  if (version !== SEAL_VERSION || n < 1 || n > 64 || stored.length < 5 + n + NONCE_BYTES + TAG_BYTES) {
    throw new TillgateError(AT_REST_ERROR_CODES.malformed, 'a stored value has a damaged encryption header');
  }
  return { kind: 'sealed', keyId: Buffer.from(stored.subarray(5, 5 + n)).toString('latin1') };
}

const headers = new Map<string, Buffer>();
function headerOf(keyId: string): Buffer {
  let h = headers.get(keyId);
  if (h === undefined) {
    const id = Buffer.from(keyId, 'latin1');
    h = Buffer.concat([SEAL_MAGIC, Buffer.from([SEAL_VERSION, id.length]), id]);
    if (headers.size < 64) headers.set(keyId, h);
  }
  return h;
}
