/**
 * `tillgate terminal rotate-key --dir D` (docs/operator-guide.md, "Rotating and revoking a device
 * key"): the terminal gets a new device key while its agent is stopped. The old key is kept (moved
 * into `retired-keys/`, never deleted: what it signed stays verifiable everywhere), and so is its
 * endorsement. The answer says the last seq the old key signed: after the new key is endorsed,
 * enrolled and in use, the operator revokes the old key at the cloud after that seq
 * (`POST /v1/stores/{store}/terminals/{terminal}/keys/{kid}/revoke {"afterSeq":N}`), so anything
 * the old key signs later (a stolen copy) is refused (KEY_REVOKED) while what it signed before stays.
 */
import { mkdir, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TillgateError } from '../protocol/errors.js';
import type { KeyProvider } from '../lib/at-rest/index.js';
import { createDeviceKey, DEVICE_KEY_FILE, DEVICE_PUBLIC_KEY_FILE, loadDeviceKey } from './device-key.js';
import { AGENT_ERROR_CODES } from './errors.js';
import { LevelOutbox } from './outbox/level-outbox.js';
import { ENDORSEMENT_FILE, OUTBOX_DIR, readTerminalFile, writeTerminalFile } from './terminal-dir.js';

export const RETIRED_KEYS_DIR = 'retired-keys';

export interface RotatedKey {
  readonly terminal: string;
  readonly store: string;
  readonly previousKid: string;
  /** The last seq the previous key signed (the outbox head now): revoke it after this seq. */
  readonly previousKeyLastSeq: number;
  readonly kid: string;
  readonly publicKey: string;
}

export async function rotateDeviceKey(dir: string, keys: KeyProvider): Promise<RotatedKey> {
  const file = await readTerminalFile(dir);
  const previous = await loadDeviceKey(dir);
  // The agent holds its outbox while it runs: a key must not change under a running agent.
  const outbox = new LevelOutbox(join(dir, OUTBOX_DIR), keys);
  try {
    await outbox.open();
  } catch (cause) {
    throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `cannot open the outbox in ${dir}: stop the terminal agent before rotating its key`, { cause });
  }
  let lastSeq: number;
  try {
    lastSeq = outbox.head().seq;
  } finally {
    await outbox.close();
  }
  const retired = join(dir, RETIRED_KEYS_DIR);
  await mkdir(retired, { recursive: true, mode: 0o700 });
  await rename(join(dir, DEVICE_KEY_FILE), join(retired, `device-key-${previous.kid}.pem`));
  if (existsSync(join(dir, DEVICE_PUBLIC_KEY_FILE))) await rename(join(dir, DEVICE_PUBLIC_KEY_FILE), join(retired, `device-key-${previous.kid}.pub`));
  if (existsSync(join(dir, ENDORSEMENT_FILE))) await rename(join(dir, ENDORSEMENT_FILE), join(retired, `endorsement-${previous.kid}.jws`));
  const next = await createDeviceKey(dir);
  await writeTerminalFile(dir, { ...file, kid: next.kid });
  return { terminal: file.terminal, store: file.store, previousKid: previous.kid, previousKeyLastSeq: lastSeq, kid: next.kid, publicKey: next.publicKeyRaw.toString('base64url') };
}
