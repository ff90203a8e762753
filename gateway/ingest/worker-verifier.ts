/**
 * The gateway's signature step on worker threads (DESIGN §5.1: verify is the costliest step,
 * ~7,400/s per core). Publishes verify one at a time; the verifies asked for in one turn of the
 * event loop (a socket read's publishes, many terminals' at once) go to the shared worker pool
 * (lib/verify-pool.ts, the same one the cloud-bridge uses) as one batch, so the per-message cost
 * is shared. The pool's workers start with the first event.
 */
import { RejectError, TillgateError } from '../../protocol/errors.js';
import type { DecodedEvent } from '../../protocol/jws.js';
import { workerVerifier, type Verifier as VerifyPool, type VerifyItem } from '../../lib/verify-pool.js';
import type { Verifier } from './verifier.js';

/** Verifies per batch: bounds one message to the workers and one worker's turn. */
const MAX_BATCH = 256;

interface Pending {
  readonly item: VerifyItem;
  resolve(): void;
  reject(err: unknown): void;
}

export class WorkerVerifier implements Verifier {
  readonly #pool: VerifyPool;
  #queue: Pending[] = [];
  #scheduled = false;
  #closed = false;

  constructor(threads: number) {
    this.#pool = workerVerifier(threads);
  }

  verify(event: DecodedEvent, publicKeyRaw: Buffer): Promise<void> {
    if (this.#closed) return Promise.reject(new TillgateError('VERIFY_UNAVAILABLE', 'verifier closed'));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item: { signingInput: event.signingInput, signature: event.signature, publicKeyRaw }, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool.close();
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      if (this.#closed) {
        for (const p of batch) p.reject(new TillgateError('VERIFY_UNAVAILABLE', 'verifier closed'));
        continue;
      }
      this.#pool.verifyMany(batch.map((p) => p.item)).then(
        (ok) => batch.forEach((p, i) => (ok[i] === true ? p.resolve() : p.reject(new RejectError('BAD_SIGNATURE', 'signature does not match the enrolled key')))),
        // A dead worker fails its requests: the publishes error and the terminals resend.
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      );
    }
  }
}
