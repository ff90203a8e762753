/**
 * The production EventStore: classic-level with the sublevels of `sections.ts`. Restart reads
 * only the small keyspaces (terminals, heads, meta) into memory: nothing is rebuilt from a scan of
 * the events (DESIGN §5.1).
 */
import { chainHash, EMPTY_HEAD, type ChainHead } from '../../protocol/chain.js';
import { TillgateError } from '../../protocol/errors.js';
import { AtRestKeeper, SealCodec, type AtRestOptions, type KeyProvider } from '../../lib/at-rest/index.js';
import { eventKey, pad } from './keys.js';
import { LevelForwardQueue } from './level-forward-queue.js';
import {
  addAmount, assertHead, assertIngestMeta, assertStoredEvent, assertTerminalRecord,
  type IngestMeta, type RejectRecord, type StoredEvent, type TerminalRecord,
} from './records.js';
import { del, openDb, put, sectionsOf, writeBatch, type BatchOp, type Db, type Section, type Sections } from './sections.js';
import type { CommitEntry, EventStore, StoreStats, StoreStatus } from './event-store.js';

export interface LevelEventStoreOptions {
  readonly dataDir: string;
  /** Reject records kept; older ones are deleted in the same batch that adds a new one. */
  readonly rejectsKeep: number;
  /** Data keys for encryption at rest (lib/at-rest): every stored value is sealed. */
  readonly keys: KeyProvider;
  /** Pace of the background re-encryption after a key rotation or an upgrade from plain storage. */
  readonly atRest?: AtRestOptions;
}

type StoredEventRecord = StoredEvent & { readonly amount: number; readonly currency: string };

export class LevelEventStore implements EventStore {
  readonly queue: LevelForwardQueue;
  /** Encryption at rest: keys in use and the background re-encryption (status page, metrics). */
  readonly atRest: AtRestKeeper;
  readonly #db: Db;
  readonly #s: Sections;
  readonly #rejectsKeep: number;
  #status: StoreStatus = 'opening';
  #ingest: IngestMeta;
  readonly #heads: Map<string, ChainHead>;
  readonly #terminals: Map<string, TerminalRecord>;
  /** Commits are applied one at a time: positions and heads are assigned from in-memory state. */
  #writeTail: Promise<unknown> = Promise.resolve();

  private constructor(db: Db, s: Sections, opts: LevelEventStoreOptions, loaded: Loaded, atRest: AtRestKeeper) {
    this.atRest = atRest;
    this.#db = db;
    this.#s = s;
    this.#rejectsKeep = opts.rejectsKeep;
    this.#ingest = loaded.ingest;
    this.#heads = loaded.heads;
    this.#terminals = loaded.terminals;
    this.queue = new LevelForwardQueue(db, s, () => this.#ingest, loaded.forward, () => this.#assertOpen());
    this.#status = 'open';
  }

  /** Opens (creating if needed) the store in `dataDir`. Fails with LEVEL_LOCKED if another process has it. */
  static async open(opts: LevelEventStoreOptions): Promise<LevelEventStore> {
    const db = openDb(opts.dataDir);
    await db.open();
    try {
      const codec = new SealCodec(opts.keys);
      // Before anything is read or written: every key the stored values need is at hand.
      const atRest = await AtRestKeeper.open(db, codec, db.gate, opts.atRest);
      const s = sectionsOf(db, codec);
      const loaded = await load(s);
      const store = new LevelEventStore(db, s, opts, loaded, atRest);
      await store.queue.init();
      // Re-seal values of an older key (or of a release before encryption at rest) in the background.
      void atRest.start();
      return store;
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  get status(): StoreStatus {
    return this.#status;
  }

  /** The health-sample keyspace, for the HealthLog (unsynced telemetry, not money). */
  get healthSection(): Section {
    return this.#s.health;
  }

  get db(): Db {
    return this.#db;
  }

  head(terminal: string): ChainHead {
    this.#assertOpen();
    return this.#heads.get(terminal) ?? EMPTY_HEAD;
  }

  terminal(terminal: string): TerminalRecord | undefined {
    this.#assertOpen();
    return this.#terminals.get(terminal);
  }

  terminalIds(): readonly string[] {
    this.#assertOpen();
    return [...this.#terminals.keys()].sort();
  }

  async getEvent(terminal: string, seq: number): Promise<StoredEvent | undefined> {
    this.#assertOpen();
    const value = await this.#s.events.get(eventKey(terminal, seq));
    return value === undefined ? undefined : assertStoredEvent(value, terminal, seq);
  }

  stats(): StoreStats {
    this.#assertOpen();
    return { eventsStored: this.#ingest.eventsStored, rejectsByCode: this.#ingest.rejectsByCode, terminals: this.#terminals.size };
  }

  async recentRejects(limit: number): Promise<RejectRecord[]> {
    this.#assertOpen();
    const out: RejectRecord[] = [];
    for await (const value of this.#s.rejects.values({ reverse: true, limit: Math.max(0, Math.min(limit, 1000)) })) {
      out.push(value as RejectRecord);
    }
    return out;
  }

  commit(entries: readonly CommitEntry[], nowMs: number): Promise<void> {
    this.#assertOpen();
    const run = this.#writeTail.then(() => this.#commit(entries, nowMs));
    this.#writeTail = run.catch(() => undefined);
    return run;
  }

  async #commit(entries: readonly CommitEntry[], nowMs: number): Promise<void> {
    this.#assertOpen();
    const ops: BatchOp[] = [];
    let meta = this.#ingest;
    const heads = new Map<string, ChainHead>();
    const terminals = new Map<string, TerminalRecord>();
    let firstEventStoredAtMs: number | null = null;
    for (const e of entries) {
      if (e.kind === 'event') {
        // STYLE 10: the pipeline checked the chain; the store checks it again before writing.
        const head = heads.get(e.terminal) ?? this.#heads.get(e.terminal) ?? EMPTY_HEAD;
        if (e.seq !== head.seq + 1 || e.prev !== head.hash) throw new TypeError(`commit breaks the chain of ${e.terminal} at ${e.seq}`);
        if (chainHash(e.jws) !== e.hash) throw new TypeError(`commit: wrong hash for ${e.terminal}/${e.seq}`);
        if (!this.#terminals.has(e.terminal) && !terminals.has(e.terminal)) throw new TypeError(`commit: ${e.terminal} is not enrolled`);
        const pos = meta.queueHead + 1;
        const event: StoredEventRecord = { terminal: e.terminal, seq: e.seq, pos, jws: e.jws, storedAtMs: nowMs, amount: e.amount, currency: e.currency };
        ops.push(put(this.#s.events, eventKey(e.terminal, e.seq), event));
        ops.push(put(this.#s.queue, pad(pos), { kind: 'event', terminal: e.terminal, seq: e.seq, storedAtMs: nowMs, amount: e.amount, currency: e.currency }));
        heads.set(e.terminal, { seq: e.seq, hash: e.hash });
        firstEventStoredAtMs ??= nowMs;
        meta = {
          ...meta,
          queueHead: pos,
          eventsStored: meta.eventsStored + 1,
          amountStoredByCurrency: addAmount(meta.amountStoredByCurrency, e.currency, e.amount),
        };
      } else if (e.kind === 'reject') {
        const n = meta.rejectSeq + 1;
        const record: RejectRecord = {
          n, terminal: e.terminal, seq: e.seq, id: e.id, code: e.code, message: e.message, atMs: nowMs,
          ...(e.expected === undefined ? {} : { expected: e.expected }),
        };
        ops.push(put(this.#s.rejects, pad(n), record));
        if (n > this.#rejectsKeep) ops.push(del(this.#s.rejects, pad(n - this.#rejectsKeep)));
        meta = { ...meta, rejectSeq: n, rejectsByCode: { ...meta.rejectsByCode, [e.code]: (meta.rejectsByCode[e.code] ?? 0) + 1 } };
      } else {
        const t = e.record.terminal;
        assertTerminalRecord(e.record, t);
        ops.push(put(this.#s.terminals, t, e.record));
        terminals.set(t, e.record);
        if (e.newKey !== null) {
          const pos = meta.queueHead + 1;
          const { kid, publicKey, at, endorsement } = e.newKey;
          ops.push(put(this.#s.queue, pad(pos), { kind: 'enrollment', terminal: t, kid, publicKey, at, ...(endorsement === undefined ? {} : { endorsement }) }));
          meta = { ...meta, queueHead: pos };
        }
      }
    }
    for (const [terminal, head] of heads) ops.push(put(this.#s.heads, terminal, head));
    ops.push(put(this.#s.meta, 'ingest', meta));
    await writeBatch(this.#db, ops, true);
    const appended = meta.queueHead > this.#ingest.queueHead;
    this.#ingest = meta;
    for (const [terminal, head] of heads) this.#heads.set(terminal, head);
    for (const [terminal, record] of terminals) this.#terminals.set(terminal, record);
    if (appended) this.queue.appended(firstEventStoredAtMs);
  }

  async close(): Promise<void> {
    if (this.#status === 'closed' || this.#status === 'closing') return;
    this.#status = 'closing';
    await this.atRest.close();
    await this.#writeTail;
    await this.queue.idle();
    await this.#db.close();
    this.#status = 'closed';
  }

  #assertOpen(): void {
    if (this.#status !== 'open') throw new TillgateError('STORE_CLOSED', `event store is ${this.#status}`);
  }
}

interface Loaded {
  readonly ingest: IngestMeta;
  readonly forward: unknown;
  readonly heads: Map<string, ChainHead>;
  readonly terminals: Map<string, TerminalRecord>;
}

/** Reads the small keyspaces (bounded by maxTerminals) and checks them (STYLE 10). */
async function load(s: Sections): Promise<Loaded> {
  const ingest = assertIngestMeta(await s.meta.get('ingest'));
  const forward = await s.meta.get('forward');
  const heads = new Map<string, ChainHead>();
  for await (const [terminal, value] of s.heads.iterator()) heads.set(terminal, assertHead(value, terminal));
  const terminals = new Map<string, TerminalRecord>();
  for await (const [terminal, value] of s.terminals.iterator()) terminals.set(terminal, assertTerminalRecord(value, terminal));
  for (const terminal of heads.keys()) {
    if (!terminals.has(terminal)) throw new TillgateError('STORE_CORRUPT', `event store: head without enrollment for ${terminal}`);
  }
  return { ingest, forward, heads, terminals };
}
