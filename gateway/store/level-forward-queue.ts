/**
 * The ForwardQueue (gateway/forward-queue.ts) over the event store's LevelDB. The ingest path owns
 * the `ingest` meta key (queue head, totals stored); this class owns the `forward` key (cursor,
 * totals forwarded, dead-letter count, acceptance log number). The backlog is the difference, so it
 * needs no scan.
 *
 * Retention reads the acceptance log (`accepted` keyspace): every cursor advance writes, in the same
 * synced batch, one record naming the positions the cloud took and when, dead letters left out; a
 * dead letter gets its own record only when a later retry delivers it. So retention counts age from
 * the cloud's acceptance and can never reach a dead letter.
 */
import type { AbstractGetManyOptions } from 'abstract-level';
import type { Clock } from '../../lib/clock.js';
import type { BacklogSummary, DeadLetter, ForwardEntry, ForwardQueue } from '../forward-queue.js';
import { eventKey, pad, terminalRange, unpad } from './keys.js';
import { addToMoney, subtractMoney } from './money.js';
import {
  assertAcceptanceRecord, assertForwardMeta, assertQueueRecord, assertStoredEvent, corrupt, isLegacyForwardMeta,
  type AcceptanceRecord, type ForwardMeta, type IngestMeta, type StoredEvent,
} from './records.js';
import { del, put, writeBatch, type BatchOp, type Db, type Sections } from './sections.js';
import { isStorageDamage, type DamageReporter } from './storage-errors.js';

/**
 * classic-level's `fillCache: false` (sublevels pass it to the root): the drain reads each entry
 * once, so its blocks would only push useful ones out of the bounded block cache. The sublevel's
 * typings do not list the option, hence the cast below.
 */
const READ_ONCE = { fillCache: false } as const;

type EventEntry = Extract<ForwardEntry, { kind: 'event' }>;
type StoredEventRecord = StoredEvent & { readonly amount: number; readonly currency: string };
type Range = readonly [number, number];

export interface LevelForwardQueueDeps {
  readonly ingest: () => IngestMeta;
  /** The `forward` meta value as read at open (validated here). */
  readonly forward: unknown;
  /** The `cloud` keyspace as read at open: terminal → highest seq the cloud accepted. */
  readonly cloud: Map<string, number>;
  readonly assertOpen: () => void;
  /** Acceptance times. */
  readonly clock: Clock;
  readonly damage: DamageReporter;
}

export class LevelForwardQueue implements ForwardQueue {
  readonly #db: Db;
  readonly #s: Sections;
  readonly #ingest: () => IngestMeta;
  readonly #assertOpen: () => void;
  readonly #clock: Clock;
  readonly #damage: DamageReporter;
  readonly #legacy: boolean;
  #migrated = false;
  #forward: ForwardMeta;
  #oldestStoredAtMs: number | null = null;
  #appends = 0;
  readonly #listeners = new Set<() => void>();
  readonly #cloud: Map<string, number>;
  readonly #cloudListeners = new Set<(terminals: readonly string[]) => void>();
  /** Cursor, dead-letter and retention writes are applied one at a time (read-modify-write of `forward`). */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(db: Db, s: Sections, deps: LevelForwardQueueDeps) {
    this.#db = db;
    this.#s = s;
    this.#ingest = deps.ingest;
    this.#assertOpen = deps.assertOpen;
    this.#clock = deps.clock;
    this.#damage = deps.damage;
    this.#legacy = isLegacyForwardMeta(deps.forward);
    this.#forward = assertForwardMeta(deps.forward);
    this.#cloud = deps.cloud;
  }

  /**
   * At open: finds the oldest pending event (one short read after the cursor). Data of an earlier
   * release has no acceptance log: what its cursor passed is recorded as accepted now (retention
   * then waits its full window from the upgrade; dead letters in that range are still skipped).
   */
  async init(): Promise<void> {
    if (this.#legacy && this.#forward.cursor > 0) {
      const record: AcceptanceRecord = { n: this.#forward.acceptSeq + 1, atMs: this.#clock.now(), ranges: [[1, this.#forward.cursor]] };
      const next: ForwardMeta = { ...this.#forward, acceptSeq: record.n };
      await writeBatch(this.#db, [put(this.#s.accepted, pad(record.n), record), put(this.#s.meta, 'forward', next)], true);
      this.#forward = next;
      this.#migrated = true;
    }
    this.#oldestStoredAtMs = await this.#guard('forward queue read', () => this.#firstPendingStoredAtMs());
  }

  /** True when this open migrated data of an earlier release (no acceptance log before). */
  get migratedFromLegacy(): boolean {
    return this.#migrated;
  }

  head(): number {
    this.#assertOpen();
    return this.#ingest().queueHead;
  }

  cursor(): number {
    this.#assertOpen();
    return this.#forward.cursor;
  }

  async readAfter(afterPos: number, maxEntries: number, maxBytes: number): Promise<ForwardEntry[]> {
    this.#assertOpen();
    return this.#guard('forward queue read', () => this.#readAfter(afterPos, maxEntries, maxBytes));
  }

  async #readAfter(afterPos: number, maxEntries: number, maxBytes: number): Promise<ForwardEntry[]> {
    const head = this.#ingest().queueHead;
    const records: { pos: number; value: unknown }[] = [];
    const limit = Math.max(1, Math.floor(maxEntries));
    for await (const [key, value] of this.#s.queue.iterator({ gt: pad(Math.max(0, afterPos)), lte: pad(head), limit, ...READ_ONCE })) {
      records.push({ pos: unpad(key), value });
    }
    const entries = records.map((r) => ({ pos: r.pos, q: assertQueueRecord(r.value, r.pos) }));
    const eventKeys = entries.flatMap((e) => (e.q.kind === 'event' ? [eventKey(e.q.terminal, e.q.seq)] : []));
    const events = eventKeys.length === 0 ? [] : await this.#s.events.getMany(eventKeys, READ_ONCE as AbstractGetManyOptions<string, unknown>);
    const out: ForwardEntry[] = [];
    let bytes = 0;
    let i = 0;
    for (const { pos, q } of entries) {
      let entry: ForwardEntry;
      if (q.kind === 'event') {
        const stored = events[i++];
        if (stored === undefined) throw corrupt(`queue pos ${pos} names a missing event ${q.terminal}/${q.seq}`);
        const e = assertStoredEvent(stored, q.terminal, q.seq) as StoredEventRecord;
        if (e.pos !== pos) throw corrupt(`event ${q.terminal}/${q.seq} has pos ${e.pos}, queue says ${pos}`);
        entry = toEventEntry(e);
        bytes += e.jws.length;
      } else {
        entry = { pos, kind: 'enrollment', terminal: q.terminal, kid: q.kid, publicKey: q.publicKey, at: q.at, ...(q.endorsement === undefined ? {} : { endorsement: q.endorsement }) };
      }
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  async readTerminalEvents(terminal: string, fromSeq: number, maxEntries: number): Promise<EventEntry[]> {
    this.#assertOpen();
    return this.#guard('event read', async () => {
      const out: EventEntry[] = [];
      const limit = Math.max(1, Math.floor(maxEntries));
      for await (const [key, value] of this.#s.events.iterator({ ...terminalRange(terminal, Math.max(1, fromSeq)), limit })) {
        const seq = unpad(key.slice(terminal.length + 1));
        out.push(toEventEntry(assertStoredEvent(value, terminal, seq) as StoredEventRecord));
      }
      return out;
    });
  }

  advanceCursor(pos: number): Promise<void> {
    return this.advanceCursorWithDeadLetters(pos, []);
  }

  advanceCursorWithDeadLetters(pos: number, deadLetters: readonly DeadLetter[]): Promise<void> {
    this.#assertOpen();
    if (!Number.isSafeInteger(pos) || pos < 0) throw new TypeError(`bad cursor position ${pos}`);
    return this.#serial('cursor advance', async () => {
      const head = this.#ingest().queueHead;
      if (pos > head) throw new TypeError(`cursor ${pos} past queue head ${head}`);
      const from = this.#forward.cursor;
      let next = this.#forward;
      const ops: BatchOp[] = [];
      const dead = new Set(deadLetters.map((d) => d.pos));
      /** Terminals whose cloud seq this advance moves (the cloud took their events). */
      const cloud = new Map<string, number>();
      if (pos > from) {
        next = { ...next, cursor: pos };
        for await (const [key, value] of this.#s.queue.iterator({ gt: pad(from), lte: pad(pos) })) {
          const at = unpad(key);
          const q = assertQueueRecord(value, at);
          if (q.kind !== 'event') continue;
          next = { ...next, eventsForwarded: next.eventsForwarded + 1, money: addToMoney(next.money, q.cls ?? 'unclassified', q.currency, q.amount) };
          if (!dead.has(at)) this.#cloudMove(cloud, q.terminal, q.seq);
        }
        const ranges = rangesWithout(from + 1, pos, dead);
        if (ranges.length > 0) {
          const record: AcceptanceRecord = { n: next.acceptSeq + 1, atMs: this.#clock.now(), ranges };
          ops.push(put(this.#s.accepted, pad(record.n), record));
          next = { ...next, acceptSeq: record.n };
        }
      }
      if (deadLetters.length > 0) {
        const keys = deadLetters.map((d) => pad(d.pos));
        const existing = await this.#s.dead.getMany(keys);
        const added = existing.filter((v) => v === undefined).length;
        for (const d of deadLetters) ops.push(put(this.#s.dead, pad(d.pos), d));
        next = { ...next, deadLetters: next.deadLetters + added };
      }
      if (next === this.#forward) return;
      for (const [terminal, seq] of cloud) ops.push(put(this.#s.cloud, terminal, seq));
      ops.push(put(this.#s.meta, 'forward', next));
      await writeBatch(this.#db, ops, true);
      this.#forward = next;
      this.#cloudMoved(cloud);
      if (pos > from) {
        const appendsBefore = this.#appends;
        const oldest = await this.#firstPendingStoredAtMs();
        // An append that landed during the read already set the oldest: a null here is stale.
        if (oldest !== null || this.#appends === appendsBefore) this.#oldestStoredAtMs = oldest;
      }
    });
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    this.#assertOpen();
    return this.#guard('dead letters read', async () => {
      const out: DeadLetter[] = [];
      for await (const value of this.#s.dead.values({ limit: Math.max(0, Math.min(limit, 10_000)) })) out.push(value as DeadLetter);
      return out;
    });
  }

  takeDeadLetters(positions: readonly number[]): Promise<DeadLetter[]> {
    this.#assertOpen();
    return this.#serial('dead letters write', async () => {
      const keys = [...new Set(positions)].sort((a, b) => a - b).map(pad);
      if (keys.length === 0) return [];
      const found = (await this.#s.dead.getMany(keys)).filter((v): v is DeadLetter => v !== undefined);
      if (found.length === 0) return [];
      // The cloud holds them now: their retention clock starts here.
      const record: AcceptanceRecord = { n: this.#forward.acceptSeq + 1, atMs: this.#clock.now(), ranges: found.map((d) => [d.pos, d.pos] as const) };
      const next: ForwardMeta = { ...this.#forward, deadLetters: this.#forward.deadLetters - found.length, acceptSeq: record.n };
      const ops: BatchOp[] = found.map((d) => del(this.#s.dead, pad(d.pos)));
      const cloud = new Map<string, number>();
      for (const d of found) this.#cloudMove(cloud, d.terminal, d.seq);
      for (const [terminal, seq] of cloud) ops.push(put(this.#s.cloud, terminal, seq));
      ops.push(put(this.#s.accepted, pad(record.n), record), put(this.#s.meta, 'forward', next));
      await writeBatch(this.#db, ops, true);
      this.#forward = next;
      this.#cloudMoved(cloud);
      return found;
    });
  }

  cloudSeq(terminal: string): number {
    this.#assertOpen();
    return this.#cloud.get(terminal) ?? 0;
  }

  onCloudAdvance(listener: (terminals: readonly string[]) => void): () => void {
    this.#cloudListeners.add(listener);
    return () => this.#cloudListeners.delete(listener);
  }

  /**
   * Sets a terminal's cloud seq as the cloud itself reports it (a restored gateway's resync): the
   * put for the caller's batch; `cloudSet` after that batch is durable.
   */
  cloudSeqOp(terminal: string, seq: number): BatchOp {
    return put(this.#s.cloud, terminal, seq);
  }

  cloudSet(terminal: string, seq: number): void {
    this.#cloud.set(terminal, seq);
    this.#cloudMoved(new Map([[terminal, seq]]));
  }

  /** Records in `moves` that the cloud holds `terminal` through `seq`, when that is news. */
  #cloudMove(moves: Map<string, number>, terminal: string, seq: number): void {
    if (seq > (moves.get(terminal) ?? this.#cloud.get(terminal) ?? 0)) moves.set(terminal, seq);
  }

  #cloudMoved(moves: ReadonlyMap<string, number>): void {
    if (moves.size === 0) return;
    for (const [terminal, seq] of moves) this.#cloud.set(terminal, seq);
    const terminals = [...moves.keys()];
    for (const listener of [...this.#cloudListeners]) listener(terminals);
  }

  deadLetterCount(): number {
    this.#assertOpen();
    return this.#forward.deadLetters;
  }

  backlog(): BacklogSummary {
    this.#assertOpen();
    const ingest = this.#ingest();
    const waiting = subtractMoney(ingest.money, this.#forward.money);
    const events = ingest.eventsStored - this.#forward.eventsForwarded;
    return { events, oldestStoredAtMs: events > 0 ? this.#oldestStoredAtMs : null, amountByCurrency: waiting.takings.byCurrency, money: waiting };
  }

  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called by the store after a commit appended entries. */
  appended(firstEventStoredAtMs: number | null): void {
    this.#appends++;
    if (this.#oldestStoredAtMs === null && firstEventStoredAtMs !== null) this.#oldestStoredAtMs = firstEventStoredAtMs;
    for (const listener of [...this.#listeners]) listener();
  }

  /**
   * Walks the acceptance log oldest first; deletes the events (queue entry, event, id index entry)
   * of every record accepted before `olderThanMs`, skipping enrollments and anything that is a dead
   * letter. A record done is deleted; one cut short by `maxEntries` keeps what is left of it.
   */
  pruneAccepted(olderThanMs: number, maxEntries: number): Promise<number> {
    this.#assertOpen();
    return this.#serial('retention', async () => {
      const budget = Math.max(0, Math.floor(maxEntries));
      // Entries looked at (enrollments and dead letters included) are bounded too.
      const maxScanned = 2 * budget + 16;
      const ops: BatchOp[] = [];
      let pruned = 0;
      let scanned = 0;
      /** Highest seq deleted per terminal in this run (the `pruned` keyspace keeps the maximum). */
      const highest = new Map<string, number>();
      for await (const [key, value] of this.#s.accepted.iterator()) {
        if (pruned >= budget || scanned >= maxScanned) break;
        const record = assertAcceptanceRecord(value, unpad(key));
        if (record.atMs >= olderThanMs) break;
        const left: Range[] = [];
        for (const [from, through] of record.ranges) {
          if (pruned >= budget || scanned >= maxScanned) {
            left.push([from, through]);
            continue;
          }
          const limit = maxScanned - scanned;
          const found: { key: string; pos: number; value: unknown }[] = [];
          for await (const [qk, qv] of this.#s.queue.iterator({ gte: pad(from), lte: pad(through), limit })) found.push({ key: qk, pos: unpad(qk), value: qv });
          const dead = found.length === 0 ? [] : await this.#s.dead.getMany(found.map((f) => f.key));
          let done = from - 1;
          let handled = 0;
          for (const [i, f] of found.entries()) {
            if (pruned >= budget) break;
            const q = assertQueueRecord(f.value, f.pos);
            scanned++;
            handled++;
            done = f.pos;
            // Enrollments stay (few, and resent after restarts); a dead letter stays until resolved.
            if (q.kind !== 'event' || dead[i] !== undefined) continue;
            ops.push(del(this.#s.queue, f.key), del(this.#s.events, eventKey(q.terminal, q.seq)));
            if (q.id !== undefined) ops.push(del(this.#s.ids, q.id));
            highest.set(q.terminal, Math.max(highest.get(q.terminal) ?? 0, q.seq));
            pruned++;
          }
          const finished = handled === found.length && found.length < limit;
          if (!finished && done < through) left.push([done + 1, through]);
        }
        if (left.length === 0) ops.push(del(this.#s.accepted, key));
        else ops.push(put(this.#s.accepted, key, { ...record, ranges: left }));
      }
      if (highest.size > 0) {
        const terminals = [...highest.keys()];
        const before = await this.#s.pruned.getMany(terminals);
        for (const [i, t] of terminals.entries()) {
          const was = typeof before[i] === 'number' ? (before[i] as number) : 0;
          ops.push(put(this.#s.pruned, t, Math.max(was, highest.get(t) ?? 0)));
        }
      }
      // Not synced: a delete lost to a power cut only brings back an event the cloud already has.
      await writeBatch(this.#db, ops, false);
      return pruned;
    });
  }

  /** Resolves when queued cursor writes are done (used by close). */
  async idle(): Promise<void> {
    await this.#tail;
  }

  #serial<T>(where: string, task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(() => this.#guard(where, task));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #guard<T>(where: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isStorageDamage(err)) this.#damage(where, err);
      throw err;
    }
  }

  async #firstPendingStoredAtMs(): Promise<number | null> {
    for await (const [key, value] of this.#s.queue.iterator({ gt: pad(this.#forward.cursor) })) {
      const q = assertQueueRecord(value, unpad(key));
      if (q.kind === 'event') return q.storedAtMs;
    }
    return null;
  }
}

/** [from, through] without the positions in `skip`, as ascending inclusive ranges. */
export function rangesWithout(from: number, through: number, skip: ReadonlySet<number>): Range[] {
  const out: Range[] = [];
  let start = from;
  const cuts = [...skip].filter((p) => p >= from && p <= through).sort((a, b) => a - b);
  for (const cut of cuts) {
    if (cut > start) out.push([start, cut - 1]);
    start = cut + 1;
  }
  if (start <= through) out.push([start, through]);
  return out;
}

function toEventEntry(e: StoredEventRecord): EventEntry {
  return { pos: e.pos, kind: 'event', terminal: e.terminal, seq: e.seq, jws: e.jws, storedAtMs: e.storedAtMs, amount: e.amount, currency: e.currency };
}
