/**
 * What the gateway knows about the integrity of its own storage, in one place: the problems found
 * at start (store/start-check.ts: lost events, a damaged write-ahead log) and while running (a
 * corrupt table met by any read or write). One state field:
 *
 * - `ok`;
 * - `degraded`: something was lost or looks wrong, the store still works: the gateway keeps serving
 *   and says exactly what is missing (page, /api/status, log, metrics) until it is resolved;
 * - `damaged`: the store cannot be trusted to keep what it is given: the gateway stops acknowledging
 *   new events (they get STORE_FULL, terminals keep them in their outboxes), `/readyz` answers 503,
 *   and the page says so in words. Only a restart on repaired storage clears it.
 *
 * Every new problem is logged once as an ALARM. Bounded: at most MAX_PROBLEMS are kept (the first
 * ones, which say the most), later ones are counted.
 */
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';

export const INTEGRITY_STATES = ['ok', 'degraded', 'damaged'] as const;
export type IntegrityState = (typeof INTEGRITY_STATES)[number];

/** Stable codes of integrity problems (tests and scripts match these, never the words). */
export const INTEGRITY_CODES = {
  /** A table or log block failed its checksum, or a record failed its read-back check. */
  storeCorrupt: 'STORE_CORRUPT',
  /** LevelDB dropped parts of its write-ahead log while opening. */
  logDamaged: 'LOG_DAMAGED',
  /** Events the gateway had acknowledged are not in the store any more. */
  eventsMissing: 'EVENTS_MISSING',
  /** Lost events were replaced by different ones at the same seqs (the terminal re-sequenced). */
  eventsReplaced: 'EVENTS_REPLACED',
  /** Forward queue entries are missing (their events cannot be sent from here). */
  queueEntriesMissing: 'QUEUE_ENTRIES_MISSING',
  /** A terminal's stored chain does not link up. */
  chainBroken: 'CHAIN_BROKEN',
} as const;
export type IntegrityCode = (typeof INTEGRITY_CODES)[keyof typeof INTEGRITY_CODES];

export interface IntegrityProblem {
  readonly code: IntegrityCode;
  readonly severity: Exclude<IntegrityState, 'ok'>;
  /** What happened, in words a technician can read out on a support call. */
  readonly message: string;
  readonly atMs: number;
  readonly terminal?: string;
  /** Seqs concerned (inclusive), for missing or replaced events. */
  readonly seqs?: { readonly from: number; readonly through: number };
}

/** Problems kept in full; more are only counted. */
export const MAX_PROBLEMS = 100;

export class StoreIntegrity {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #problems = new Map<string, IntegrityProblem>();
  readonly #listeners = new Set<(state: IntegrityState) => void>();
  #state: IntegrityState = 'ok';
  #uncounted = 0;

  constructor(clock: Clock, logger: Logger) {
    this.#clock = clock;
    this.#logger = logger;
  }

  get state(): IntegrityState {
    return this.#state;
  }

  /** Newest first. */
  problems(): readonly IntegrityProblem[] {
    return [...this.#problems.values()].sort((a, b) => b.atMs - a.atMs);
  }

  /** Problems seen beyond MAX_PROBLEMS (not kept). */
  get uncounted(): number {
    return this.#uncounted;
  }

  /**
   * Records a problem under `key` (one per place and kind: a corrupt table is reported once however
   * many reads meet it). Logs an ALARM the first time; raises the state, never lowers it.
   */
  report(key: string, problem: Omit<IntegrityProblem, 'atMs'>): void {
    if (this.#problems.has(key)) return;
    if (this.#problems.size >= MAX_PROBLEMS) {
      this.#uncounted++;
    } else {
      this.#problems.set(key, { ...problem, atMs: this.#clock.now() });
      this.#logger.error(`ALARM storage integrity: ${problem.message}`, {
        alarm: problem.code, severity: problem.severity,
        ...(problem.terminal === undefined ? {} : { terminal: problem.terminal }),
        ...(problem.seqs === undefined ? {} : { seqs: problem.seqs }),
      });
    }
    const next: IntegrityState = problem.severity === 'damaged' || this.#state === 'damaged' ? 'damaged' : 'degraded';
    if (next !== this.#state) {
      this.#state = next;
      for (const listener of [...this.#listeners]) listener(next);
    }
  }

  /** A problem no longer holds (e.g. a terminal resent the missing events). `damaged` stays. */
  resolve(key: string): void {
    if (!this.#problems.delete(key)) return;
    if (this.#state === 'degraded' && this.#problems.size === 0 && this.#uncounted === 0) {
      this.#state = 'ok';
      for (const listener of [...this.#listeners]) listener('ok');
    }
  }

  has(key: string): boolean {
    return this.#problems.has(key);
  }

  onChange(listener: (state: IntegrityState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The corruption report for a read or write that met damaged storage (`where`: which one). */
export function corruptionProblem(where: string, err: unknown): Omit<IntegrityProblem, 'atMs'> {
  const detail = String((err as { message?: unknown }).message ?? err).slice(0, 200);
  return {
    code: INTEGRITY_CODES.storeCorrupt,
    severity: 'damaged',
    message: `the event store is damaged (${where}: ${detail}); the gateway stopped taking payments, terminals keep them`,
  };
}
