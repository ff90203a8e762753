/**
 * Regenerates test/protocol/vectors.json: `npx tsx test/protocol/generate-vectors.ts`.
 * Ed25519 signatures are deterministic (RFC 8032), so the same seed and payloads always give the
 * same JWS strings; the committed file is the reference other implementations test against.
 */
import { writeFileSync } from 'node:fs';
import { chainHash } from '../../protocol/chain.js';
import { signEvent } from '../../protocol/jws.js';
import { KeyObjectSigner } from '../../protocol/signer.js';
import { samplePayload } from '../support/events.js';

const seed = Buffer.alloc(32);
for (let i = 0; i < 32; i++) seed[i] = i;
const signer = KeyObjectSigner.fromSeed(seed);
const events = [];
let prev = '';
for (let seq = 1; seq <= 3; seq++) {
  const payload = samplePayload('s-1', 't-1', seq, prev, seq === 2 ? { mode: 'offline', ref: 'psp-42', tip: 150 } as never : {});
  const jws = await signEvent(payload, signer);
  prev = chainHash(jws);
  events.push({ payload, jws, chainHash: prev });
}
const vectors = {
  description: 'tillgate wire contract v1 test vectors (DESIGN §3.2): Ed25519 seed 00..1f, chain of 3 events of s-1/t-1',
  privateKeySeedHex: seed.toString('hex'),
  publicKey: signer.publicKeyRaw.toString('base64url'),
  kid: signer.kid,
  events,
};
writeFileSync(new URL('./vectors.json', import.meta.url), JSON.stringify(vectors, null, 2) + '\n');
console.log(`wrote ${events.length} events, kid ${signer.kid}`);
