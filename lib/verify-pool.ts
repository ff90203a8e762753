/**
 * Ed25519 verification on worker threads, shared by the gateway's ingest and the cloud-bridge's.
 * Verify is the most expensive step of ingest (~6,500/s on one core here, DESIGN §5.1 suggests
 * worker threads): a batch is split across the workers so the event loop keeps serving meanwhile. The worker source is inline (eval) and
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

/**
 * Bytes of one packed item: flag (1 = well-formed), 32-byte key, 64-byte signature, u32 length of
 * the signing input, then the signing input. A whole part of a batch travels as one transferred
 * ArrayBuffer: structured-cloning a Buffer copies its whole backing store (often the 8 KiB pool),
 * so three small Buffers per event cost far more to post than the bytes they hold.
 */
const ITEM_HEADER_BYTES = 1 + 32 + 64 + 4;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { verify, createPublicKey } = require('node:crypto');
const keys = new Map(); // bounded: a store has few keys; cleared when it passes 4,096
function keyOf(raw) {
  const id = raw.toString('latin1');
  let k = keys.get(id);
  if (!k) {
    if (keys.size >= 4096) keys.clear();
    k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    keys.set(id, k);
  }
  return k;
}
parentPort.on('message', ({ id, packed, count }) => {
  const b = Buffer.from(packed);
  const ok = new Uint8Array(count);
  let o = 0;
  for (let i = 0; i < count; i++) {
    const len = b.readUInt32LE(o + 97);
    if (b[o] === 1) {
      try { ok[i] = verify(null, b.subarray(o + 101, o + 101 + len), keyOf(b.subarray(o + 1, o + 33)), b.subarray(o + 33, o + 97)) ? 1 : 0; } catch { ok[i] = 0; }
    }
    o += 101 + len;
  }
  parentPort.postMessage({ id, ok }, [ok.buffer]);
});
`;

/** Packs items for a worker (layout: ITEM_HEADER_BYTES); malformed keys or signatures verify false. */
function pack(items: readonly VerifyItem[]): ArrayBuffer {
  let total = 0;
  for (const it of items) total += ITEM_HEADER_BYTES + it.signingInput.length;
  const out = Buffer.allocUnsafeSlow(total);
  let o = 0;
  for (const it of items) {
    const wellFormed = it.publicKeyRaw.length === 32 && it.signature.length === 64;
    out[o] = wellFormed ? 1 : 0;
    if (wellFormed) {
      it.publicKeyRaw.copy(out, o + 1);
      it.signature.copy(out, o + 33);
    } else out.fill(0, o + 1, o + 97);
    out.writeUInt32LE(it.signingInput.length, o + 97);
    it.signingInput.copy(out, o + 101);
    o += ITEM_HEADER_BYTES + it.signingInput.length;
  }
  return out.buffer as ArrayBuffer;
}

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
  pending: Map<number, { resolve: (ok: Uint8Array) => void; reject: (err: Error) => void }>;
}

/**
 * A fixed pool of `threads` workers; a worker that dies fails its tasks (VERIFY_UNAVAILABLE) and is
 * replaced. Workers start on the first call, not here: a process that only drains a backlog (a
 * gateway after a restart, before its terminals reconnect) carries no idle isolates (~7 MB each).
 */
export function workerVerifier(threads: number): Verifier {
  if (!Number.isInteger(threads) || threads < 1) throw new TypeError('threads must be >= 1');
  let nextId = 0;
  let rotation = 0;
  let closed = false;
  const slots: Slot[] = [];
  const spawnSlot = (index: number): Slot => {
    const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true }), pending: new Map() };
    slot.worker.unref();
    slot.worker.on('message', ({ id, ok }: { id: number; ok: Uint8Array }) => {
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
  const ensureStarted = () => {
    for (let i = slots.length; i < threads; i++) slots.push(spawnSlot(i));
  };

  const run = (slot: Slot, items: readonly VerifyItem[]) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const id = nextId++;
      const packed = pack(items);
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, packed, count: items.length }, [packed]);
    });

  return {
    async verifyMany(items) {
      if (closed) throw new TillgateError('VERIFY_UNAVAILABLE', 'verifier is closed');
      if (items.length === 0) return [];
      ensureStarted();
      const parts = Math.max(1, Math.min(slots.length, Math.floor(items.length / MIN_ITEMS_PER_WORKER)));
      const size = Math.ceil(items.length / parts);
      const first = rotation++;
      const chunks = await Promise.all(
        Array.from({ length: parts }, (_, i) => run(slots[(first + i) % slots.length] as Slot, items.slice(i * size, (i + 1) * size))),
      );
      return chunks.flatMap((ok) => Array.from(ok, (v) => v === 1));
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
