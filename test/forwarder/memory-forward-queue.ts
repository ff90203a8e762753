/**
 * An in-memory ForwardQueue: a test double of the seam in gateway/forward-queue.ts, so the
 * forwarder is tested fast and alone. It passes the same conformance suite as the LevelDB
 * queue (test/forwarder/forward-queue.conformance.ts): positions from 1, the cursor never moves
 * backward, readAfter bounds by count and bytes (at least one entry), money by class, and retention
 * that counts age from the cloud's acceptance and never touches a dead letter or anything past the
 * cursor.
 */
import type { BacklogSummary, DeadLetter, ForwardEntry, ForwardQueue } from '../../gateway/forward-queue.js';
import { addToMoney, classifyTransaction, EMPTY_MONEY, type TxClass } from '../../gateway/store/money.js';
import type { SignedChainEvent } from '../support/events.js';

type EventEntry = Extract<ForwardEntry, { kind: 'event' }>;

export class MemoryForwardQueue implements ForwardQueue {
  readonly entries: ForwardEntry[] = [];
  readonly deadLetters = new Map<number, DeadLetter>();
  /** Every cursor write, in order, so tests can check that it only ever moved over settled entries. */
  readonly cursorWrites: number[] = [];
  #cursor = 0;
  #head = 0;
  readonly #cls = new Map<number, TxClass>();
  /** When the cloud took each position (cursor advance, or a dead letter's later delivery). */
  readonly #acceptedAtMs = new Map<number, number>();
  readonly #listeners = new Set<() => void>();
  readonly #cloud = new Map<string, number>();
  readonly #cloudListeners = new Set<(terminals: readonly string[]) => void>();
  readonly #now: () => number;

  constructor(now: () => number = () => Date.now()) {
    this.#now = now;
  }

  appendEnrollment(terminal: string, kid: string, publicKey: string): void {
    this.entries.push({ pos: ++this.#head, kind: 'enrollment', terminal, kid, publicKey, at: new Date(this.#now()).toISOString() });
    this.#notify();
  }

  appendEvents(terminal: string, events: readonly SignedChainEvent[]): void {
    for (const e of events) {
      const pos = ++this.#head;
      this.entries.push({ pos, kind: 'event', terminal, seq: e.seq, jws: e.jws, storedAtMs: this.#now(), amount: e.payload.amount, currency: e.payload.currency });
      this.#cls.set(pos, classifyTransaction(e.payload.type, e.payload.outcome));
    }
    this.#notify();
  }

  head(): number {
    return this.#head;
  }

  cursor(): number {
    return this.#cursor;
  }

  async readAfter(afterPos: number, maxEntries: number, maxBytes: number): Promise<ForwardEntry[]> {
    const out: ForwardEntry[] = [];
    let bytes = 0;
    for (const e of this.entries) {
      if (e.pos <= afterPos) continue;
      const size = e.kind === 'event' ? e.jws.length : 0;
      if (out.length >= maxEntries || (out.length > 0 && bytes + size > maxBytes)) break;
      bytes += size;
      out.push(e);
    }
    return out;
  }

  async readTerminalEvents(terminal: string, fromSeq: number, maxEntries: number): Promise<EventEntry[]> {
    return this.entries
      .filter((e): e is EventEntry => e.kind === 'event' && e.terminal === terminal && e.seq >= fromSeq)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, maxEntries);
  }

  async advanceCursor(pos: number): Promise<void> {
    await this.advanceCursorWithDeadLetters(pos, []);
  }

  async advanceCursorWithDeadLetters(pos: number, deadLetters: readonly DeadLetter[]): Promise<void> {
    if (pos > this.#head) throw new TypeError(`cursor ${pos} past head ${this.#head}`);
    for (const d of deadLetters) this.deadLetters.set(d.pos, d);
    this.cursorWrites.push(pos);
    const now = this.#now();
    const took: ForwardEntry[] = [];
    for (let p = this.#cursor + 1; p <= pos; p++) {
      if (this.deadLetters.has(p)) continue;
      this.#acceptedAtMs.set(p, now);
      const e = this.entries.find((x) => x.pos === p);
      if (e !== undefined) took.push(e);
    }
    this.#cursor = Math.max(this.#cursor, pos);
    this.#cloudTook(took);
  }

  cloudSeq(terminal: string): number {
    return this.#cloud.get(terminal) ?? 0;
  }

  onCloudAdvance(listener: (terminals: readonly string[]) => void): () => void {
    this.#cloudListeners.add(listener);
    return () => this.#cloudListeners.delete(listener);
  }

  #cloudTook(entries: readonly { kind: string; terminal: string; seq?: number }[]): void {
    const moved = new Set<string>();
    for (const e of entries) {
      if (e.kind !== 'event' || e.seq === undefined || e.seq <= (this.#cloud.get(e.terminal) ?? 0)) continue;
      this.#cloud.set(e.terminal, e.seq);
      moved.add(e.terminal);
    }
    if (moved.size > 0) for (const l of this.#cloudListeners) l([...moved]);
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    return [...this.deadLetters.values()].sort((a, b) => a.pos - b.pos).slice(0, limit);
  }

  async takeDeadLetters(positions: readonly number[]): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for (const p of positions) {
      const d = this.deadLetters.get(p);
      if (d !== undefined) {
        out.push(d);
        this.deadLetters.delete(p);
        this.#acceptedAtMs.set(p, this.#now());
      }
    }
    this.#cloudTook(out.map((d) => ({ kind: 'event', terminal: d.terminal, seq: d.seq })));
    return out;
  }

  deadLetterCount(): number {
    return this.deadLetters.size;
  }

  backlog(): BacklogSummary {
    const pending = this.entries.filter((e): e is EventEntry => e.kind === 'event' && e.pos > this.#cursor);
    let money = EMPTY_MONEY;
    for (const e of pending) money = addToMoney(money, this.#cls.get(e.pos) ?? 'unclassified', e.currency, e.amount);
    return { events: pending.length, oldestStoredAtMs: pending[0]?.storedAtMs ?? null, amountByCurrency: money.takings.byCurrency, money };
  }

  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async pruneAccepted(olderThanMs: number, maxEntries: number): Promise<number> {
    let removed = 0;
    for (let i = 0; i < this.entries.length && removed < maxEntries; ) {
      const e = this.entries[i] as ForwardEntry;
      if (e.pos > this.#cursor) break;
      const acceptedAtMs = this.#acceptedAtMs.get(e.pos);
      if (e.kind === 'event' && acceptedAtMs !== undefined && acceptedAtMs < olderThanMs && !this.deadLetters.has(e.pos)) {
        this.entries.splice(i, 1);
        this.#acceptedAtMs.delete(e.pos);
        removed++;
      } else {
        i++;
      }
    }
    return removed;
  }

  #notify(): void {
    for (const l of this.#listeners) l();
  }
}
