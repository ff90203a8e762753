/**
 * The forwarder (DESIGN §5.1): reads the forward queue from disk in order, one batch in flight,
 * and moves the durable cursor only over what the cloud has settled. Memory stays flat however long
 * the outage: nothing but the batch being sent is ever loaded.
 *
 * One loop, one state field: `idle` (nothing to send), `sending`, `backoff` (waiting after a
 * failure), `closing`, `closed`.
 */
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { Enrollment } from '../../protocol/ingest-api.js';
import { isRejectCode } from '../../protocol/errors.js';
import { uuidv7 } from '../../protocol/uuid.js';
import type { DeadLetter, ForwardEntry, ForwardQueue } from '../forward-queue.js';
import { Backoff } from './backoff.js';
import { CLOUD_FAILURE_CODES, type CloudClient, type IngestOutcome } from './cloud-client.js';
import { resendDeadLetters } from './dead-letter-retry.js';
import { repairGap } from './gap-repair.js';
import { buildRequest, enrollmentsFor, type EnrollmentSource } from './request-builder.js';
import type { SendContext } from './send-context.js';
import { settleBatch, UNKNOWN_STATUS, type SettleStop } from './settle.js';
import { ForwarderStats } from './stats.js';
import type { Random, Timers } from './timers.js';
import { WakeSignal, type WakeReason } from './wake-signal.js';

export const FORWARDER_STATES = ['created', 'idle', 'sending', 'backoff', 'closing', 'closed'] as const;
export type ForwarderState = (typeof FORWARDER_STATES)[number];

/** Terminals remembered as blocked behind an unrepairable gap; bounded like every table. */
const MAX_BLOCKED_TERMINALS = 10_000;
/** The same gap repaired this many times in a row without progress is treated as unrepairable. */
const MAX_REPAIRS_PER_GAP = 3;

export interface ForwarderOptions {
  readonly gatewayId: string;
  readonly store: string;
  readonly batchMaxEvents: number;
  readonly batchMaxBytes: number;
  readonly retryDelayMsMin: number;
  readonly retryDelayMsMax: number;
  readonly authRetryDelayMs: number;
  readonly deadLetterRetryMax: number;
}

export interface ForwarderDeps {
  readonly queue: ForwardQueue;
  readonly client: CloudClient;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  readonly logger: Logger;
  readonly enrollments?: EnrollmentSource;
}

type Step = { readonly kind: 'more' } | { readonly kind: 'empty' } | { readonly kind: 'wait'; readonly delayMs: number };
const MORE: Step = { kind: 'more' };

export class Forwarder {
  readonly stats: ForwarderStats;
  readonly #o: ForwarderOptions;
  readonly #d: ForwarderDeps;
  readonly #backoff: Backoff;
  readonly #wake: WakeSignal;
  readonly #outcomeListeners = new Set<(o: IngestOutcome) => void>();
  readonly #needKeys = new Set<string>();
  readonly #blocked = new Map<string, number>();
  readonly #retryQueue = new Map<number, DeadLetter>();
  #state: ForwarderState = 'created';
  #maxEntries: number;
  #freshStart = true;
  #lastGap: { key: string; count: number } | null = null;
  #nextAttemptAtMs: number | null = null;
  #abort: AbortController | null = null;
  /** The next batch, read from disk while the current one was in flight (at most one batch). */
  #readAhead: { readonly afterPos: number; readonly entries: Promise<ForwardEntry[] | null> } | null = null;
  #loop: Promise<void> | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(options: ForwarderOptions, deps: ForwarderDeps) {
    this.#o = options;
    this.#d = deps;
    this.#maxEntries = options.batchMaxEvents;
    this.#backoff = new Backoff(options, deps.random);
    this.#wake = new WakeSignal(deps.timers);
    this.stats = new ForwarderStats(deps.clock);
  }

  get state(): ForwarderState {
    return this.#state;
  }

  /** When the next attempt is due while in `backoff` (ms since epoch). */
  get nextAttemptAtMs(): number | null {
    return this.#state === 'backoff' ? this.#nextAttemptAtMs : null;
  }

  start(): void {
    if (this.#state !== 'created') throw new TypeError(`forwarder cannot start from ${this.#state}`);
    this.#unsubscribe = this.#d.queue.onAppend(() => this.#wake.wake('append'));
    this.#state = 'idle';
    this.#loop = this.#run();
  }

  /**
   * Try now: ends a backoff wait and resets the backoff (the WAN came back, or an admin asked to
   * drain). `append` only ends an idle wait.
   */
  wake(reason: WakeReason = 'force'): void {
    if (reason === 'force') this.#backoff.reset();
    this.#wake.wake(reason);
  }

  /** Listeners see every request outcome (the WAN monitor learns from them). */
  onOutcome(listener: (o: IngestOutcome) => void): () => void {
    this.#outcomeListeners.add(listener);
    return () => this.#outcomeListeners.delete(listener);
  }

  /** Queues dead letters for a resend (all, or those at `positions`); returns how many. */
  async retryDeadLetters(positions?: readonly number[]): Promise<number> {
    const letters = await this.#d.queue.listDeadLetters(this.#o.deadLetterRetryMax);
    const chosen = positions === undefined ? letters : letters.filter((l) => positions.includes(l.pos));
    for (const l of chosen) {
      if (this.#retryQueue.size >= this.#o.deadLetterRetryMax) break;
      this.#retryQueue.set(l.pos, l);
      this.#blocked.delete(l.terminal);
    }
    this.wake('force');
    return chosen.length;
  }

  /** Stops after the request in flight is aborted; the cursor stays where the cloud left it. */
  async close(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'closing') return this.#loop ?? undefined;
    const wasStarted = this.#state !== 'created';
    this.#state = 'closing';
    this.#unsubscribe?.();
    this.#abort?.abort();
    this.#wake.wake('force');
    if (wasStarted) await this.#loop;
    this.#state = 'closed';
  }

  async #run(): Promise<void> {
    while (!this.#isClosing()) {
      let step: Step;
      try {
        step = await this.#step();
      } catch (err) {
        // The store failed under us (disk error, or closing): log, back off, try again.
        const code = String((err as { code?: unknown }).code ?? 'STORE_ERROR');
        this.stats.failure(code);
        if (this.#isClosing()) break;
        this.#d.logger.error('forwarder step failed', { err, code });
        step = { kind: 'wait', delayMs: this.#backoff.next() };
      }
      if (this.#isClosing()) break;
      if (step.kind === 'more') continue;
      if (step.kind === 'empty') {
        this.#setState('idle');
        await this.#wake.wait(null);
      } else {
        this.#setState('backoff');
        this.#nextAttemptAtMs = this.#d.clock.now() + step.delayMs;
        await this.#wake.wait(step.delayMs);
      }
    }
  }

  /** Loop states never overwrite `closing`: close() may run during any await of the loop. */
  #setState(next: 'idle' | 'sending' | 'backoff'): void {
    if (this.#state !== 'closing' && this.#state !== 'closed') this.#state = next;
  }

  /** A method, not an inline check: the state changes under our awaits, TS cannot see that. */
  #isClosing(): boolean {
    return this.#state === 'closing';
  }

  async #step(): Promise<Step> {
    if (this.#retryQueue.size > 0) return this.#retryStep();
    const cursor = this.#d.queue.cursor();
    const entries = (await this.#takeReadAhead(cursor)) ?? (await this.#d.queue.readAfter(cursor, this.#maxEntries, this.#o.batchMaxBytes));
    if (entries.length === 0) return { kind: 'empty' };
    const lastPos = (entries[entries.length - 1] as ForwardEntry).pos;
    // Read the next batch from disk while this one is on the wire: still one batch in flight, at
    // most two in memory. It is used only when this batch settles whole.
    const readAhead = this.#d.queue.readAfter(lastPos, this.#maxEntries, this.#o.batchMaxBytes).catch(() => null);
    this.#setState('sending');
    // After a start the cloud may lack keys we sent before a crash or that it lost: resend the keys
    // of every terminal in the first batch; afterwards only those it said it does not know.
    const terminals = new Set(entries.filter((e) => e.kind === 'event').map((e) => e.terminal));
    const keysFor = [...terminals].filter((t) => this.#freshStart || this.#needKeys.has(t));
    const keysSent = new Set([...keysFor, ...entries.filter((e) => e.kind === 'enrollment').map((e) => e.terminal)]);
    const extra = await enrollmentsFor(this.#d.enrollments, keysFor);
    const outcome = await this.#send(entries, extra);
    if (outcome.kind !== 'ok') return this.#failed(outcome, entries);
    const verdict = settleBatch(entries, outcome.results, {
      cursor,
      nowMs: this.#d.clock.now(),
      isBlocked: (t, expected) => this.#blocked.get(t) === expected,
      keysWereSent: (t) => keysSent.has(t),
    });
    if (verdict.kind === 'malformed') {
      this.#d.logger.warn('cloud answer does not match the batch', { reason: verdict.reason });
      this.stats.failure(CLOUD_FAILURE_CODES.malformed);
      return this.#failed({ kind: 'retry', code: CLOUD_FAILURE_CODES.malformed, status: 200, latencyMs: outcome.latencyMs }, entries);
    }
    if (verdict.deadLetters.length > 0) await this.#d.queue.advanceCursorWithDeadLetters(verdict.throughPos, verdict.deadLetters);
    else if (verdict.throughPos > cursor) await this.#d.queue.advanceCursor(verdict.throughPos);
    for (const dl of verdict.deadLetters) {
      // Open sets (DESIGN §3.4): a code or status this gateway does not know is a permanent refusal of
      // that one event, said as such (a newer cloud), and the queue moves on.
      const known = isRejectCode(dl.code) || dl.code === 'REJECTED';
      const why = dl.code === UNKNOWN_STATUS ? 'the cloud answered a status this gateway does not know' : known ? 'the cloud refused it' : 'the cloud refused it with a code this gateway does not know';
      this.#alarm(dl.code, `event dead-lettered: ${why}`, { terminal: dl.terminal, seq: dl.seq });
    }
    this.stats.counters.eventsAccepted += verdict.accepted;
    this.stats.counters.eventsDuplicate += verdict.duplicates;
    this.stats.counters.eventsDeadLettered += verdict.deadLetters.length;
    this.stats.delivered(verdict.accepted + verdict.duplicates);
    this.stats.success();
    this.#freshStart = false;
    for (const t of keysFor) this.#needKeys.delete(t);
    this.#backoff.reset();
    // A 413 shrank the batch: grow back step by step while the cloud takes what we send.
    this.#maxEntries = Math.min(this.#o.batchMaxEvents, this.#maxEntries * 2);
    if (verdict.stop !== null) return this.#handleStop(verdict.stop);
    this.#lastGap = null;
    if (verdict.throughPos === lastPos) this.#readAhead = { afterPos: lastPos, entries: readAhead };
    return MORE;
  }

  /** The read-ahead batch when it starts right after `cursor` and is not empty; else null. */
  async #takeReadAhead(cursor: number): Promise<ForwardEntry[] | null> {
    const ahead = this.#readAhead;
    this.#readAhead = null;
    if (ahead === null || ahead.afterPos !== cursor) return null;
    const entries = await ahead.entries;
    // Empty means nothing was there when it was read: read again, something may have come since.
    return entries === null || entries.length === 0 ? null : entries;
  }

  async #handleStop(stop: SettleStop): Promise<Step> {
    if (stop.kind === 'unknown-key') {
      this.#d.logger.warn('cloud does not know a key: resending enrollments', { terminal: stop.terminal, seq: stop.seq });
      this.#needKeys.add(stop.terminal);
      return MORE;
    }
    const key = `${stop.terminal}:${stop.expected}`;
    this.#lastGap = this.#lastGap?.key === key ? { key, count: this.#lastGap.count + 1 } : { key, count: 1 };
    this.stats.counters.gapRepairs++;
    this.#d.logger.warn('cloud is missing events: repairing the gap', { terminal: stop.terminal, expected: stop.expected, seq: stop.seq });
    if (this.#lastGap.count > MAX_REPAIRS_PER_GAP) {
      this.#block(stop.terminal, stop.expected, 'repairs made no progress');
      return MORE;
    }
    const result = await repairGap(this.#context(), stop.terminal, stop.expected, stop.seq);
    if (result.kind === 'failed') return this.#failed(result.outcome, null);
    if (result.kind === 'blocked') this.#block(stop.terminal, stop.expected, result.reason);
    else this.stats.counters.eventsAccepted += result.resent;
    return MORE;
  }

  async #retryStep(): Promise<Step> {
    this.#setState('sending');
    const letters = [...this.#retryQueue.values()].sort((a, b) => a.pos - b.pos).slice(0, this.#maxEntries);
    const result = await resendDeadLetters(this.#context(), letters);
    if (result.kind === 'failed' && (result.outcome.kind === 'retry' || result.outcome.kind === 'auth')) {
      return this.#failed(result.outcome, null);
    }
    for (const l of letters) this.#retryQueue.delete(l.pos);
    if (result.kind === 'done') this.#d.logger.info('dead letters resent', { recovered: result.recovered, refused: result.refused, missing: result.missing });
    return MORE;
  }

  async #send(entries: readonly ForwardEntry[], extra: readonly Enrollment[]): Promise<IngestOutcome> {
    const request = buildRequest({ gateway: this.#o.gatewayId, store: this.#o.store }, uuidv7(this.#d.clock.now()), entries, extra);
    this.#abort = new AbortController();
    const outcome = await this.#d.client.ingest(request, this.#abort.signal);
    this.#abort = null;
    this.stats.counters.batchesSent++;
    this.stats.latency(outcome.latencyMs);
    if (outcome.kind !== 'ok') this.stats.failure(outcome.code);
    for (const listener of this.#outcomeListeners) listener(outcome);
    return outcome;
  }

  /** Failed request: back off (retryable), slow down (auth), or split the batch (400/413). */
  async #failed(outcome: Exclude<IngestOutcome, { kind: 'ok' }>, entries: readonly ForwardEntry[] | null): Promise<Step> {
    switch (outcome.kind) {
      case 'retry':
        return { kind: 'wait', delayMs: this.#backoff.next() };
      case 'auth':
        // A token fix must not lose data: keep everything, keep trying, slowly, loudly.
        this.#alarm(outcome.code, 'cloud refuses the gateway token', {});
        return { kind: 'wait', delayMs: this.#o.authRetryDelayMs };
      case 'too-large':
      case 'bad-request': {
        if (entries !== null && entries.length > 1) {
          this.#maxEntries = Math.max(1, Math.floor(entries.length / 2));
          this.#d.logger.warn('cloud refused the batch as is: halving it', { code: outcome.code, maxEntries: this.#maxEntries });
          return MORE;
        }
        const only = entries?.[0];
        if (only?.kind === 'event') {
          const dl: DeadLetter = { pos: only.pos, terminal: only.terminal, seq: only.seq, code: outcome.code, message: `cloud answered ${outcome.code} to this event alone`, atMs: this.#d.clock.now() };
          await this.#d.queue.advanceCursorWithDeadLetters(only.pos, [dl]);
          this.stats.counters.eventsDeadLettered++;
          this.#alarm(outcome.code, 'event dead-lettered: the cloud refuses it even alone', { terminal: only.terminal, seq: only.seq });
          return MORE;
        }
        this.#alarm(outcome.code, 'cloud refuses a request that cannot be split further', {});
        return { kind: 'wait', delayMs: this.#o.authRetryDelayMs };
      }
    }
  }

  #block(terminal: string, expected: number, reason: string): void {
    if (this.#blocked.size >= MAX_BLOCKED_TERMINALS) {
      const oldest = this.#blocked.keys().next().value;
      if (oldest !== undefined) this.#blocked.delete(oldest);
    }
    this.#blocked.set(terminal, expected);
    this.#alarm('GAP_UNREPAIRABLE', 'cloud gap cannot be repaired: later events of the terminal go to dead letters', { terminal, expected, reason });
  }

  #alarm(code: string, msg: string, fields: Record<string, unknown>): void {
    this.stats.alarm(code);
    this.#d.logger.error(`ALARM ${msg}`, { alarm: code, ...fields });
  }

  #context(): SendContext {
    return {
      queue: this.#d.queue,
      enrollments: this.#d.enrollments,
      logger: this.#d.logger,
      stats: this.stats,
      maxEntries: this.#maxEntries,
      send: (entries, extra) => this.#send(entries, extra),
    };
  }
}
