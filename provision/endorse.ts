/**
 * Endorsing terminal keys with the operator's provisioning key (DESIGN §3.1): from explicit ids and
 * a public key, or from a terminal directory (its terminal.json and public key), writing the
 * endorsement into that directory where `tillgate enroll --dir` picks it up.
 */
import type { Clock } from '../lib/clock.js';
import { isoNow } from '../lib/clock.js';
import { TillgateError } from '../protocol/errors.js';
import { signEndorsement } from '../protocol/endorsement.js';
import { kidOf } from '../protocol/keys.js';
import type { Signer } from '../protocol/signer.js';
import { readDevicePublicKey } from '../terminal-agent/device-key.js';
import { AGENT_ERROR_CODES } from '../terminal-agent/errors.js';
import { readTerminalFile, writeEndorsement } from '../terminal-agent/terminal-dir.js';

export interface Endorsed {
  readonly store: string;
  readonly terminal: string;
  readonly kid: string;
  readonly publicKey: string;
  readonly endorsement: string;
}

/** Endorses `publicKey` (base64url raw) as `terminal` of `store`, issued now. */
export async function endorseKey(issuer: Signer, subject: { store: string; terminal: string; publicKey: string }, clock: Clock): Promise<Endorsed> {
  const endorsement = await signEndorsement(subject, issuer, isoNow(clock));
  return { ...subject, kid: kidOf(Buffer.from(subject.publicKey, 'base64url')), endorsement };
}

/** Endorses the device key of the terminal directory `dir` and stores the endorsement there. */
export async function endorseTerminalDir(issuer: Signer, dir: string, clock: Clock): Promise<Endorsed> {
  const file = await readTerminalFile(dir);
  const raw = await readDevicePublicKey(dir);
  if (kidOf(raw) !== file.kid) {
    throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `the device key in ${dir} is not the key terminal.json names (kid ${file.kid})`);
  }
  const endorsed = await endorseKey(issuer, { store: file.store, terminal: file.terminal, publicKey: raw.toString('base64url') }, clock);
  await writeEndorsement(dir, endorsed.endorsement);
  return endorsed;
}
