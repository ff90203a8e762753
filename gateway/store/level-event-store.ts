/**
 * The production EventStore: classic-level with the sublevels of `sections.ts`. Restart reads
 * only the small keyspaces (terminals, heads, meta) into memory: nothing is rebuilt from a scan of
 * the events (DESIGN §5.1).
 *
 * Damaged storage is reported, never swallowed: every read or write that meets `LEVEL_CORRUPTION`
 * or a record failing its read-back check calls `onDamage` before the error goes on. A write the
 * disk had no room for calls `onDiskFull` (which frees the reserve) and fails with `DISK_FULL`.
 */
import { systemClock, type Clock } from '../../lib/clock.js';
import { chainHash, EMPTY_HEAD, type ChainHead } from '../../protocol/chain.js';
import { TillgateError } from '../../protocol/errors.js';
import type { CommitEntry, EventIdOwner, EventStore, StoreStats, StoreStatus } from './event-store.js';
import { AtRestKeeper, SealCodec, type AtRestOptions, type KeyProvider } from '../../lib/at-rest/index.js';
import { eventKey, pad } from './keys.js';
import { LevelForwardQueue } from './level-forward-queue.js';
import { addToMoney, classifyTransaction } from './money.js';
import {
  assertHead, assertIngestMeta, assertStoredEvent, assertTerminalRecord, corrupt,
  type IngestMeta, type QueueRecord, type RejectRecord, type StoredEvent, type TerminalRecord,
} from './records.js';
import { del, openDb, put, sectionsOf, writeBatch, type BatchOp, type Db, type Sections } from './sections.js';
import { isDiskFull, isStorageDamage, type DamageReporter } from './storage-errors.js';

export interface LevelEventStoreOptions {
  readonly dataDir: string;
  /** Reject records kept; older ones are deleted in the same batch that adds a new one. */
  readonly rejectsKeep: number;
  /** Acceptance times (retention counts from them). Default: the system clock. */
  readonly clock?: Clock;
  /** Told about every read or write that met damaged storage. */
  readonly onDamage?: DamageReporter;
  /** Told when a write failed for lack of disk space, before the write's error goes on. */
  readonly onDiskFull?: () => Promise<void> | void;
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
  readonly #damage: DamageReporter;
  readonly #onDiskFull: () => Promise<void> | void;
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
    this.#damage = opts.onDamage ?? (() => undefined);
    this.#onDiskFull = opts.onDiskFull ?? (() => undefined);
    this.#ingest = loaded.ingest;
    this.#heads = loaded.heads;
    this.#terminals = loaded.terminals;
    this.queue = new LevelForwardQueue(db, s, {
      ingest: () => this.#ingest,
      forward: loaded.forward,
      cloud: loaded.cloud,
      assertOpen: () => this.#assertOpen(),
      clock: opts.clock ?? systemClock,
      damage: this.#damage,
    });
    this.#status = 'open';
  }

  /** Opens (creating if needed) the store in `dataDir`. Fails with LEVEL_LOCKED if another process has it. */
  static async open(opts: LevelEventStoreOptions): Promise<LevelEventStore> {
    const db = openDb(opts.dataDir);
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if ((cause as { code?: unknown } | undefined)?.code === 'LEVEL_LOCKED') {
        throw new TillgateError('DATA_DIR_LOCKED', `${opts.dataDir} is in use by another process (another gateway, or a backup reading it)`, { cause: err });
      }
      throw err;
    }
    try {
      const codec = new SealCodec(opts.keys);
      // Before anything is read or written: every key the stored values need is at hand.
      const atRest = await AtRestKeeper.open(db, codec, db.gate, opts.atRest);
      const s = sectionsOf(db, codec);
      const loaded = await load(s);
      const store = new LevelEventStore(db, s, opts, loaded, atRest);
      await store.queue.init();
      if (store.queue.migratedFromLegacy) {
        // An earlier release pruned without saying how far: anything up to today's heads may be gone
        // on purpose, so the start-up check does not call it lost.
        const ops = [...loaded.heads].map(([t, h]) => put(s.pruned, t, h.seq));
        await writeBatch(db, ops, true);
      }
      // Re-seal values of an older key (or of a release before encryption at rest) in the background.
      void atRest.start();
      return store;
    } catch (err) {
      if (isStorageDamage(err)) opts.onDamage?.('store open', err);
      await db.close();
      throw err;
    }
  }

  get status(): StoreStatus {
    return this.#status;
  }

  /** The health keyspaces, for the HealthStore (unsynced telemetry, not money). */
  get healthSections(): Pick<Sections, 'health' | 'wanProbes' | 'healthRollups'> {
    return { health: this.#s.health, wanProbes: this.#s.wanProbes, healthRollups: this.#s.healthRollups };
  }

  get db(): Db {
    return this.#db;
  }

  /** The keyspaces, for the start-up consistency check (store/start-check.ts). */
  get sections(): Sections {
    return this.#s;
  }

  /** The ingest counters as they stand (queue head, events stored, money). */
  get ingestMeta(): IngestMeta {
    return this.#ingest;
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
    return this.#guard('event read', async () => {
      const value = await this.#s.events.get(eventKey(terminal, seq));
      return value === undefined ? undefined : assertStoredEvent(value, terminal, seq);
    });
  }

  async eventIdOwner(id: string): Promise<EventIdOwner | undefined> {
    this.#assertOpen();
    return this.#guard('event id index read', async () => {
      const value = (await this.#s.ids.get(id)) as EventIdOwner | undefined;
      if (value === undefined) return undefined;
      if (typeof value !== 'object' || value === null || typeof value.terminal !== 'string' || !Number.isSafeInteger(value.seq)) {
        throw corrupt(`bad id index entry for ${id}`);
      }
      return { terminal: value.terminal, seq: value.seq };
    });
  }

  stats(): StoreStats {
    this.#assertOpen();
    return { eventsStored: this.#ingest.eventsStored, rejectsByCode: this.#ingest.rejectsByCode, terminals: this.#terminals.size };
  }

  async recentRejects(limit: number): Promise<RejectRecord[]> {
    this.#assertOpen();
    return this.#guard('reject records read', async () => {
      const out: RejectRecord[] = [];
      for await (const value of this.#s.rejects.values({ reverse: true, limit: Math.max(0, Math.min(limit, 1000)) })) {
        out.push(value as RejectRecord);
      }
      return out;
    });
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
        // Defence in depth: the pipeline checked the chain; the store checks it again before writing.
        const head = heads.get(e.terminal) ?? this.#heads.get(e.terminal) ?? EMPTY_HEAD;
        if (e.seq !== head.seq + 1 || e.prev !== head.hash) throw new TypeError(`commit breaks the chain of ${e.terminal} at ${e.seq}`);
        if (chainHash(e.jws) !== e.hash) throw new TypeError(`commit: wrong hash for ${e.terminal}/${e.seq}`);
        if (!this.#terminals.has(e.terminal) && !terminals.has(e.terminal)) throw new TypeError(`commit: ${e.terminal} is not enrolled`);
        const pos = meta.queueHead + 1;
        const cls = classifyTransaction(e.type, e.outcome);
        const event: StoredEventRecord = { terminal: e.terminal, seq: e.seq, pos, jws: e.jws, storedAtMs: nowMs, amount: e.amount, currency: e.currency };
        const queued: QueueRecord = { kind: 'event', terminal: e.terminal, seq: e.seq, storedAtMs: nowMs, amount: e.amount, currency: e.currency, id: e.id, cls };
        ops.push(put(this.#s.events, eventKey(e.terminal, e.seq), event));
        ops.push(put(this.#s.queue, pad(pos), queued));
        ops.push(put(this.#s.ids, e.id, { terminal: e.terminal, seq: e.seq }));
        heads.set(e.terminal, { seq: e.seq, hash: e.hash });
        firstEventStoredAtMs ??= nowMs;
        meta = { ...meta, queueHead: pos, eventsStored: meta.eventsStored + 1, money: addToMoney(meta.money, cls, e.currency, e.amount) };
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
    try {
      await writeBatch(this.#db, ops, true);
    } catch (err) {
      if (isDiskFull(err)) {
        await this.#onDiskFull();
        throw new TillgateError('DISK_FULL', 'the disk is full: the write did not happen', { cause: err });
      }
      if (isStorageDamage(err)) this.#damage('commit', err);
      throw err;
    }
    const appended = meta.queueHead > this.#ingest.queueHead;
    this.#ingest = meta;
    for (const [terminal, head] of heads) this.#heads.set(terminal, head);
    for (const [terminal, record] of terminals) this.#terminals.set(terminal, record);
    if (appended) this.queue.appended(firstEventStoredAtMs);
  }

  /**
   * Makes `head` the terminal's durable head, with `ops` in the same synced batch, in turn with
   * commits (a restored gateway adopting the cloud's head for a chain the cloud holds further than
   * the backup: gateway/store/restore-state.ts). Never moves a head back.
   */
  adoptHead(terminal: string, head: ChainHead, ops: readonly BatchOp[]): Promise<void> {
    this.#assertOpen();
    const run = this.#writeTail.then(async () => {
      this.#assertOpen();
      if (!this.#terminals.has(terminal)) throw new TypeError(`adoptHead: ${terminal} is not enrolled`);
      const current = this.#heads.get(terminal) ?? EMPTY_HEAD;
      const moves = head.seq > current.seq;
      await writeBatch(this.#db, [...(moves ? [put(this.#s.heads, terminal, head)] : []), ...ops], true);
      if (moves) this.#heads.set(terminal, { seq: head.seq, hash: head.hash });
    });
    this.#writeTail = run.catch(() => undefined);
    return run;
  }

  /**
   * Moves the queue head up to `pos` without entries (start-up repair after lost log records: new
   * positions must lie past anything the cursor already passed, or they would never be sent).
   */
  async raiseQueueHead(pos: number): Promise<void> {
    this.#assertOpen();
    if (pos <= this.#ingest.queueHead) return;
    const meta = { ...this.#ingest, queueHead: pos };
    await writeBatch(this.#db, [put(this.#s.meta, 'ingest', meta)], true);
    this.#ingest = meta;
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

  async #guard<T>(where: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isStorageDamage(err)) this.#damage(where, err);
      throw err;
    }
  }

  #assertOpen(): void {
    if (this.#status !== 'open') throw new TillgateError('STORE_CLOSED', `event store is ${this.#status}`);
  }
}

interface Loaded {
  readonly ingest: IngestMeta;
  readonly forward: unknown;
  readonly cloud: Map<string, number>;
  readonly heads: Map<string, ChainHead>;
  readonly terminals: Map<string, TerminalRecord>;
}

/** Reads the small keyspaces (bounded by maxTerminals) and checks them. */
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
  // Bounded like the registry (one entry per terminal); absent in data of an earlier release.
  const cloud = new Map<string, number>();
  for await (const [terminal, value] of s.cloud.iterator()) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new TillgateError('STORE_CORRUPT', `event store: bad cloud seq of ${terminal}`);
    cloud.set(terminal, value);
  }
  return { ingest, forward, cloud, heads, terminals };
}
