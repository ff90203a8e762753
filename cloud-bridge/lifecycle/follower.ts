/**
 * Follows one log (the ledger feed, or the webhook inbox) and applies each entry to the payments
 * exactly once: read a page after the stored cursor, fold its signals into the payments with the
 * pure state machine, and write payments and the moved cursor in one `PaymentStore.apply`. If the
 * process dies before that write, the page is read again after the restart; if another replica
 * wrote it first, `apply` answers `stale` and this one reads on from where the cursor now is.
 */
import type { Logger } from '../../lib/logger.js';
import { emptyPayment, step, type MachineConfig, type Payment } from './machine.js';
import type { CursorName, PaymentChange, PaymentStore } from './payment-store.js';
import type { PaymentSignal } from './signals.js';

export interface LogSource<E> {
  read(afterPosition: number, limit: number): Promise<readonly E[]>;
  positionOf(entry: E): number;
  signalOf(entry: E): PaymentSignal | null;
}

export interface FollowerOptions {
  /** Entries per apply: one synced write per page. */
  readonly pageEntries: number;
  /** How often the follower looks for new entries when nothing woke it. */
  readonly pollIntervalMs: number;
  /** Pages one catch-up applies before it yields to the event loop and other work. */
  readonly maxPagesPerRound: number;
}

export type FollowerState = 'idle' | 'running' | 'stopping' | 'stopped';

export class LogFollower<E> {
  #state: FollowerState = 'idle';
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();
  #again = false;
  #busy = false;
  /** Applies that found the cursor moved by someone else (replicas). */
  staleApplies = 0;
  applied = 0;

  constructor(
    readonly name: CursorName,
    private readonly source: LogSource<E>,
    private readonly store: PaymentStore,
    private readonly config: MachineConfig,
    private readonly options: FollowerOptions,
    private readonly onChanges: (changes: readonly PaymentChange[]) => void,
    private readonly logger: Logger,
  ) {}

  get state(): FollowerState {
    return this.#state;
  }

  /** Applies everything the log holds now (bounded by maxPagesPerRound); resolves with how many entries. */
  async catchUp(): Promise<number> {
    let entries = 0;
    for (let page = 0; page < this.options.maxPagesPerRound; page++) {
      const from = await this.store.cursor(this.name);
      const batch = await this.source.read(from, this.options.pageEntries);
      if (batch.length === 0) return entries;
      const to = this.source.positionOf(batch[batch.length - 1] as E);
      const signals = batch.map((e) => this.source.signalOf(e)).filter((s): s is PaymentSignal => s !== null);
      const ids = [...new Set(signals.map((s) => s.id))];
      const outcome = await this.store.apply({ ids, cursor: { name: this.name, from, to } }, (current) => fold(current, signals, this.config));
      if (outcome.kind === 'stale') {
        this.staleApplies++;
        continue;
      }
      entries += batch.length;
      this.applied += batch.length;
      if (outcome.changes.length > 0) this.onChanges(outcome.changes);
    }
    return entries;
  }

  /** Polls every pollIntervalMs, and at once after wake(). */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.wake();
  }

  /** New entries are there (an ingest or a webhook in this process): apply them now. */
  wake(): void {
    if (this.#state !== 'running') return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#busy = true;
    this.#round = (async () => {
      try {
        do {
          this.#again = false;
          const n = await this.catchUp();
          // A full round means more is waiting: go on after other work had its turn.
          if (n >= this.options.pageEntries * this.options.maxPagesPerRound) this.#again = true;
        } while (this.#again && this.#state === 'running');
      } catch (err) {
        // Storage unavailable: nothing was applied; the next round tries again.
        this.logger.warn('lifecycle follower round failed', { log: this.name, code: (err as { code?: unknown }).code ?? 'INTERNAL', err });
      } finally {
        this.#busy = false;
        if (this.#state === 'running') {
          this.#timer = setTimeout(() => this.wake(), this.options.pollIntervalMs);
          this.#timer.unref();
        }
      }
    })();
  }

  /** Stops polling and waits for a round in progress. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopping';
    clearTimeout(this.#timer);
    await this.#round;
    this.#state = 'stopped';
  }
}

/** The decide function of one page: every signal folded in, in log order; returns what changed. */
export function fold(current: ReadonlyMap<string, Payment>, signals: readonly PaymentSignal[], config: MachineConfig): Payment[] {
  const next = new Map(current);
  const changed = new Set<string>();
  for (const { id, signal } of signals) {
    const before = next.get(id) ?? emptyPayment(id);
    const after = step(before, signal, config);
    if (after !== before) {
      next.set(id, after);
      changed.add(id);
    }
  }
  return [...changed].map((id) => next.get(id) as Payment);
}
