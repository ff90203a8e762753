/**
 * Keeping every stored value sealed with the current key: which keys a database still uses, and a
 * background pass that re-seals the rest in bounded chunks.
 *
 * The database records, in its own small `at-rest` keyspace (ids only, never keys), the set of key
 * ids its values may be sealed with and whether plain values (written before encryption at rest) may
 * remain. On open:
 *   - a key in that set that the key provider lacks stops the program (AT_REST_KEY_MISSING, naming
 *     the key): better than starting and failing on the first old record;
 *   - the current key joins the set (synced) before anything is written with it;
 *   - when the set is more than the current key, or plain values may remain, a background pass
 *     walks the whole database in chunks of `chunkEntries`, each under the store's `WriteGate`
 *     exclusively (so it never races the store's own writes), re-seals what is not sealed with the
 *     current key, pauses `pauseMs` between chunks, then compacts the database (so old versions
 *     leave the table files and the log) and records the set as just the current key.
 * A power cut mid-pass loses nothing: re-sealed values decrypt the same, old ones stay readable
 * with keys still in the set, and the pass starts again at the next open.
 */
import type { BatchOptions, ClassicLevel } from 'classic-level';
import { TillgateError } from '../../protocol/errors.js';
import type { Logger } from '../logger.js';
import { inspect, type SealCodec } from './seal.js';
import type { WriteGate } from './write-gate.js';

/** Entries re-sealed per exclusive section: short enough that a waiting write barely notices (~ms). */
export const DEFAULT_REENCRYPT_CHUNK_ENTRIES = 256;
/** Pause between chunks, so the pass takes a small share of a 2-core box's disk and CPU. */
export const DEFAULT_REENCRYPT_PAUSE_MS = 20;
/** Name of the keyspace holding the at-rest state (not sealed: it holds key ids only). */
export const AT_REST_SECTION = 'at-rest';
const STATE_KEY = 'state';
/** classic-level's own option type, so the fsync of the state record cannot be lost to a cast. */
const SYNCED: BatchOptions<string, unknown> = { sync: true };

export const AT_REST_STATE_ERROR_CODES = { keyMissing: 'AT_REST_KEY_MISSING', stateInvalid: 'AT_REST_STATE_INVALID' } as const;

interface StoredState {
  readonly v: 1;
  /** Key ids values may be sealed with. */
  readonly keysInUse: readonly string[];
  /** Plain values written before encryption at rest may remain. */
  readonly plainPossible: boolean;
  readonly completedAt?: string;
}

export type ReencryptState = 'idle' | 'running' | 'done' | 'failed' | 'stopped';

export interface AtRestStatus {
  readonly currentKey: string;
  readonly keysInUse: readonly string[];
  readonly plainPossible: boolean;
  readonly pass: ReencryptState;
  readonly scanned: number;
  readonly resealed: number;
  readonly error?: string;
}

export interface AtRestOptions {
  readonly chunkEntries?: number;
  readonly pauseMs?: number;
  readonly logger?: Logger;
  /** Injected for tests: how to wait between chunks. */
  readonly pause?: (ms: number) => Promise<void>;
}

type AnyLevel = ClassicLevel<string, unknown> | ClassicLevel<string, string>;
type RawDb = ClassicLevel<Buffer, Buffer>;

export class AtRestKeeper {
  readonly #db: RawDb;
  readonly #codec: SealCodec;
  readonly #gate: WriteGate;
  readonly #statePrefix: Buffer;
  readonly #chunk: number;
  readonly #pauseMs: number;
  readonly #pause: (ms: number) => Promise<void>;
  readonly #logger: Logger | undefined;
  #stored: StoredState;
  #pass: ReencryptState = 'idle';
  #scanned = 0;
  #resealed = 0;
  #error: string | undefined;
  #running: Promise<void> | undefined;
  #stop = false;

  private constructor(db: RawDb, codec: SealCodec, gate: WriteGate, stored: StoredState, options: AtRestOptions) {
    this.#db = db;
    this.#codec = codec;
    this.#gate = gate;
    this.#statePrefix = Buffer.from(`!${AT_REST_SECTION}!`, 'utf8');
    this.#stored = stored;
    this.#chunk = options.chunkEntries ?? DEFAULT_REENCRYPT_CHUNK_ENTRIES;
    this.#pauseMs = options.pauseMs ?? DEFAULT_REENCRYPT_PAUSE_MS;
    this.#pause = options.pause ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    this.#logger = options.logger;
  }

  /**
   * Checks the keys against what the (open) database needs and records the current key, before the
   * store writes anything. Throws AT_REST_KEY_MISSING when a needed key is not available.
   */
  static async open(db: AnyLevel, codec: SealCodec, gate: WriteGate, options: AtRestOptions = {}): Promise<AtRestKeeper> {
    const raw = db as unknown as RawDb;
    const section = raw.sublevel<string, unknown>(AT_REST_SECTION, { keyEncoding: 'utf8', valueEncoding: 'json' });
    const found = await section.get(STATE_KEY);
    const current = codec.keys.current().id;
    let stored: StoredState;
    if (found === undefined) {
      // First open with encryption at rest: a database with data in it was written by an earlier
      // release, in plain text.
      stored = { v: 1, keysInUse: [current], plainPossible: await hasData(raw, Buffer.from(`!${AT_REST_SECTION}!`)) };
    } else {
      const prev = checkState(found);
      const missing = prev.keysInUse.filter((id) => codec.keys.byId(id) === undefined);
      if (missing.length > 0) {
        throw new TillgateError(
          AT_REST_STATE_ERROR_CODES.keyMissing,
          `stored data is sealed with data key ${missing.join(', ')}, which the data key file does not hold (it holds ${codec.keys.ids().join(', ')}); restore the key file that has it`,
        );
      }
      stored = { v: 1, keysInUse: prev.keysInUse.includes(current) ? prev.keysInUse : [current, ...prev.keysInUse], plainPossible: prev.plainPossible };
    }
    if (found === undefined || stored.keysInUse !== (found as StoredState).keysInUse) await writeState(raw, stored);
    return new AtRestKeeper(raw, codec, gate, stored, options);
  }

  /** True when values sealed with other keys, or plain values, may remain. */
  get needsPass(): boolean {
    return this.#stored.plainPossible || this.#stored.keysInUse.length > 1;
  }

  status(): AtRestStatus {
    return {
      currentKey: this.#codec.keys.current().id,
      keysInUse: this.#stored.keysInUse,
      plainPossible: this.#stored.plainPossible,
      pass: this.#pass,
      scanned: this.#scanned,
      resealed: this.#resealed,
      ...(this.#error === undefined ? {} : { error: this.#error }),
    };
  }

  /** Starts the background pass when one is needed; resolves when it ends (callers need not wait). */
  start(): Promise<void> {
    if (!this.needsPass) {
      this.#pass = 'done';
      return Promise.resolve();
    }
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Stops after the current chunk. */
  async close(): Promise<void> {
    this.#stop = true;
    await this.#running;
  }

  async #run(): Promise<void> {
    this.#pass = 'running';
    const current = this.#codec.keys.current().id;
    this.#logger?.info('re-sealing stored values with the current data key', { currentKey: current, keysInUse: this.#stored.keysInUse, plainPossible: this.#stored.plainPossible });
    let after: Buffer | undefined;
    try {
      for (;;) {
        if (this.#stop) {
          this.#pass = 'stopped';
          return;
        }
        const next = await this.#gate.exclusive(() => this.#chunkAfter(after, current));
        if (next === undefined) break;
        after = next;
        await this.#pause(this.#pauseMs);
      }
      // Old versions of re-sealed values stay in table files and the log until compaction drops them.
      await this.#db.compactRange(Buffer.alloc(0), Buffer.alloc(64, 0xff), { keyEncoding: 'buffer' });
      const done: StoredState = { v: 1, keysInUse: [current], plainPossible: false, completedAt: new Date().toISOString() };
      await this.#gate.exclusive(() => writeState(this.#db, done));
      this.#stored = done;
      this.#pass = 'done';
      this.#logger?.info('every stored value is sealed with the current data key', { currentKey: current, scanned: this.#scanned, resealed: this.#resealed });
    } catch (err) {
      this.#pass = 'failed';
      this.#error = (err as { code?: string }).code ?? 'AT_REST_PASS_FAILED';
      this.#logger?.error('re-sealing stored values failed; it runs again at the next start', { err });
    }
  }

  /** One chunk: re-seal up to `chunkEntries` values after `after`; the last key seen, or undefined at the end. */
  async #chunkAfter(after: Buffer | undefined, current: string): Promise<Buffer | undefined> {
    const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [];
    let last: Buffer | undefined;
    const range = after === undefined ? {} : { gt: after };
    for await (const [key, value] of this.#db.iterator({ ...range, limit: this.#chunk, keyEncoding: 'buffer', valueEncoding: 'buffer' })) {
      last = key;
      this.#scanned++;
      if (key.subarray(0, this.#statePrefix.length).equals(this.#statePrefix)) continue;
      const info = inspect(value);
      if (info.kind === 'sealed' && info.keyId === current) continue;
      ops.push({ type: 'put', key, value: this.#codec.seal(this.#codec.open(value)) });
    }
    if (ops.length > 0) {
      // Not synced: a re-sealed value lost to a power cut is still there in its old form, readable.
      await this.#db.batch(ops, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      this.#resealed += ops.length;
    }
    return last;
  }
}

/** The state record, synced: it must be on disk before any value sealed with a new key is. */
async function writeState(db: RawDb, state: StoredState): Promise<void> {
  const section = db.sublevel<string, unknown>(AT_REST_SECTION, { keyEncoding: 'utf8', valueEncoding: 'json' });
  await db.batch<string, unknown>([{ type: 'put', sublevel: section, key: STATE_KEY, value: state }], SYNCED);
}

async function hasData(db: RawDb, skipPrefix: Buffer): Promise<boolean> {
  for await (const key of db.keys({ keyEncoding: 'buffer', limit: 2 })) {
    if (!key.subarray(0, skipPrefix.length).equals(skipPrefix)) return true;
  }
  return false;
}

function checkState(value: unknown): StoredState {
  const v = value as Partial<StoredState> | undefined;
  const ids = v?.keysInUse;
  if (v?.v !== 1 || !Array.isArray(ids) || ids.length === 0 || ids.length > 64 || !ids.every((id) => typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id)) || typeof v.plainPossible !== 'boolean') {
    throw new TillgateError(AT_REST_STATE_ERROR_CODES.stateInvalid, 'the stored encryption-at-rest state is damaged');
  }
  return { v: 1, keysInUse: ids, plainPossible: v.plainPossible };
}
