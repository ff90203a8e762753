/**
 * Ed25519 verification on worker threads. Verify is the most expensive step of ingest (~6,500/s on
 * one core here, DESIGN §5.1 suggests worker threads): a 1,000-event batch is split across the
 * workers so the event loop keeps serving HTTP meanwhile. The worker source is inline (eval) and
 * uses only node:crypto, so it runs the same from dist/, tsx and vitest.
 */
import { Worker } from 'node:worker_threads';
import { verify } from 'node:crypto';
import { TillgateError } from '../protocol/errors.js';
import type { KeyCache } from '../protocol/keys.js';

export interface VerifyItem {
  readonly signingInput: Buffer;
  readonly signature: Buffer;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKeyRaw: Buffer;
}

/** Checks signatures; `true` where the signature matches. */
export interface Verifier {
  verifyMany(items: readonly VerifyItem[]): Promise<boolean[]>;
  close(): Promise<void>;
}

/** Below this many items a batch is verified in one worker: splitting costs more than it saves. */
const MIN_ITEMS_PER_WORKER = 64;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { verify, createPublicKey } = require('node:crypto');
const keys = new Map(); // bounded: a store has few keys; cleared when it passes 4,096
function keyOf(raw) {
  const id = Buffer.from(raw).toString('base64url');
  let k = keys.get(id);
  if (!k) {
    if (keys.size >= 4096) keys.clear();
    k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: id }, format: 'jwk' });
    keys.set(id, k);
  }
  return k;
}
parentPort.on('message', ({ id, items }) => {
  const ok = items.map((it) => {
    try { return verify(null, Buffer.from(it.signingInput), keyOf(it.publicKeyRaw), Buffer.from(it.signature)); } catch { return false; }
  });
  parentPort.postMessage({ id, ok });
});
`;

/** Verifies on the calling thread (threads = 0): tests and the smallest machines. */
export function inlineVerifier(keyCache: KeyCache): Verifier {
  return {
    async verifyMany(items) {
      return items.map((it) => {
        try {
          return verify(null, it.signingInput, keyCache.get(it.publicKeyRaw), it.signature);
        } catch {
          return false;
        }
      });
    },
    async close() {},
  };
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (ok: boolean[]) => void; reject: (err: Error) => void }>;
}

/** A fixed pool of `threads` workers; a worker that dies fails its tasks (HTTP 503) and is replaced. */
export function workerVerifier(threads: number): Verifier {
  if (!Number.isInteger(threads) || threads < 1) throw new TypeError('threads must be >= 1');
  let nextId = 0;
  let rotation = 0;
  let closed = false;
  const slots: Slot[] = [];
  const spawnSlot = (index: number): Slot => {
    const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true }), pending: new Map() };
    slot.worker.unref();
    slot.worker.on('message', ({ id, ok }: { id: number; ok: boolean[] }) => {
      slot.pending.get(id)?.resolve(ok);
      slot.pending.delete(id);
    });
    const fail = (cause: unknown) => {
      for (const p of slot.pending.values()) p.reject(new TillgateError('VERIFY_UNAVAILABLE', 'a verify worker stopped', { cause }));
      slot.pending.clear();
      if (!closed && slots[index] === slot) slots[index] = spawnSlot(index);
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', fail);
    return slot;
  };
  for (let i = 0; i < threads; i++) slots.push(spawnSlot(i));

  const run = (slot: Slot, items: readonly VerifyItem[]) =>
    new Promise<boolean[]>((resolve, reject) => {
      const id = nextId++;
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, items });
    });

  return {
    async verifyMany(items) {
      if (closed) throw new TillgateError('VERIFY_UNAVAILABLE', 'verifier is closed');
      if (items.length === 0) return [];
      const parts = Math.max(1, Math.min(slots.length, Math.floor(items.length / MIN_ITEMS_PER_WORKER)));
      const size = Math.ceil(items.length / parts);
      const first = rotation++;
      const chunks = await Promise.all(
        Array.from({ length: parts }, (_, i) => run(slots[(first + i) % slots.length] as Slot, items.slice(i * size, (i + 1) * size))),
      );
      return chunks.flat();
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
