/**
 * The ForwardQueue (gateway/forward-queue.ts) over the event store's LevelDB. The ingest path owns
 * the `ingest` meta key (queue head, totals stored); this class owns the `forward` key (cursor,
 * totals forwarded, dead-letter count). The backlog is the difference, so it needs no scan.
 */
import type { AbstractGetManyOptions } from 'abstract-level';
import type { BacklogSummary, DeadLetter, ForwardEntry, ForwardQueue } from '../forward-queue.js';
import { eventKey, pad, terminalRange, unpad } from './keys.js';
import {
  addAmount, assertForwardMeta, assertQueueRecord, assertStoredEvent, corrupt,
  type ForwardMeta, type IngestMeta, type StoredEvent,
} from './records.js';
import { del, put, writeBatch, type BatchOp, type Db, type Sections } from './sections.js';

/**
 * classic-level's `fillCache: false` (sublevels pass it to the root): the drain reads each entry
 * once, so its blocks would only push useful ones out of the bounded block cache. The sublevel's
 * typings do not list the option, hence the cast below.
 */
const READ_ONCE = { fillCache: false } as const;

type EventEntry = Extract<ForwardEntry, { kind: 'event' }>;
type StoredEventRecord = StoredEvent & { readonly amount: number; readonly currency: string };

export class LevelForwardQueue implements ForwardQueue {
  readonly #db: Db;
  readonly #s: Sections;
  readonly #ingest: () => IngestMeta;
  readonly #assertOpen: () => void;
  #forward: ForwardMeta;
  #oldestStoredAtMs: number | null = null;
  #appends = 0;
  readonly #listeners = new Set<() => void>();
  /** Cursor and dead-letter writes are applied one at a time (read-modify-write of `forward`). */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(db: Db, s: Sections, ingest: () => IngestMeta, forward: unknown, assertOpen: () => void) {
    this.#db = db;
    this.#s = s;
    this.#ingest = ingest;
    this.#assertOpen = assertOpen;
    this.#forward = assertForwardMeta(forward, ingest().queueHead);
  }

  /** Finds the oldest pending event once at open (one short read after the cursor). */
  async init(): Promise<void> {
    this.#oldestStoredAtMs = await this.#firstPendingStoredAtMs();
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
    const out: EventEntry[] = [];
    const limit = Math.max(1, Math.floor(maxEntries));
    for await (const [key, value] of this.#s.events.iterator({ ...terminalRange(terminal, Math.max(1, fromSeq)), limit })) {
      const seq = unpad(key.slice(terminal.length + 1));
      out.push(toEventEntry(assertStoredEvent(value, terminal, seq) as StoredEventRecord));
    }
    return out;
  }

  advanceCursor(pos: number): Promise<void> {
    return this.advanceCursorWithDeadLetters(pos, []);
  }

  advanceCursorWithDeadLetters(pos: number, deadLetters: readonly DeadLetter[]): Promise<void> {
    this.#assertOpen();
    if (!Number.isSafeInteger(pos) || pos < 0) throw new TypeError(`bad cursor position ${pos}`);
    return this.#serial(async () => {
      const head = this.#ingest().queueHead;
      if (pos > head) throw new TypeError(`cursor ${pos} past queue head ${head}`);
      const from = this.#forward.cursor;
      let next = this.#forward;
      const ops: BatchOp[] = [];
      if (pos > from) {
        next = { ...next, cursor: pos };
        for await (const [key, value] of this.#s.queue.iterator({ gt: pad(from), lte: pad(pos) })) {
          const q = assertQueueRecord(value, unpad(key));
          if (q.kind !== 'event') continue;
          next = {
            ...next,
            eventsForwarded: next.eventsForwarded + 1,
            amountForwardedByCurrency: addAmount(next.amountForwardedByCurrency, q.currency, q.amount),
          };
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
      ops.push(put(this.#s.meta, 'forward', next));
      await writeBatch(this.#db, ops, true);
      this.#forward = next;
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
    const out: DeadLetter[] = [];
    for await (const value of this.#s.dead.values({ limit: Math.max(0, Math.min(limit, 10_000)) })) out.push(value as DeadLetter);
    return out;
  }

  takeDeadLetters(positions: readonly number[]): Promise<DeadLetter[]> {
    this.#assertOpen();
    return this.#serial(async () => {
      const keys = [...new Set(positions)].map(pad);
      if (keys.length === 0) return [];
      const found = (await this.#s.dead.getMany(keys)).filter((v): v is DeadLetter => v !== undefined);
      if (found.length === 0) return [];
      const next: ForwardMeta = { ...this.#forward, deadLetters: this.#forward.deadLetters - found.length };
      const ops: BatchOp[] = found.map((d) => del(this.#s.dead, pad(d.pos)));
      ops.push(put(this.#s.meta, 'forward', next));
      await writeBatch(this.#db, ops, true);
      this.#forward = next;
      return found;
    });
  }

  deadLetterCount(): number {
    this.#assertOpen();
    return this.#forward.deadLetters;
  }

  backlog(): BacklogSummary {
    this.#assertOpen();
    const ingest = this.#ingest();
    const amountByCurrency: Record<string, number> = {};
    for (const [currency, stored] of Object.entries(ingest.amountStoredByCurrency)) {
      const waiting = stored - (this.#forward.amountForwardedByCurrency[currency] ?? 0);
      if (waiting !== 0) amountByCurrency[currency] = waiting;
    }
    const events = ingest.eventsStored - this.#forward.eventsForwarded;
    return { events, oldestStoredAtMs: events > 0 ? this.#oldestStoredAtMs : null, amountByCurrency };
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

  async pruneAccepted(olderThanMs: number, maxEntries: number): Promise<number> {
    this.#assertOpen();
    const cursor = this.#forward.cursor;
    const ops: BatchOp[] = [];
    let pruned = 0;
    for await (const [key, value] of this.#s.queue.iterator({ lte: pad(cursor) })) {
      if (pruned >= maxEntries) break;
      const q = assertQueueRecord(value, unpad(key));
      // Enrollments stay: they are few, and the forwarder may need to resend them.
      if (q.kind !== 'event') continue;
      if (q.storedAtMs >= olderThanMs) break;
      ops.push(del(this.#s.queue, key), del(this.#s.events, eventKey(q.terminal, q.seq)));
      pruned++;
    }
    // Not synced: a delete lost to a power cut only brings back an event the cloud already has.
    await writeBatch(this.#db, ops, false);
    return pruned;
  }

  /** Resolves when queued cursor writes are done (used by close). */
  async idle(): Promise<void> {
    await this.#tail;
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #firstPendingStoredAtMs(): Promise<number | null> {
    for await (const [key, value] of this.#s.queue.iterator({ gt: pad(this.#forward.cursor) })) {
      const q = assertQueueRecord(value, unpad(key));
      if (q.kind === 'event') return q.storedAtMs;
    }
    return null;
  }
}

function toEventEntry(e: StoredEventRecord): EventEntry {
  return { pos: e.pos, kind: 'event', terminal: e.terminal, seq: e.seq, jws: e.jws, storedAtMs: e.storedAtMs, amount: e.amount, currency: e.currency };
}
