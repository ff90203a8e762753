/**
 * The benches' operator (DESIGN §3.1): one fixed provisioning key that the bench clouds trust, and
 * the endorsements of the bench terminals' keys. Bench figures include the cloud's endorsement
 * checks, as production does.
 */
import { createHash } from 'node:crypto';
import { signEndorsement } from '../protocol/endorsement.js';
import { KeyObjectSigner } from '../protocol/signer.js';

export const BENCH_PROVISIONING = KeyObjectSigner.fromSeed(createHash('sha256').update('bench-provisioning').digest());
/** What `tillgate cloud --provisioning-keys` takes. */
export const BENCH_PROVISIONING_PUBLIC_KEY = BENCH_PROVISIONING.publicKeyRaw.toString('base64url');

/** The endorsement of `signer`'s key as `terminal` of `store`. */
export function benchEndorsement(store: string, terminal: string, signer: KeyObjectSigner): Promise<string> {
  return signEndorsement({ store, terminal, publicKey: signer.publicKeyRaw.toString('base64url') }, BENCH_PROVISIONING, new Date().toISOString());
}
