/**
 * Ed25519 verification on a small pool of worker threads (DESIGN §5.1: verify is the costliest
 * step, ~7,400/s per core; two cores verify about twice that). Requests gathered in one turn of
 * the event loop go to a worker as one message, so the postMessage cost is shared. Each worker
 * caches parsed keys (bounded). The worker is inline code (`eval`), so it runs the same from the
 * TypeScript sources under test and from dist/.
 */
import { Worker } from 'node:worker_threads';
import type { DecodedEvent } from '../../protocol/jws.js';
import { RejectError } from '../../protocol/errors.js';
import type { Verifier } from './verifier.js';

/** Requests per message to a worker: bounds one message's size and a worker's turn. */
const MAX_BATCH = 256;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const MAX_KEYS = 4096;
const keys = new Map();
function keyOf(x) {
  let k = keys.get(x);
  if (k === undefined) {
    if (keys.size >= MAX_KEYS) keys.clear();
    k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    keys.set(x, k);
  }
  return k;
}
parentPort.on('message', ({ id, items }) => {
  const ok = items.map(([input, signature, x]) => {
    try { return verify(null, input, keyOf(x), signature); } catch { return false; }
  });
  parentPort.postMessage({ id, ok });
});
`;

interface Pending {
  readonly item: [Buffer, Buffer, string];
  resolve(): void;
  reject(err: unknown): void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly inFlight: Map<number, readonly Pending[]>;
  load: number;
}

export class WorkerVerifier implements Verifier {
  readonly #threads: number;
  /**
   * Spawned on the first verify, not at construction: a gateway that only drains its backlog (after
   * a restart, before the terminals reconnect) does not carry idle worker isolates (issue 4, RSS
   * bound: ~7 MB each). The first events wait for the worker start once (tens of ms).
   */
  #workers: PoolWorker[] = [];
  #queue: Pending[] = [];
  #scheduled = false;
  #nextId = 1;
  #closed = false;

  constructor(threads: number) {
    if (!Number.isInteger(threads) || threads < 1) throw new TypeError('threads must be a positive integer');
    this.#threads = threads;
  }

  verify(event: DecodedEvent, publicKeyRaw: Buffer): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('verifier closed'));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item: [event.signingInput, event.signature, publicKeyRaw.toString('base64url')], resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }

  #spawn(): PoolWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const pw: PoolWorker = { worker, inFlight: new Map(), load: 0 };
    worker.unref();
    worker.on('message', ({ id, ok }: { id: number; ok: boolean[] }) => {
      const batch = pw.inFlight.get(id);
      if (batch === undefined) return;
      pw.inFlight.delete(id);
      pw.load -= batch.length;
      batch.forEach((p, i) => (ok[i] === true ? p.resolve() : p.reject(new RejectError('BAD_SIGNATURE', 'signature does not match the enrolled key'))));
    });
    worker.on('error', (err) => {
      // A crashed worker fails its requests (the publishes error and the terminals resend).
      for (const batch of pw.inFlight.values()) for (const p of batch) p.reject(err);
      pw.inFlight.clear();
      pw.load = 0;
      if (!this.#closed) this.#workers[this.#workers.indexOf(pw)] = this.#spawn();
    });
    return pw;
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#closed) {
      for (const p of this.#queue.splice(0)) p.reject(new Error('verifier closed'));
      return;
    }
    if (this.#workers.length === 0) this.#workers = Array.from({ length: this.#threads }, () => this.#spawn());
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      const target = this.#workers.reduce((a, b) => (b.load < a.load ? b : a));
      const id = this.#nextId++;
      target.inFlight.set(id, batch);
      target.load += batch.length;
      target.worker.postMessage({ id, items: batch.map((p) => p.item) });
    }
  }
}
