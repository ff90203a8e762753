/**
 * The device key (DESIGN §3.1): an Ed25519 key pair generated on the terminal. The private key is
 * a PKCS#8 PEM file of mode 0600 in the terminal directory and never leaves it; everything else
 * sees only the `Signer` interface, so a secure element can replace this file.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePublicKey } from '../protocol/keys.js';
import { KeyObjectSigner } from '../protocol/signer.js';
import { TillgateError } from '../protocol/errors.js';
import { AGENT_ERROR_CODES } from './errors.js';

export const DEVICE_KEY_FILE = 'device-key.pem';
/**
 * The public half, base64url of the raw 32 bytes: what an operator endorses (`tillgate provision
 * endorse --dir`) without reading the private key.
 */
export const DEVICE_PUBLIC_KEY_FILE = 'device-key.pub';
/** A PEM Ed25519 key is ~120 bytes; anything far larger is not ours. */
const MAX_KEY_FILE_BYTES = 4096;

/** Creates a new device key in `dir` (refuses to overwrite one: that would orphan the enrollment). */
export async function createDeviceKey(dir: string): Promise<KeyObjectSigner> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  try {
    // `wx`: fail if it exists; mode 0600: only the agent's user may read the private key.
    await writeFile(join(dir, DEVICE_KEY_FILE), pem, { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `cannot create ${DEVICE_KEY_FILE} in ${dir}`, { cause });
  }
  const signer = new KeyObjectSigner(privateKey);
  await writeFile(join(dir, DEVICE_PUBLIC_KEY_FILE), `${signer.publicKeyRaw.toString('base64url')}\n`, { mode: 0o644 });
  return signer;
}

/**
 * The device's raw public key: from `device-key.pub`, or for a directory made before that file
 * existed, derived from the private key.
 */
export async function readDevicePublicKey(dir: string): Promise<Buffer> {
  let text: string | undefined;
  try {
    text = await readFile(join(dir, DEVICE_PUBLIC_KEY_FILE), 'utf8');
  } catch {
    text = undefined;
  }
  if (text === undefined) return (await loadDeviceKey(dir)).publicKeyRaw;
  try {
    return parsePublicKey(text.trim().slice(0, 64));
  } catch (cause) {
    throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `${DEVICE_PUBLIC_KEY_FILE} in ${dir} is not a base64url Ed25519 public key`, { cause });
  }
}

/** Loads the device key of `dir`. */
export async function loadDeviceKey(dir: string): Promise<KeyObjectSigner> {
  let pem: string;
  try {
    pem = await readFile(join(dir, DEVICE_KEY_FILE), 'utf8');
  } catch (cause) {
    throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `cannot read ${DEVICE_KEY_FILE} in ${dir}`, { cause });
  }
  if (pem.length > MAX_KEY_FILE_BYTES) throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `${DEVICE_KEY_FILE} is too large`);
  try {
    return new KeyObjectSigner(createPrivateKey({ key: pem, format: 'pem' }));
  } catch (cause) {
    throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `${DEVICE_KEY_FILE} is not an Ed25519 private key`, { cause });
  }
}
