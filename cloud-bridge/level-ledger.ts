/**
 * The embedded `Ledger` on LevelDB (classic-level), the default for one cloud-bridge process.
 * Keyspaces (sublevels): `keys` by store:terminal:kid, `heads` by store:terminal, `events` by
 * store:terminal:seq (seq zero-padded, so LevelDB's byte order is seq order). Heads are stored, so
 * opening reads nothing up front (DESIGN §5.1: no full scans at startup). Exactly-once under
 * concurrency comes from a per-terminal in-process lock plus LevelDB's single-process LOCK file;
 * durability from one `{ sync: true }` batch per append (DESIGN §4: durable before the 200).
 * Every value is sealed at rest (AES-256-GCM, lib/at-rest) with the cloud's data key.
 */
import { ClassicLevel, type BatchOptions } from 'classic-level';
import type { AbstractBatchOperation, AbstractSublevel } from 'abstract-level';
import { chainHash, EMPTY_HEAD, classifySequence, type ChainHead } from '../protocol/chain.js';
import { TillgateError, hasCode } from '../protocol/errors.js';
import { isId, isTerminalId } from '../protocol/ids.js';
import * as b64 from '../protocol/base64url.js';
import { isoNow, type Clock } from '../lib/clock.js';
import { AtRestKeeper, SealCodec, sealedJson, WriteGate, type AtRestOptions, type AtRestStatus, type KeyProvider } from '../lib/at-rest/index.js';
import { KeyedLock } from './keyed-lock.js';
import {
  LEDGER_ERROR_CODES as E,
  MAX_LEDGER_APPEND,
  MAX_LEDGER_READ,
  type AppendItem,
  type AppendOutcome,
  type EnrollOutcome,
  type KeyRecord,
  type Ledger,
  type LedgerEvent,
  type LedgerState,
  type TerminalHead,
} from './ledger.js';

interface StoredKey { publicKey: string; at: string }
interface StoredHead { seq: number; hash: string }
interface StoredEvent { seq: number; jws: string; receivedAt: string }

type Db = ClassicLevel<string, unknown>;
type Sub<V> = AbstractSublevel<Db, string | Buffer | Uint8Array, string, V>;
type Op = AbstractBatchOperation<Db, string, unknown>;
/** Typed as classic-level's own options, so the fsync cannot be dropped by a cast (DESIGN §4). */
const SYNCED: BatchOptions<string, unknown> = { sync: true };

/** 16 digits hold Number.MAX_SAFE_INTEGER, so padded seqs sort numerically. */
const SEQ_DIGITS = 16;
const pad = (seq: number) => String(seq).padStart(SEQ_DIGITS, '0');
const CHAIN_HASH = /^[A-Za-z0-9_-]{43}$/;

export interface LevelLedgerOptions {
  /** Directory of the LevelDB database; created if missing. Only one process may open it. */
  readonly dataDir: string;
  readonly clock: Clock;
  /** Data keys for encryption at rest. */
  readonly keys: KeyProvider;
  /** Pace of the background re-encryption after a key rotation or an upgrade from plain storage. */
  readonly atRest?: AtRestOptions;
}

/** Opens (creating if needed) the LevelDB ledger in `dataDir`. Fails with LEDGER_LOCKED if held. */
export async function openLevelLedger(options: LevelLedgerOptions): Promise<Ledger> {
  const db: Db = new ClassicLevel<string, unknown>(options.dataDir, { keyEncoding: 'utf8', valueEncoding: 'json' });
  try {
    await db.open();
  } catch (cause) {
    const locked = hasCode(cause, 'LEVEL_LOCKED') || hasCode((cause as { cause?: unknown }).cause, 'LEVEL_LOCKED');
    if (locked) throw new TillgateError(E.locked, `ledger directory ${options.dataDir} is held by another process`, { cause });
    throw new TillgateError(E.io, `cannot open the ledger in ${options.dataDir}`, { cause });
  }
  const codec = new SealCodec(options.keys);
  const gate = new WriteGate();
  let atRest: AtRestKeeper;
  try {
    // Before anything is read: every key the stored values need is at hand.
    atRest = await AtRestKeeper.open(db, codec, gate, options.atRest);
  } catch (err) {
    await db.close();
    throw err;
  }
  void atRest.start();
  return new LevelLedger(db, options.clock, codec, gate, atRest);
}

class LevelLedger implements Ledger {
  #state: LedgerState = 'open';
  #inflight = 0;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #lock = new KeyedLock();
  readonly #keys: Sub<StoredKey>;
  readonly #heads: Sub<StoredHead>;
  readonly #events: Sub<StoredEvent>;
  readonly #gate: WriteGate;
  readonly #atRest: AtRestKeeper;

  constructor(db: Db, clock: Clock, codec: SealCodec, gate: WriteGate, atRest: AtRestKeeper) {
    this.#db = db;
    this.#clock = clock;
    this.#gate = gate;
    this.#atRest = atRest;
    this.#keys = db.sublevel<string, StoredKey>('keys', { valueEncoding: sealedJson<StoredKey>(codec) });
    this.#heads = db.sublevel<string, StoredHead>('heads', { valueEncoding: sealedJson<StoredHead>(codec) });
    this.#events = db.sublevel<string, StoredEvent>('events', { valueEncoding: sealedJson<StoredEvent>(codec) });
  }

  /** Encryption at rest: keys in use and the background re-encryption. */
  atRestStatus(): AtRestStatus {
    return this.#atRest.status();
  }

  get state(): LedgerState {
    return this.#state;
  }

  enroll(store: string, records: readonly KeyRecord[]): Promise<EnrollOutcome[]> {
    checkStore(store);
    if (records.length > MAX_LEDGER_APPEND) throw new TypeError('too many key records in one call');
    for (const r of records) {
      checkTerminal(r.terminal);
      if (!CHAIN_HASH.test(r.kid) || r.publicKey.length !== 32) throw new TypeError('bad key record');
    }
    return this.#run(() =>
      this.#lock.withKeys(records.map((r) => `${store}:${r.terminal}`), async () => {
        const ids = records.map((r) => `${store}:${r.terminal}:${r.kid}`);
        const existing = await this.#keys.getMany(ids);
        const outcomes: EnrollOutcome[] = [];
        const ops: Op[] = [];
        const added = new Map<string, string>();
        records.forEach((r, i) => {
          const id = ids[i] as string;
          const publicKey = b64.encode(r.publicKey);
          const before = (existing[i] as StoredKey | undefined)?.publicKey ?? added.get(id);
          if (before === undefined) {
            ops.push({ type: 'put', sublevel: this.#keys, key: id, value: { publicKey, at: r.at } });
            added.set(id, publicKey);
            outcomes.push('added');
          } else outcomes.push(before === publicKey ? 'exists' : 'conflict');
        });
        if (ops.length > 0) await this.#gate.shared(() => this.#db.batch(ops, SYNCED));
        return outcomes;
      }),
    );
  }

  getKey(store: string, terminal: string, kid: string): Promise<Buffer | undefined> {
    checkStore(store);
    checkTerminal(terminal);
    return this.#run(async () => {
      const stored = await this.#keys.get(`${store}:${terminal}:${kid}`);
      if (stored === undefined) return undefined;
      const raw = typeof stored.publicKey === 'string' ? b64.decode(stored.publicKey) : undefined;
      if (raw === undefined || raw.length !== 32) throw new TillgateError(E.corrupt, `stored key of ${store}/${terminal} is malformed`);
      return raw;
    });
  }

  head(store: string, terminal: string): Promise<ChainHead> {
    checkStore(store);
    checkTerminal(terminal);
    return this.#run(() => this.#readHead(store, terminal));
  }

  listHeads(store: string, afterTerminal: string, limit: number): Promise<TerminalHead[]> {
    checkStore(store);
    checkLimit(limit);
    return this.#run(async () => {
      const out: TerminalHead[] = [];
      const range = { gt: `${store}:${afterTerminal}`, lt: `${store};`, limit };
      for await (const [key, value] of this.#heads.iterator<string, StoredHead>(range)) {
        const terminal = key.slice(store.length + 1);
        out.push({ terminal, ...checkHead(value, `${store}/${terminal}`) });
      }
      return out;
    });
  }

  append(store: string, items: readonly AppendItem[]): Promise<AppendOutcome[]> {
    checkStore(store);
    if (items.length > MAX_LEDGER_APPEND) throw new TypeError('too many items in one append');
    for (const it of items) {
      checkTerminal(it.terminal);
      if (!Number.isSafeInteger(it.seq) || it.seq < 1 || typeof it.prev !== 'string' || typeof it.jws !== 'string') {
        throw new TypeError('bad append item');
      }
    }
    if (items.length === 0) return this.#run(async () => []);
    return this.#run(() => this.#lock.withKeys(items.map((i) => `${store}:${i.terminal}`), () => this.#appendLocked(store, items)));
  }

  readEvents(store: string, terminal: string, afterSeq: number, limit: number): Promise<LedgerEvent[]> {
    checkStore(store);
    checkTerminal(terminal);
    checkLimit(limit);
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new TypeError('afterSeq must be an integer >= 0');
    return this.#run(async () => {
      const out: LedgerEvent[] = [];
      const range = { gt: `${store}:${terminal}:${pad(afterSeq)}`, lt: `${store}:${terminal};`, limit };
      for await (const [key, value] of this.#events.iterator<string, StoredEvent>(range)) {
        out.push(checkEvent(value, Number(key.slice(key.lastIndexOf(':') + 1))));
      }
      return out;
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing';
      if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      await this.#atRest.close();
      try {
        await this.#db.close();
      } finally {
        this.#state = 'closed';
      }
    })();
    return this.#closing;
  }

  async #appendLocked(store: string, items: readonly AppendItem[]): Promise<AppendOutcome[]> {
    const terminals = [...new Set(items.map((i) => i.terminal))];
    const heads = new Map<string, ChainHead>();
    for (const t of terminals) heads.set(t, await this.#readHead(store, t));
    // Events already stored before this call: fetched in one read for the byte comparison.
    const pastKeys = items.filter((i) => i.seq <= (heads.get(i.terminal) as ChainHead).seq).map((i) => eventKey(store, i));
    const pastValues = pastKeys.length > 0 ? await this.#events.getMany(pastKeys) : [];
    const stored = new Map<string, string>();
    pastKeys.forEach((k, i) => {
      const v = pastValues[i] as StoredEvent | undefined;
      if (v !== undefined) stored.set(k, checkEvent(v, Number(k.slice(k.lastIndexOf(':') + 1))).jws);
    });
    const receivedAt = isoNow(this.#clock);
    const ops: Op[] = [];
    const outcomes: AppendOutcome[] = [];
    for (const item of items) {
      const head = heads.get(item.terminal) as ChainHead;
      const verdict = classifySequence(head, item.seq, item.prev);
      const key = eventKey(store, item);
      if (verdict.kind === 'past') {
        const before = stored.get(key);
        if (before === undefined) throw new TillgateError(E.corrupt, `event ${key} is below the head but missing`);
        outcomes.push(before === item.jws ? { status: 'duplicate' } : { status: 'rejected', code: 'CONFLICT' });
      } else if (verdict.kind === 'gap') {
        outcomes.push({ status: 'rejected', code: 'SEQ_GAP', expected: verdict.expected });
      } else if (verdict.kind === 'bad-chain') {
        outcomes.push({ status: 'rejected', code: 'BAD_CHAIN' });
      } else {
        ops.push({ type: 'put', sublevel: this.#events, key, value: { seq: item.seq, jws: item.jws, receivedAt } });
        heads.set(item.terminal, { seq: item.seq, hash: chainHash(item.jws) });
        stored.set(key, item.jws);
        outcomes.push({ status: 'accepted' });
      }
    }
    if (ops.length > 0) {
      for (const t of terminals) {
        const h = heads.get(t) as ChainHead;
        ops.push({ type: 'put', sublevel: this.#heads, key: `${store}:${t}`, value: { seq: h.seq, hash: h.hash } });
      }
      await this.#gate.shared(() => this.#db.batch(ops, SYNCED));
    }
    return outcomes;
  }

  async #readHead(store: string, terminal: string): Promise<ChainHead> {
    const value = await this.#heads.get(`${store}:${terminal}`);
    return value === undefined ? EMPTY_HEAD : checkHead(value, `${store}/${terminal}`);
  }

  /** Every public call runs here: refused unless open, counted so close() can wait for it. */
  async #run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#state !== 'open') throw new TillgateError(E.closed, `ledger is ${this.#state}`);
    this.#inflight++;
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof TillgateError || cause instanceof TypeError) throw cause;
      if (hasCode(cause, 'LEVEL_DATABASE_NOT_OPEN')) throw new TillgateError(E.closed, 'ledger is closed', { cause });
      throw new TillgateError(E.io, 'ledger storage failed', { cause });
    } finally {
      if (--this.#inflight === 0 && this.#drained !== undefined) this.#drained();
    }
  }
}

function eventKey(store: string, item: { terminal: string; seq: number }): string {
  return `${store}:${item.terminal}:${pad(item.seq)}`;
}

function checkStore(store: string): void {
  if (!isId(store)) throw new TypeError('store must be an id (DESIGN §3.1)');
}
function checkTerminal(terminal: string): void {
  if (!isTerminalId(terminal)) throw new TypeError('terminal must be a terminal id (DESIGN §3.1)');
}
function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LEDGER_READ) throw new TypeError(`limit must be 1..${MAX_LEDGER_READ}`);
}

/** Read-back checks (STYLE 10): what comes out of storage is checked like outside input. */
function checkHead(value: StoredHead, what: string): ChainHead {
  if (!Number.isSafeInteger(value?.seq) || value.seq < 1 || typeof value.hash !== 'string' || !CHAIN_HASH.test(value.hash)) {
    throw new TillgateError(E.corrupt, `stored head of ${what} is malformed`);
  }
  return { seq: value.seq, hash: value.hash };
}
function checkEvent(value: StoredEvent, seqFromKey: number): LedgerEvent {
  if (value?.seq !== seqFromKey || typeof value.jws !== 'string' || typeof value.receivedAt !== 'string') {
    throw new TillgateError(E.corrupt, `stored event ${seqFromKey} is malformed`);
  }
  return { seq: value.seq, jws: value.jws, receivedAt: value.receivedAt };
}
