/**
 * Where the data keys of encryption at rest come from. A `KeyProvider` hands out the current key
 * (new values are sealed with it) and any older key by id (old values stay readable until the
 * background re-encryption has moved them to the current key).
 *
 * The default provider is a key file (JSON, mode 0600), created on first start:
 *   {"v":1,"current":"<id>","keys":[{"id":"<id>","key":"<base64url of 32 bytes>","createdAt":"…"}]}
 * Rotation adds a key and makes it current; the old key stays in the file until the program reports
 * that no value uses it any more, then `tillgate data-key retire` removes it.
 *
 * A key file beside the data protects nothing against someone who takes the whole disk. On a real
 * box the file comes from a systemd credential instead (`LoadCredentialEncrypted=`, sealed to the
 * box's TPM2): systemd decrypts it into `$CREDENTIALS_DIRECTORY` for the service only, and the disk
 * alone no longer opens the data. `resolveKeyFile` prefers that location when it is set.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { TillgateError } from '../../protocol/errors.js';

export const DATA_KEY_BYTES = 32;
/** Largest key file read: a file of 64 keys is ~6 KB. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
/** Keys kept in one file: rotation adds one; retire removes old ones. */
export const MAX_DATA_KEYS = 64;
/** The systemd credential name the units load (deploy/systemd). */
export const DATA_KEY_CREDENTIAL = 'tillgate-data-key';
export const DEFAULT_DATA_KEY_FILE_NAME = 'data-key.json';

export interface DataKey {
  readonly id: string;
  /** 32 bytes: an AES-256 key. */
  readonly key: Buffer;
}

export interface KeyProvider {
  /** The key new values are sealed with. */
  current(): DataKey;
  /** Any key this provider holds, by id; undefined when unknown. */
  byId(id: string): DataKey | undefined;
  /** Every key id held, current first. */
  ids(): readonly string[];
}

export const KEY_FILE_ERROR_CODES = {
  invalid: 'DATA_KEY_FILE_INVALID',
  missing: 'DATA_KEY_FILE_MISSING',
  exists: 'DATA_KEY_FILE_EXISTS',
  inUse: 'DATA_KEY_IN_USE',
} as const;

const keyIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const keyFileSchema = z.object({
  v: z.literal(1),
  current: keyIdSchema,
  keys: z
    .array(z.object({ id: keyIdSchema, key: z.string().regex(/^[A-Za-z0-9_-]{43}$/), createdAt: z.string().max(40) }))
    .min(1)
    .max(MAX_DATA_KEYS),
});
type KeyFile = z.infer<typeof keyFileSchema>;

/** A provider over fixed keys (tests, and the key file once read). */
export function staticKeyProvider(keys: readonly DataKey[], currentId: string): KeyProvider {
  const byId = new Map(keys.map((k) => [k.id, k]));
  const current = byId.get(currentId);
  if (current === undefined) throw new TypeError(`current key ${currentId} is not among the keys`);
  for (const k of keys) if (k.key.length !== DATA_KEY_BYTES || !keyIdSchema.safeParse(k.id).success) throw new TypeError('bad data key');
  const ids = [currentId, ...keys.map((k) => k.id).filter((id) => id !== currentId)];
  return { current: () => current, byId: (id) => byId.get(id), ids: () => ids };
}

/**
 * The key file to use: `explicit` when given, else the systemd credential when the service was
 * started with one, else `fallback` (a file in the program's data directory).
 */
export function resolveKeyFile(explicit: string | undefined, fallback: string, env: Readonly<Record<string, string | undefined>> = process.env): { path: string; source: 'option' | 'systemd-credential' | 'data-dir' } {
  if (explicit !== undefined && explicit !== '') return { path: explicit, source: 'option' };
  const dir = env.CREDENTIALS_DIRECTORY;
  if (dir !== undefined && dir !== '' && existsSync(join(dir, DATA_KEY_CREDENTIAL))) return { path: join(dir, DATA_KEY_CREDENTIAL), source: 'systemd-credential' };
  return { path: fallback, source: 'data-dir' };
}

/**
 * Opens a key file; with `create`, writes a new one (one fresh key, mode 0600) when it does not exist.
 * Throws DATA_KEY_FILE_INVALID (names the file, never its content) or DATA_KEY_FILE_MISSING.
 */
export function openKeyFile(path: string, options: { create: boolean; now?: () => Date } = { create: false }): KeyProvider {
  if (!existsSync(path)) {
    if (!options.create) throw new TillgateError(KEY_FILE_ERROR_CODES.missing, `data key file ${path} does not exist`);
    writeKeyFile(path, { v: 1, current: '', keys: [] }, newKey(options.now?.() ?? new Date()));
  }
  return providerOf(readKeyFile(path), path);
}

/** Creates a key file with one fresh key; refuses to overwrite (DATA_KEY_FILE_EXISTS). */
export function initKeyFile(path: string, now: Date = new Date()): string {
  if (existsSync(path)) throw new TillgateError(KEY_FILE_ERROR_CODES.exists, `data key file ${path} already exists`);
  const key = newKey(now);
  writeKeyFile(path, { v: 1, current: '', keys: [] }, key);
  return key.id;
}

/** Adds a fresh key and makes it current; older keys stay (values sealed with them stay readable). */
export function rotateKeyFile(path: string, now: Date = new Date()): { current: string; previous: string } {
  const file = readKeyFile(path);
  if (file.keys.length >= MAX_DATA_KEYS) throw new TillgateError(KEY_FILE_ERROR_CODES.invalid, `data key file ${path} already holds ${MAX_DATA_KEYS} keys: retire old ones first`);
  const key = newKey(now);
  writeKeyFile(path, file, key);
  return { current: key.id, previous: file.current };
}

/** Removes a non-current key. The caller has checked that no stored value uses it any more. */
export function retireKey(path: string, id: string): void {
  const file = readKeyFile(path);
  if (id === file.current) throw new TillgateError(KEY_FILE_ERROR_CODES.inUse, `key ${id} is the current key: rotate first`);
  if (!file.keys.some((k) => k.id === id)) throw new TillgateError(KEY_FILE_ERROR_CODES.invalid, `data key file ${path} has no key ${id}`);
  writeFileAtomic(path, JSON.stringify({ ...file, keys: file.keys.filter((k) => k.id !== id) }, null, 2));
}

/** Key ids and creation times of a key file (never the keys). */
export function describeKeyFile(path: string): { current: string; keys: { id: string; createdAt: string }[] } {
  const file = readKeyFile(path);
  return { current: file.current, keys: file.keys.map((k) => ({ id: k.id, createdAt: k.createdAt })) };
}

function newKey(now: Date): KeyFile['keys'][number] {
  // A readable, sortable, unique id: creation date plus 6 random hex digits.
  const id = `${now.toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
  return { id, key: randomBytes(DATA_KEY_BYTES).toString('base64url'), createdAt: now.toISOString() };
}

function writeKeyFile(path: string, file: KeyFile | { v: 1; current: string; keys: KeyFile['keys'] }, add: KeyFile['keys'][number]): void {
  writeFileAtomic(path, JSON.stringify({ v: 1, current: add.id, keys: [add, ...file.keys] }, null, 2));
}

/** Write to a temp file with mode 0600, fsync, rename over, fsync the directory: never a half key file. */
function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${text}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function readKeyFile(path: string): KeyFile {
  let text: string;
  try {
    if (statSync(path).size > MAX_KEY_FILE_BYTES) throw new Error('too large');
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new TillgateError(KEY_FILE_ERROR_CODES.invalid, `cannot read data key file ${path}`, { cause });
  }
  let parsed: ReturnType<typeof keyFileSchema.safeParse>;
  try {
    parsed = keyFileSchema.safeParse(JSON.parse(text));
  } catch {
    throw new TillgateError(KEY_FILE_ERROR_CODES.invalid, `data key file ${path} is not JSON`);
  }
  if (!parsed.success) throw new TillgateError(KEY_FILE_ERROR_CODES.invalid, `data key file ${path} is not a tillgate key file (${parsed.error.issues[0]?.path.join('.') ?? ''})`);
  const file = parsed.data;
  if (!file.keys.some((k) => k.id === file.current)) throw new TillgateError(KEY_FILE_ERROR_CODES.invalid, `data key file ${path}: current key ${file.current} is not in it`);
  if (new Set(file.keys.map((k) => k.id)).size !== file.keys.length) throw new TillgateError(KEY_FILE_ERROR_CODES.invalid, `data key file ${path} lists a key id twice`);
  return file;
}

function providerOf(file: KeyFile, path: string): KeyProvider {
  const keys = file.keys.map((k) => {
    const key = Buffer.from(k.key, 'base64url');
    if (key.length !== DATA_KEY_BYTES) throw new TillgateError(KEY_FILE_ERROR_CODES.invalid, `data key file ${path}: key ${k.id} is not 32 bytes`);
    return { id: k.id, key };
  });
  return staticKeyProvider(keys, file.current);
}
