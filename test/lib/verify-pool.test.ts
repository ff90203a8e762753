/** Ed25519 verification on worker threads agrees with the event loop, and fails with a code when closed. */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEvent } from '../../protocol/jws.js';
import { KeyCache } from '../../protocol/keys.js';
import { inlineVerifier, workerVerifier, type Verifier, type VerifyItem } from '../../lib/verify-pool.js';
import { signChain, testSigner } from '../support/events.js';

const alice = testSigner('pool-alice');
const bob = testSigner('pool-bob');

async function items(count: number): Promise<{ items: VerifyItem[]; expected: boolean[] }> {
  const chain = await signChain(alice, 's-1', 't-1', count);
  const out: VerifyItem[] = [];
  const expected: boolean[] = [];
  chain.forEach((e, i) => {
    const d = decodeEvent(e.jws);
    const good = i % 7 !== 3;
    out.push({ signingInput: d.signingInput, signature: d.signature, publicKeyRaw: good ? alice.publicKeyRaw : bob.publicKeyRaw });
    expected.push(good);
  });
  return { items: out, expected };
}

describe('verify pool', () => {
  const verifiers: Verifier[] = [];
  afterEach(async () => {
    for (const v of verifiers.splice(0)) await v.close();
  });

  it('verify pool - workers and the event loop give the same verdicts, in order, for small and split batches', async () => {
    const pool = workerVerifier(2);
    verifiers.push(pool);
    const inline = inlineVerifier(new KeyCache());
    for (const n of [1, 10, 300]) {
      const { items: batch, expected } = await items(n);
      expect(await pool.verifyMany(batch)).toEqual(expected);
      expect(await inline.verifyMany(batch)).toEqual(expected);
    }
    expect(await pool.verifyMany([])).toEqual([]);
  });

  it('verify pool - concurrent batches each get their own answers', async () => {
    const pool = workerVerifier(2);
    verifiers.push(pool);
    const batches = await Promise.all([50, 130, 7, 200].map((n) => items(n)));
    const answers = await Promise.all(batches.map((b) => pool.verifyMany(b.items)));
    answers.forEach((a, i) => expect(a).toEqual(batches[i]!.expected));
  });

  it('verify pool - a closed pool fails with VERIFY_UNAVAILABLE', async () => {
    const pool = workerVerifier(1);
    await pool.close();
    const { items: batch } = await items(2);
    await expect(pool.verifyMany(batch)).rejects.toMatchObject({ code: 'VERIFY_UNAVAILABLE' });
  });
});
