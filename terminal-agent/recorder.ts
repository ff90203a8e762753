/**
 * `record(tx, {idempotencyKey})`: the one door through which a payment enters the terminal's
 * outbox. Steps: validate → replay a known idempotency key → chain state (a coded refusal while the
 * chain is being moved onto the gateway's head, or held) → offline limits → assign seq/prev/id →
 * sign → append durably (fsync, with the key in the same write) → answer.
 * Calls are serialized, on the queue the re-sequencer shares: seq and prev are assigned from the
 * head that the previous job left, and two calls with one key can never both miss the lookup.
 */
import { z } from 'zod';
import type { Clock } from '../lib/clock.js';
import { chainHash } from '../protocol/chain.js';
import { TillgateError } from '../protocol/errors.js';
import { describeIssues, eventPayloadSchema, MAX_JWS_BYTES, type EventPayload } from '../protocol/event.js';
import { UUID_PATTERN } from '../protocol/ids.js';
import { signEvent } from '../protocol/jws.js';
import { valueContainsPan } from '../protocol/pan.js';
import type { Signer } from '../protocol/signer.js';
import { cryptoRandom, uuidv7, type RandomBytes } from '../protocol/uuid.js';
import { IN_STEP, recordRefusal, type ChainState } from './chain-state.js';
import { AGENT_ERROR_CODES } from './errors.js';
import { parseIdempotencyKey, replayOf } from './idempotency.js';
import { offlineLimitBreach, type OfflineLimits } from './limits.js';
import { OfflineRefusals } from './offline-refusals.js';
import type { Outbox } from './outbox/outbox.js';
import { SerialQueue } from './serial-queue.js';

/**
 * What the payment app hands in: the event payload less what the agent assigns; `at` defaults to
 * now. `id` is optional: an app that authorises online with the PSP first passes the event id it
 * gave the PSP as merchantReference (DESIGN §3.6), so the PSP's notifications join this event.
 */
export const transactionSchema = z
  .object(eventPayloadSchema.shape)
  .omit({ v: true, store: true, terminal: true, seq: true, prev: true, id: true })
  .partial({ at: true })
  .extend({ id: z.string().regex(UUID_PATTERN, 'must be a UUID').optional() })
  .loose();
export type TransactionInput = (typeof transactionSchema)['_input'];

export interface RecordResult {
  readonly id: string;
  readonly seq: number;
  /** True when the event was approved under the offline limits. */
  readonly offline: boolean;
  /** True when this answers a retry with a known idempotency key: nothing new was recorded. */
  readonly replayed: boolean;
}

export interface RecordOptions {
  /**
   * The payment app's retry token (1-128 of `[A-Za-z0-9._:-]`): a retry with the same key returns
   * the original result and records nothing, for `idempotencyKeyTtlS` (idempotency.ts).
   */
  readonly idempotencyKey?: string | undefined;
}

/**
 * Most events a terminal keeps, unacknowledged or set aside: ~16 KiB max each, so at most ~1.6 GB
 * of flash; also what one re-sequence may move (read and re-signed in one go).
 */
export const DEFAULT_MAX_OUTBOX_EVENTS = 100_000;

export interface RecorderOptions {
  readonly store: string;
  readonly terminal: string;
  readonly signer: Signer;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly limits: OfflineLimits;
  /** True while the gateway is unreachable or reports its WAN down. */
  readonly isOffline: () => boolean;
  readonly maxOutboxEvents?: number;
  readonly random?: RandomBytes;
  /** Where the chain stands against the gateway's (the publisher's view); in step when absent. */
  readonly chain?: () => ChainState;
  /** The queue shared with the re-sequencer; a private one when absent. */
  readonly queue?: SerialQueue;
}

export class Recorder {
  readonly #o: RecorderOptions;
  readonly #queue: SerialQueue;
  /** Payments refused over the offline limits (the health sample reports them). */
  readonly offlineRefusals = new OfflineRefusals();

  constructor(options: RecorderOptions) {
    this.#o = options;
    this.#queue = options.queue ?? new SerialQueue();
  }

  /** Records one transaction durably; rejects with a TillgateError carrying an AGENT_ERROR_CODES code. */
  record(tx: unknown, options: RecordOptions = {}): Promise<RecordResult> {
    return this.#queue.run(() => this.#record(tx, options));
  }

  async #record(input: unknown, options: RecordOptions): Promise<RecordResult> {
    const o = this.#o;
    const parsed = transactionSchema.safeParse(input);
    if (!parsed.success) throw new TillgateError(AGENT_ERROR_CODES.BAD_TRANSACTION, describeIssues(parsed.error));
    const tx = parsed.data;
    const idempotencyKey = options.idempotencyKey === undefined ? undefined : parseIdempotencyKey(options.idempotencyKey);
    if (idempotencyKey !== undefined) {
      // Before every other check: a payment that is already recorded is answered even when the
      // limits or a full outbox would refuse a new one now.
      const stored = await o.outbox.idempotencyRecord(idempotencyKey);
      if (stored !== undefined) return replayOf(stored, tx);
    }
    if (!o.outbox.synced()) throw new TillgateError(AGENT_ERROR_CODES.NOT_SYNCED, 'the terminal has not reached its gateway since it was reset');
    // A success is a promise of delivery: none while the chain is being moved or is held.
    const refusal = recordRefusal(o.chain?.() ?? IN_STEP);
    if (refusal !== undefined) throw new TillgateError(refusal.code, refusal.message);
    const stats = o.outbox.stats();
    // Set-aside and retained (acknowledged, kept until the cloud has them) events take room too.
    if (stats.depth + stats.rejected + stats.retained >= (o.maxOutboxEvents ?? DEFAULT_MAX_OUTBOX_EVENTS)) throw new TillgateError(AGENT_ERROR_CODES.OUTBOX_FULL, 'outbox is full');
    const nowMs = o.clock.now();
    const offline = o.isOffline() || tx.mode === 'offline';
    const exposureMinor = tx.outcome === 'approved' ? tx.amount : 0;
    if (offline) {
      const breach = offlineLimitBreach({ amountMinor: exposureMinor, outbox: stats, nowMs }, o.limits);
      if (breach !== undefined) {
        this.offlineRefusals.count(breach, nowMs);
        throw new TillgateError(breach, `offline approval refused: ${breach}`);
      }
    }

    const head = o.outbox.head();
    const payload: EventPayload = {
      ...tx,
      v: 1,
      store: o.store,
      terminal: o.terminal,
      seq: head.seq + 1,
      prev: head.hash,
      id: tx.id ?? uuidv7(nowMs, o.random ?? cryptoRandom),
      at: tx.at ?? new Date(nowMs).toISOString(),
      mode: offline ? 'offline' : tx.mode,
    };
    const full = eventPayloadSchema.safeParse(payload);
    if (!full.success) throw new TillgateError(AGENT_ERROR_CODES.BAD_TRANSACTION, describeIssues(full.error));
    // DESIGN §3.2: the gateway rejects card numbers (PAN_DETECTED) and the event would be set aside; refuse here.
    if (valueContainsPan(payload)) throw new TillgateError(AGENT_ERROR_CODES.BAD_TRANSACTION, 'transaction contains what looks like a card number');
    const jws = await signEvent(payload, o.signer);
    if (jws.length > MAX_JWS_BYTES) throw new TillgateError(AGENT_ERROR_CODES.BAD_TRANSACTION, `event is larger than ${MAX_JWS_BYTES} bytes`);
    const idempotency = idempotencyKey === undefined
      ? undefined
      : { key: idempotencyKey, id: payload.id, seq: payload.seq, offline, type: tx.type, amount: tx.amount, currency: tx.currency, recordedAtMs: nowMs };
    await o.outbox.append({
      seq: payload.seq, id: payload.id, jws, hash: chainHash(jws), exposureMinor, recordedAtMs: nowMs,
      ...(idempotency === undefined ? {} : { idempotencyKey: idempotency.key }),
    }, idempotency);
    return { id: payload.id, seq: payload.seq, offline, replayed: false };
  }
}
