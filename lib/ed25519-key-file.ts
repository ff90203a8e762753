/**
 * An Ed25519 private key in a PKCS#8 PEM file that only its owner may read (mode 0600): the
 * operator's provisioning key (DESIGN §3.1). Creating never overwrites: replacing a provisioning
 * key silently would orphan every endorsement made with it. Loading refuses a file that others can
 * read, as ssh does for its keys: such a key must be treated as leaked, not used.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { TillgateError } from '../protocol/errors.js';
import { KeyObjectSigner } from '../protocol/signer.js';

/** A PEM Ed25519 key is ~120 bytes; anything far larger is not one. */
const MAX_KEY_FILE_BYTES = 4096;

export const KEY_FILE_ERROR_CODES = {
  /** `create` found a file already there: nothing was written. */
  exists: 'KEY_FILE_EXISTS',
  /** The file cannot be read or written. */
  io: 'KEY_FILE_IO',
  /** The file is readable or writable by group or others. */
  mode: 'KEY_FILE_MODE',
  /** The file is not an Ed25519 private key in PEM. */
  invalid: 'KEY_FILE_INVALID',
} as const;

/** Creates a new key at `path` (mode 0600, never over an existing file) and returns its signer. */
export async function createKeyFile(path: string): Promise<KeyObjectSigner> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  try {
    // `wx`: fail if it exists; mode 0600: only the owner may read the private key.
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    const exists = (cause as { code?: unknown }).code === 'EEXIST';
    throw new TillgateError(exists ? KEY_FILE_ERROR_CODES.exists : KEY_FILE_ERROR_CODES.io, exists ? `${path} already exists: refusing to overwrite a key` : `cannot create ${path}`, { cause });
  }
  return new KeyObjectSigner(privateKey);
}

/** Loads the key at `path`; refuses one that group or others may access. */
export async function loadKeyFile(path: string): Promise<KeyObjectSigner> {
  let pem: string;
  let mode: number;
  try {
    mode = (await stat(path)).mode;
    pem = await readFile(path, 'utf8');
  } catch (cause) {
    throw new TillgateError(KEY_FILE_ERROR_CODES.io, `cannot read ${path}`, { cause });
  }
  if ((mode & 0o077) !== 0) throw new TillgateError(KEY_FILE_ERROR_CODES.mode, `${path} is accessible to others (mode ${(mode & 0o777).toString(8)}): chmod 600 it, and treat the key as exposed`);
  if (pem.length > MAX_KEY_FILE_BYTES) throw new TillgateError(KEY_FILE_ERROR_CODES.invalid, `${path} is too large for a key`);
  try {
    return new KeyObjectSigner(createPrivateKey({ key: pem, format: 'pem' }));
  } catch (cause) {
    throw new TillgateError(KEY_FILE_ERROR_CODES.invalid, `${path} is not an Ed25519 private key`, { cause });
  }
}
