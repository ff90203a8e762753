/**
 * The terminal directory: `terminal.json` (store, terminal, kid, and after enrollment the gateway
 * URL), the device key (device-key.ts), the operator's endorsement of that key (`endorsement.jws`,
 * written by `tillgate provision endorse --dir`), the MQTT password in its own 0600 file, and the
 * outbox.
 */
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { TillgateError } from '../protocol/errors.js';
import { idSchema, terminalIdSchema } from '../protocol/ids.js';
import { describeIssues } from '../protocol/event.js';
import { AGENT_ERROR_CODES } from './errors.js';

export const TERMINAL_FILE = 'terminal.json';
export const PASSWORD_FILE = 'mqtt-password';
export const OUTBOX_DIR = 'outbox';
/** The operator's endorsement of the device key (DESIGN §3.1), sent with every enrollment. */
export const ENDORSEMENT_FILE = 'endorsement.jws';
/** terminal.json is a few hundred bytes; the password a few dozen. */
const MAX_FILE_BYTES = 64 * 1024;

export const terminalFileSchema = z.object({
  store: idSchema,
  terminal: terminalIdSchema,
  kid: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  gatewayUrl: z.string().url().max(2048).optional(),
});
export type TerminalFile = z.infer<typeof terminalFileSchema>;

export async function writeTerminalFile(dir: string, data: TerminalFile): Promise<void> {
  await mkdir(dir, { recursive: true });
  await atomicWrite(join(dir, TERMINAL_FILE), JSON.stringify(terminalFileSchema.parse(data), null, 2) + '\n', 0o644);
}

export async function readTerminalFile(dir: string): Promise<TerminalFile> {
  const text = await readSmall(join(dir, TERMINAL_FILE));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `${TERMINAL_FILE} is not JSON`, { cause });
  }
  const parsed = terminalFileSchema.safeParse(json);
  if (!parsed.success) throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `${TERMINAL_FILE}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The MQTT password goes in its own file, mode 0600, never in terminal.json or a log. */
export async function writePassword(dir: string, password: string): Promise<void> {
  await writeSecretFile(join(dir, PASSWORD_FILE), password);
}

/** A secret in a file of its own, mode 0600 (written whole, then renamed into place). */
export async function writeSecretFile(path: string, secret: string): Promise<void> {
  await atomicWrite(path, secret, 0o600);
}

export async function readPassword(dir: string): Promise<string> {
  const text = (await readSmall(join(dir, PASSWORD_FILE))).trim();
  if (text === '') throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `${PASSWORD_FILE} is empty: enroll first`);
  return text;
}

/** The endorsement is public (the gateway stores it, the cloud checks it), so mode 0644. */
export async function writeEndorsement(dir: string, endorsement: string): Promise<void> {
  await atomicWrite(join(dir, ENDORSEMENT_FILE), `${endorsement}\n`, 0o644);
}

/** The stored endorsement, or undefined when the directory has none yet. */
export async function readEndorsement(dir: string): Promise<string | undefined> {
  try {
    await access(join(dir, ENDORSEMENT_FILE));
  } catch {
    return undefined;
  }
  const text = (await readSmall(join(dir, ENDORSEMENT_FILE))).trim();
  return text === '' ? undefined : text;
}

async function atomicWrite(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, path);
}

async function readSmall(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `cannot read ${path}`, { cause });
  }
  if (text.length > MAX_FILE_BYTES) throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `${path} is too large`);
  return text;
}
