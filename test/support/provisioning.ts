/**
 * The test suite's operator (DESIGN §3.1): one deterministic provisioning key, the public key every
 * test cloud trusts, and endorsements of test terminal keys, so shared helpers can endorse every
 * enrollment without the callers changing.
 */
import { writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { endorsementSigningInput } from '../../protocol/endorsement.js';
import { privateKeyFromSeed } from '../../protocol/keys.js';
import { KeyObjectSigner } from '../../protocol/signer.js';

const seedOf = (name: string): Buffer => createHash('sha256').update(name).digest();
const TEST_SEED = seedOf('tillgate-test-provisioning-key');
const ROGUE_SEED = seedOf('tillgate-rogue-provisioning-key');

export const TEST_PROVISIONING = KeyObjectSigner.fromSeed(TEST_SEED);
/** base64url raw public key: what `--provisioning-keys` takes. */
export const TEST_PROVISIONING_PUBLIC_KEY = TEST_PROVISIONING.publicKeyRaw.toString('base64url');
/** A fixed issue time keeps endorsements (and so request bodies) repeatable. */
export const TEST_ENDORSEMENT_IAT = '2026-11-20T08:00:00Z';

/** A key that is NOT a provisioning key anyone trusts: what an attacker signs with. */
export const ROGUE_PROVISIONING = KeyObjectSigner.fromSeed(ROGUE_SEED);

/**
 * The endorsement of `key` (a signer or base64url raw public key) as `terminal` of `store`, signed
 * by `issuer` (the test provisioning key unless given). Synchronous, so helpers that build bodies stay so.
 */
export function endorse(store: string, terminal: string, key: KeyObjectSigner | string, issuer: KeyObjectSigner = TEST_PROVISIONING): string {
  const publicKey = typeof key === 'string' ? key : key.publicKeyRaw.toString('base64url');
  const input = endorsementSigningInput({ store, terminal, publicKey }, issuer.kid, TEST_ENDORSEMENT_IAT);
  return `${input}.${issuer.signSync(Buffer.from(input, 'latin1')).toString('base64url')}`;
}

/** Writes the test provisioning key (or the rogue one) as a PEM file of mode 0600, for CLI tests; returns the path. */
export async function writeTestProvisioningKeyFile(path: string, which: 'test' | 'rogue' = 'test'): Promise<string> {
  const pem = privateKeyFromSeed(which === 'test' ? TEST_SEED : ROGUE_SEED).export({ format: 'pem', type: 'pkcs8' });
  await writeFile(path, pem, { mode: 0o600 });
  return path;
}
