/**
 * The witness: a small file beside the event store saying how far the store had got (queue head,
 * forward cursor, every terminal's chain head) at some point after it was durable. LevelDB cannot
 * tell that its own write-ahead log was truncated or deleted (it then opens as it was before those
 * writes, consistently, without a word), so something outside the log must remember: at start the
 * store is compared with the witness and every acknowledged event it no longer holds is named.
 *
 * Written after commits are durable, so it never claims more than was acknowledged; at most once
 * per `intervalMs` while the store changes, and at close (a graceful stop leaves an exact witness).
 * Each write goes to a temp file, is fsync'd and renamed over the old one (then the directory is
 * fsync'd), so a crash leaves the old witness or the new one, never half of one. LevelDB ignores
 * files it does not name itself, so the file lives in the store's directory.
 */
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { ChainHead } from '../../protocol/chain.js';
import { terminalIdSchema } from '../../protocol/ids.js';

export const WITNESS_FILE = 'tillgate-witness.json';
/** How often a changing store is witnessed: the window of acks a truncated log could take unseen. */
export const DEFAULT_WITNESS_INTERVAL_MS = 1_000;
/** A witness larger than this is not ours (10,000 terminals are ~1 MB). */
const MAX_WITNESS_BYTES = 8 * 1024 * 1024;

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const headSchema = z.object({ seq: count, hash: z.string().max(64) });

const witnessSchema = z.object({
  v: z.literal(1),
  writtenAtMs: count,
  queueHead: count,
  cursor: count,
  heads: z.record(terminalIdSchema, headSchema),
});
export type Witness = z.infer<typeof witnessSchema>;
export type WitnessState = Omit<Witness, 'v' | 'writtenAtMs'>;

export type WitnessRead = { readonly kind: 'none' } | { readonly kind: 'unreadable'; readonly reason: string } | { readonly kind: 'ok'; readonly witness: Witness };

export async function readWitness(dir: string): Promise<WitnessRead> {
  let text: string;
  try {
    const bytes = await readFile(join(dir, WITNESS_FILE));
    if (bytes.length > MAX_WITNESS_BYTES) return { kind: 'unreadable', reason: `larger than ${MAX_WITNESS_BYTES} bytes` };
    text = bytes.toString('utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'unreadable', reason: String((err as Error).message) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'unreadable', reason: 'not JSON' };
  }
  const parsed = witnessSchema.safeParse(json);
  return parsed.success ? { kind: 'ok', witness: parsed.data } : { kind: 'unreadable', reason: 'not a witness' };
}

/** Writes the witness atomically and durably (temp file, fsync, rename, directory fsync). */
export async function writeWitness(dir: string, witness: Witness): Promise<void> {
  const file = join(dir, WITNESS_FILE);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(witness));
  const fd = await open(tmp, 'r+');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
  await rename(tmp, file);
  const dirFd = await open(dir, 'r');
  try {
    await dirFd.sync();
  } finally {
    await dirFd.close();
  }
}

function sameState(a: WitnessState, b: WitnessState): boolean {
  if (a.queueHead !== b.queueHead || a.cursor !== b.cursor) return false;
  const ak = Object.keys(a.heads);
  if (ak.length !== Object.keys(b.heads).length) return false;
  return ak.every((t) => a.heads[t]?.seq === b.heads[t]?.seq && a.heads[t]?.hash === b.heads[t]?.hash);
}

/** Keeps the witness up to date while the gateway runs. */
export class WitnessKeeper {
  readonly #dir: string;
  readonly #snapshot: () => WitnessState;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;
  #last: WitnessState | null = null;
  #writing: Promise<void> = Promise.resolve();
  #state: 'created' | 'running' | 'closed' = 'created';

  constructor(dir: string, snapshot: () => WitnessState, clock: Clock, logger: Logger, intervalMs = DEFAULT_WITNESS_INTERVAL_MS) {
    this.#dir = dir;
    this.#snapshot = snapshot;
    this.#clock = clock;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** Writes now and then every `intervalMs` while something changed. */
  async start(): Promise<void> {
    if (this.#state !== 'created') throw new TypeError(`witness cannot start from ${this.#state}`);
    this.#state = 'running';
    await this.flush();
    this.#timer = setInterval(() => void this.flush(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Writes the current state if it changed since the last write; one write at a time. */
  flush(): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      const state = this.#snapshot();
      if (this.#last !== null && sameState(this.#last, state)) return;
      try {
        await writeWitness(this.#dir, { v: 1, writtenAtMs: this.#clock.now(), ...state });
        this.#last = state;
      } catch (err) {
        this.#logger.warn('witness not written', { err });
      }
    });
    return this.#writing;
  }

  /** A last, exact write (the store is still open), then no more. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'closed';
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    if (wasRunning) await this.flush();
    await this.#writing;
  }
}

/** The heads map of a witness from the store's heads. */
export function headsOf(terminals: readonly string[], head: (terminal: string) => ChainHead): Record<string, ChainHead> {
  const out: Record<string, ChainHead> = {};
  for (const t of terminals) {
    const h = head(t);
    if (h.seq > 0) out[t] = { seq: h.seq, hash: h.hash };
  }
  return out;
}
