/**
 * The signature step, behind an interface so a worker-thread pool can replace it (DESIGN §5.1:
 * verify is the costliest step, ~7,400/s per core with a cached KeyObject).
 */
import type { DecodedEvent } from '../../protocol/jws.js';
import { verifyEventSignature } from '../../protocol/jws.js';
import { KeyCache } from '../../protocol/keys.js';

export interface Verifier {
  /** Throws (or rejects with) RejectError BAD_SIGNATURE when the signature does not match. */
  verify(event: DecodedEvent, publicKeyRaw: Buffer): void | Promise<void>;
  close(): Promise<void>;
}

/** Verifies on the event loop with cached KeyObjects (parsing a key costs ~40 % of a verify). */
export class InlineVerifier implements Verifier {
  readonly #keys: KeyCache;
  constructor(keyCacheEntries?: number) {
    this.#keys = new KeyCache(keyCacheEntries);
  }
  verify(event: DecodedEvent, publicKeyRaw: Buffer): void {
    verifyEventSignature(event, this.#keys.get(publicKeyRaw));
  }
  async close(): Promise<void> {}
}
