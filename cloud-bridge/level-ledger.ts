/**
 * The embedded `Ledger` on LevelDB (classic-level), the default for one cloud-bridge process.
 * Keyspaces (sublevels): `keys` by store:terminal:kid (with the revocation point), `heads` by
 * store:terminal, `events` by store:terminal:seq (seq zero-padded, so LevelDB's byte order is seq
 * order) holding the JWS, its decoded fields and its feed position, `ids` by store:lower-cased
 * event id (the idempotency key, unique per store), `feed` by zero-padded position → event key, and
 * `meta` (the feed head). Heads and the feed head are stored, so opening reads one key (DESIGN
 * §5.1: no full scans at startup).
 *
 * Exactly-once under concurrency comes from in-process locks plus LevelDB's single-process LOCK
 * file: per-terminal locks order appends with enrollments and revocations, and one commit lock
 * runs the read-classify-write of appends one at a time. One at a time is what the feed needs (a
 * position is taken and written in the same synced batch, so positions become visible in order)
 * and what event-id uniqueness across a store's terminals needs; it costs little, because a store's
 * gateway has one batch in flight and a batch is one synced write (DESIGN §4: durable before the 200).
 * Every value of every keyspace is sealed at rest (AES-256-GCM, lib/at-rest) with the cloud's data key.
 */
import { ClassicLevel, type BatchOptions } from 'classic-level';
import type { AbstractBatchOperation, AbstractSublevel } from 'abstract-level';
import { EMPTY_HEAD, type ChainHead } from '../protocol/chain.js';
import { TillgateError, hasCode } from '../protocol/errors.js';
import * as b64 from '../protocol/base64url.js';
import { isoNow, type Clock } from '../lib/clock.js';
import { AtRestKeeper, SealCodec, sealedJson, sealedUtf8, WriteGate, type AtRestOptions, type AtRestStatus, type KeyProvider } from '../lib/at-rest/index.js';
import { idKey, keyKey, planAppend } from './append-rules.js';
import type { FeedEntry, FeedEventFields } from './feed.js';
import { checkEvent, checkHead, checkPublicKey, checkRevokedAfter, feedEntry, keyView, type StoredEvent, type StoredHead, type StoredKey } from './level-rows.js';
import { KeyedLock } from './keyed-lock.js';
import {
  checkAppendItems, checkFeedRead, checkKeyRecords, checkKeyRefs, checkKid, checkLimit, checkSeqBound, checkStore, checkTerminal, storableText,
} from './ledger-args.js';
import {
  LEDGER_ERROR_CODES as E,
  MAX_LEDGER_READ,
  type AppendItem,
  type AppendOutcome,
  type EnrollOutcome,
  type KeyRecord,
  type KeyRef,
  type KeyState,
  type KeyView,
  type Ledger,
  type LedgerEvent,
  type LedgerState,
  type TerminalHead,
} from './ledger.js';

type Db = ClassicLevel<string, unknown>;
type Sub<V> = AbstractSublevel<Db, string | Buffer | Uint8Array, string, V>;
type Op = AbstractBatchOperation<Db, string, unknown>;
/** Typed as classic-level's own options, so the fsync cannot be dropped by a cast (DESIGN §4). */
const SYNCED: BatchOptions<string, unknown> = { sync: true };

/** 16 digits hold Number.MAX_SAFE_INTEGER, so padded seqs and positions sort numerically. */
const DIGITS = 16;
const pad = (n: number) => String(n).padStart(DIGITS, '0');
const FEED_HEAD_KEY = 'feedHead';
/** The one key of the commit lock (see the file comment). */
const COMMIT = 'commit';

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
  let feedHead: number;
  try {
    // Before anything is read: every key the stored values need is at hand.
    atRest = await AtRestKeeper.open(db, codec, gate, options.atRest);
    const stored = await db.sublevel<string, number>('meta', { valueEncoding: sealedJson<number>(codec) }).get(FEED_HEAD_KEY);
    feedHead = stored === undefined ? 0 : stored;
  } catch (err) {
    await db.close();
    if (err instanceof TillgateError) throw err;
    throw new TillgateError(E.io, `cannot read the ledger in ${options.dataDir}`, { cause: err });
  }
  if (!Number.isSafeInteger(feedHead) || feedHead < 0) {
    await atRest.close();
    await db.close();
    throw new TillgateError(E.corrupt, 'stored feed head is malformed');
  }
  void atRest.start();
  return new LevelLedger(db, options.clock, feedHead, codec, gate, atRest);
}

class LevelLedger implements Ledger {
  #state: LedgerState = 'open';
  #inflight = 0;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #feedHead: number;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #terminalLock = new KeyedLock();
  readonly #commitLock = new KeyedLock();
  readonly #keys: Sub<StoredKey>;
  readonly #heads: Sub<StoredHead>;
  readonly #events: Sub<StoredEvent>;
  readonly #ids: Sub<string>;
  readonly #feed: Sub<string>;
  readonly #meta: Sub<number>;
  readonly #gate: WriteGate;
  readonly #atRest: AtRestKeeper;

  constructor(db: Db, clock: Clock, feedHead: number, codec: SealCodec, gate: WriteGate, atRest: AtRestKeeper) {
    this.#db = db;
    this.#clock = clock;
    this.#feedHead = feedHead;
    this.#gate = gate;
    this.#atRest = atRest;
    this.#keys = db.sublevel<string, StoredKey>('keys', { valueEncoding: sealedJson<StoredKey>(codec) });
    this.#heads = db.sublevel<string, StoredHead>('heads', { valueEncoding: sealedJson<StoredHead>(codec) });
    this.#events = db.sublevel<string, StoredEvent>('events', { valueEncoding: sealedJson<StoredEvent>(codec) });
    // The index and feed values are keys of other records, sealed all the same: the background
    // re-encryption seals every value of the database, so every keyspace must read sealed values.
    this.#ids = db.sublevel<string, string>('ids', { valueEncoding: sealedUtf8(codec) });
    this.#feed = db.sublevel<string, string>('feed', { valueEncoding: sealedUtf8(codec) });
    this.#meta = db.sublevel<string, number>('meta', { valueEncoding: sealedJson<number>(codec) });
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
    checkKeyRecords(records);
    return this.#run(() =>
      this.#terminalLock.withKeys(records.map((r) => `${store}:${r.terminal}`), async () => {
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
            ops.push({ type: 'put', sublevel: this.#keys, key: id, value: { publicKey, at: storableText(r.at) } });
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
    checkKid(kid);
    return this.#run(async () => (await this.#getKeys(store, [{ terminal, kid }]))[0]?.publicKey);
  }

  getKeys(store: string, refs: readonly KeyRef[]): Promise<Array<KeyState | undefined>> {
    checkStore(store);
    checkKeyRefs(refs);
    return this.#run(() => this.#getKeys(store, refs));
  }

  listKeys(store: string, terminal: string): Promise<KeyView[]> {
    checkStore(store);
    checkTerminal(terminal);
    return this.#run(async () => {
      const out: KeyView[] = [];
      const prefix = `${store}:${terminal}:`;
      for await (const [key, value] of this.#keys.iterator<string, StoredKey>({ gt: prefix, lt: `${store}:${terminal};`, limit: MAX_LEDGER_READ })) {
        out.push(keyView(terminal, key.slice(prefix.length), value));
      }
      return out;
    });
  }

  revokeKey(store: string, terminal: string, kid: string, afterSeq?: number): Promise<KeyView | undefined> {
    checkStore(store);
    checkTerminal(terminal);
    checkKid(kid);
    if (afterSeq !== undefined) checkSeqBound(afterSeq, 'afterSeq');
    return this.#run(() =>
      // Under the terminal's lock: the point is the head as appends see it, not a moment before.
      this.#terminalLock.withKeys([`${store}:${terminal}`], async () => {
        const id = `${store}:${terminal}:${kid}`;
        const stored = await this.#keys.get(id);
        if (stored === undefined) return undefined;
        const point = afterSeq ?? (await this.#readHead(store, terminal)).seq;
        const before = stored.revokedAfterSeq;
        if (before !== undefined && before <= point) return keyView(terminal, kid, stored);
        const next: StoredKey = { ...stored, revokedAfterSeq: point, revokedAt: stored.revokedAt ?? isoNow(this.#clock) };
        await this.#gate.shared(() => this.#db.batch([{ type: 'put', sublevel: this.#keys, key: id, value: next }], SYNCED));
        return keyView(terminal, kid, next);
      }),
    );
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
    checkAppendItems(items);
    if (items.length === 0) return this.#run(async () => []);
    return this.#run(() =>
      this.#terminalLock.withKeys(items.map((i) => `${store}:${i.terminal}`), () =>
        this.#commitLock.withKeys([COMMIT], () => this.#appendLocked(store, items)),
      ),
    );
  }

  readEvents(store: string, terminal: string, afterSeq: number, limit: number): Promise<LedgerEvent[]> {
    checkStore(store);
    checkTerminal(terminal);
    checkLimit(limit);
    checkSeqBound(afterSeq, 'afterSeq');
    return this.#run(async () => {
      const out: LedgerEvent[] = [];
      const range = { gt: `${store}:${terminal}:${pad(afterSeq)}`, lt: `${store}:${terminal};`, limit };
      for await (const [key, value] of this.#events.iterator<string, StoredEvent>(range)) {
        out.push(checkEvent(value, Number(key.slice(key.lastIndexOf(':') + 1))));
      }
      return out;
    });
  }

  readFeed(afterPosition: number, limit: number): Promise<FeedEntry[]> {
    checkFeedRead(afterPosition, limit);
    return this.#run(async () => {
      const positions: number[] = [];
      const keys: string[] = [];
      for await (const [key, value] of this.#feed.iterator<string, string>({ gt: pad(afterPosition), limit })) {
        positions.push(Number(key));
        keys.push(value);
      }
      if (keys.length === 0) return [];
      const values = await this.#events.getMany(keys);
      return keys.map((key, i) => feedEntry(key, positions[i] as number, values[i] as StoredEvent | undefined));
    });
  }

  feedHead(): Promise<number> {
    return this.#run(async () => this.#feedHead);
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

  async #getKeys(store: string, refs: readonly KeyRef[]): Promise<Array<KeyState | undefined>> {
    if (refs.length === 0) return [];
    const values = await this.#keys.getMany(refs.map((r) => `${store}:${r.terminal}:${r.kid}`));
    return refs.map((r, i) => {
      const stored = values[i] as StoredKey | undefined;
      if (stored === undefined) return undefined;
      const what = `${store}/${r.terminal}/${r.kid}`;
      return { publicKey: checkPublicKey(stored, what), revokedAfterSeq: checkRevokedAfter(stored, what) };
    });
  }

  async #appendLocked(store: string, items: readonly AppendItem[]): Promise<AppendOutcome[]> {
    const terminals = [...new Set(items.map((i) => i.terminal))];
    const heads = new Map<string, ChainHead>();
    for (const t of terminals) heads.set(t, await this.#readHead(store, t));
    // Events already stored: fetched in one read for the byte comparison.
    const pastKeys = items.filter((i) => i.seq <= (heads.get(i.terminal) as ChainHead).seq).map((i) => eventKey(store, i));
    const pastValues = pastKeys.length > 0 ? await this.#events.getMany(pastKeys) : [];
    const stored = new Map<string, string>();
    pastKeys.forEach((k, i) => {
      const v = pastValues[i] as StoredEvent | undefined;
      const seq = Number(k.slice(k.lastIndexOf(':') + 1));
      if (v !== undefined) stored.set(`${k.slice(store.length + 1, k.lastIndexOf(':'))}:${seq}`, checkEvent(v, seq).jws);
    });
    const idList = [...new Set(items.map((i) => idKey(i.event.id)))];
    const idValues = await this.#ids.getMany(idList.map((id) => `${store}:${id}`));
    const ids = new Map<string, string>();
    idList.forEach((id, i) => {
      const v = idValues[i];
      if (v !== undefined) ids.set(id, v);
    });
    const keyRefs = [...new Map(items.map((i) => [keyKey(i.terminal, i.kid), { terminal: i.terminal, kid: i.kid }])).values()];
    const keyStates = await this.#getKeys(store, keyRefs);
    const revokedAfter = new Map<string, number>();
    keyRefs.forEach((r, i) => {
      const point = keyStates[i]?.revokedAfterSeq;
      if (point !== null && point !== undefined) revokedAfter.set(keyKey(r.terminal, r.kid), point);
    });
    const plan = planAppend(items, heads, { stored, ids, revokedAfter });
    if (plan.accepted.length === 0) return plan.outcomes;
    const receivedAt = isoNow(this.#clock);
    const ops: Op[] = [];
    let position = this.#feedHead;
    for (const item of plan.accepted) {
      const key = eventKey(store, item);
      position++;
      const value: StoredEvent = { seq: item.seq, jws: item.jws, receivedAt, position, kid: item.kid, event: fieldsOf(item.event) };
      ops.push({ type: 'put', sublevel: this.#events, key, value });
      ops.push({ type: 'put', sublevel: this.#ids, key: `${store}:${idKey(item.event.id)}`, value: `${item.terminal}:${item.seq}` });
      ops.push({ type: 'put', sublevel: this.#feed, key: pad(position), value: key });
    }
    for (const [t, h] of plan.moved) ops.push({ type: 'put', sublevel: this.#heads, key: `${store}:${t}`, value: { seq: h.seq, hash: h.hash } });
    ops.push({ type: 'put', sublevel: this.#meta, key: FEED_HEAD_KEY, value: position });
    await this.#gate.shared(() => this.#db.batch(ops, SYNCED));
    this.#feedHead = position;
    return plan.outcomes;
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

/** Only the known fields, so a caller's extra properties never reach storage. */
function fieldsOf(e: FeedEventFields): FeedEventFields {
  return { id: e.id, type: e.type, at: e.at, amount: e.amount, currency: e.currency, outcome: e.outcome, mode: e.mode, ...(e.ref === undefined ? {} : { ref: e.ref }) };
}
