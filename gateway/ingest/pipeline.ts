/**
 * The ingest pipeline that runs inside Aedes' `authorizePublish` (DESIGN §5.1), as a named list of
 * steps: parse → identity → key → verify → confirmed head → sequence → capacity → unique
 * id → append, then
 * the durable wait and the answer (ack / reject message) before the PUBACK.
 *
 * A bad event becomes a durable reject record plus a `rejects` message and a normal PUBACK, never
 * an error: an error disconnects the terminal, which would resend the poison forever. Only store
 * failures (disk) surface as errors, so the terminal resends after reconnecting.
 *
 * The ordered steps run one publish at a time per client (client-lanes.ts), so no other publish can
 * move the terminal's tentative head between `sequence` and `append`; `unique id` reserves the
 * event's id store-wide before it reads the id index (id-gate.ts), so two terminals cannot both
 * store one id.
 */
import type { Logger } from '../../lib/logger.js';
import { chainHash, classifySequence } from '../../protocol/chain.js';
import { RejectError, type RejectCode } from '../../protocol/errors.js';
import { checkIdentity, decodeEvent, type DecodedEvent } from '../../protocol/jws.js';
import { topics } from '../../protocol/topics.js';
import type { CommitEntry, EventStore } from '../store/event-store.js';
import { isDiskFull } from '../store/storage-errors.js';
import type { ChainTracker } from './chain-tracker.js';
import type { Staged } from './client-lanes.js';
import type { GroupCommitter } from './group-commit.js';
import type { EventIdGate, IdReservation } from './id-gate.js';
import type { MessageBus } from './message-bus.js';
import type { Verifier } from './verifier.js';

export type IngestOutcome =
  | { readonly kind: 'stored'; readonly seq: number }
  | { readonly kind: 'duplicate'; readonly seq: number }
  | { readonly kind: 'rejected'; readonly code: RejectCode; readonly seq: number };

export interface IngestDeps {
  readonly storeId: string;
  readonly store: Pick<EventStore, 'terminal' | 'getEvent' | 'head' | 'eventIdOwner'>;
  readonly tracker: ChainTracker;
  readonly ids: EventIdGate;
  readonly committer: GroupCommitter;
  readonly verifier: Verifier;
  readonly bus: MessageBus;
  /** The retained acks (gateway/acks.ts): published after each commit that moved a head. */
  readonly acks: { publish(terminal: string): Promise<void> };
  /**
   * True while the terminal's head is not confirmed by the cloud (a gateway restored from a
   * backup, gateway/resync): its events get STORE_FULL ("keep it, retry later"), which every agent
   * version understands, rather than an ack on a head that may be stale.
   */
  readonly unconfirmed: (terminal: string) => boolean;
  /**
   * Whether an event of `bytes` may be stored now: false past the disk high-water mark (counting
   * what is about to be written) or while the storage is damaged. New events then get STORE_FULL
   * (DESIGN §4), with `reason` as the message; terminals keep them and retry.
   */
  readonly admit: (bytes: number) => { readonly ok: true } | { readonly ok: false; readonly reason: string };
  readonly logger: Logger;
}

/** One publish on its way through the steps. */
export interface IngestContext {
  readonly terminal: string;
  readonly payload: Buffer;
  /** Set when an order-free step rejected the event; answered in order by `stage`. */
  rejection?: RejectError;
  event?: DecodedEvent;
  publicKey?: Buffer;
  /** Set by a step that settles the publish early (a duplicate). */
  outcome?: 'duplicate';
  /** The event's id, reserved store-wide until its commit settles. */
  reservation?: IdReservation;
  entry?: Extract<CommitEntry, { kind: 'event' }>;
}

type Step = (ctx: IngestContext, deps: IngestDeps) => void | Promise<void>;

const parse: Step = (ctx) => {
  ctx.event = decodeEvent(ctx.payload);
};

const identity: Step = (ctx, deps) => {
  checkIdentity(need(ctx.event), deps.storeId, ctx.terminal);
};

const key: Step = (ctx, deps) => {
  const kid = need(ctx.event).header.kid;
  const found = deps.store.terminal(ctx.terminal)?.keys.find((k) => k.kid === kid);
  if (found === undefined) throw new RejectError('UNKNOWN_KEY', `no key ${kid} enrolled for ${ctx.terminal}`);
  ctx.publicKey = Buffer.from(found.publicKey, 'base64url');
};

const verify: Step = (ctx, deps) => deps.verifier.verify(need(ctx.event), need(ctx.publicKey));

const confirmedHead: Step = (ctx, deps) => {
  if (deps.unconfirmed(ctx.terminal)) {
    throw new RejectError('STORE_FULL', 'this gateway was restored from a backup and is confirming this terminal\'s payments with the cloud; keep the event and retry later');
  }
};

const sequence: Step = (ctx, deps) => {
  const { seq, prev } = need(ctx.event).payload;
  const verdict = classifySequence(deps.tracker.head(ctx.terminal), seq, prev);
  switch (verdict.kind) {
    case 'next':
      return;
    case 'gap':
      throw new RejectError('SEQ_GAP', `expected seq ${verdict.expected}`, { expected: verdict.expected });
    case 'bad-chain':
      throw new RejectError('BAD_CHAIN', `prev does not match the chain hash of seq ${seq - 1}`);
    case 'past':
      return checkDuplicate(ctx, deps);
  }
};

/** DESIGN §3.3: seq ≤ head with identical bytes is a duplicate; different bytes are CONFLICT. */
async function checkDuplicate(ctx: IngestContext, deps: IngestDeps): Promise<void> {
  const { seq } = need(ctx.event).payload;
  const jws = need(ctx.event).jws;
  // Durable heads never move back, so a seq at or below it stays answerable from disk.
  const stored = seq <= deps.tracker.durableHead(ctx.terminal).seq
    ? (await deps.store.getEvent(ctx.terminal, seq))?.jws ?? null
    : deps.tracker.pendingJws(ctx.terminal, seq) ?? null;
  // null: stored once and pruned by retention after the cloud accepted it; counts as a duplicate.
  if (stored !== null && stored !== jws) {
    throw new RejectError('CONFLICT', `seq ${seq} is already stored with different bytes`);
  }
  ctx.outcome = 'duplicate';
}

const capacity: Step = (ctx, deps) => {
  const admitted = deps.admit(need(ctx.event).jws.length);
  if (!admitted.ok) throw new RejectError('STORE_FULL', admitted.reason);
};

/**
 * The `id` is the idempotency key (DESIGN §3.2), unique in the store (the cloud checks it per
 * store too): the same id at another seq is DUPLICATE_ID. A byte-identical resend of the same seq
 * never gets here (`sequence` settles it as a duplicate).
 */
const uniqueId: Step = async (ctx, deps) => {
  const { id, seq } = need(ctx.event).payload;
  for (let held = deps.ids.holder(id); held !== undefined; held = deps.ids.holder(id)) {
    if (await held.settled) throw duplicateId(id, held);
  }
  const reservation = deps.ids.reserve(id, ctx.terminal, seq);
  ctx.reservation = reservation;
  let owner;
  try {
    owner = await deps.store.eventIdOwner(id);
  } catch (err) {
    reservation.release(false);
    throw err;
  }
  if (owner !== undefined && (owner.terminal !== ctx.terminal || owner.seq !== seq)) {
    reservation.release(false);
    throw duplicateId(id, owner);
  }
};

function duplicateId(id: string, owner: { readonly terminal: string; readonly seq: number }): RejectError {
  return new RejectError('DUPLICATE_ID', `event id ${id} is already stored as ${owner.terminal}/${owner.seq}`);
}

const append: Step = (ctx, deps) => {
  const event = need(ctx.event);
  const hash = chainHash(event.jws);
  const p = event.payload;
  ctx.entry = {
    kind: 'event', terminal: ctx.terminal, seq: p.seq, prev: p.prev, jws: event.jws, hash,
    id: p.id, type: p.type, outcome: p.outcome, amount: p.amount, currency: p.currency,
  };
  deps.tracker.add(ctx.terminal, p.seq, hash, event.jws);
};

/**
 * The steps in order; a step throws RejectError to reject or sets `outcome` to settle early.
 * The first four need no order and run as soon as a publish arrives (a socket read's publishes
 * verify concurrently); the rest run one publish at a time per client, in publish order.
 */
export const PREPARE_STEPS: readonly (readonly [string, Step])[] = [
  ['parse', parse],
  ['identity', identity],
  ['key', key],
  ['verify', verify],
];
export const ORDERED_STEPS: readonly (readonly [string, Step])[] = [
  ['confirmed head', confirmedHead],
  ['sequence', sequence],
  ['capacity', capacity],
  ['unique id', uniqueId],
  ['append', append],
];
export const INGEST_STEPS = [...PREPARE_STEPS, ...ORDERED_STEPS];

async function runSteps(steps: readonly (readonly [string, Step])[], ctx: IngestContext, deps: IngestDeps): Promise<void> {
  for (const [, step] of steps) {
    const pending = step(ctx, deps);
    if (pending !== undefined) await pending;
    if (ctx.outcome !== undefined) return;
  }
}

const MAX_REJECT_MESSAGE_CHARS = 512;

export class IngestPipeline {
  readonly #deps: IngestDeps;
  readonly counts = { stored: 0, duplicates: 0, rejected: 0 };

  constructor(deps: IngestDeps) {
    this.#deps = deps;
  }

  /** The order-free steps of one `events` publish; a rejection is kept for `stage` to answer in order. */
  async prepare(terminal: string, payload: Buffer): Promise<IngestContext> {
    const ctx: IngestContext = { terminal, payload };
    try {
      await runSteps(PREPARE_STEPS, ctx, this.#deps);
    } catch (err) {
      if (!(err instanceof RejectError)) throw err;
      ctx.rejection = err;
    }
    return ctx;
  }

  /** The ordered steps, then the hand-off to the committer; `durable` settles when answered. */
  async stage(ctx: IngestContext): Promise<Staged<IngestOutcome>> {
    if (ctx.rejection !== undefined) return { durable: this.#reject(ctx, ctx.rejection) };
    try {
      await runSteps(ORDERED_STEPS, ctx, this.#deps);
    } catch (err) {
      ctx.reservation?.release(false);
      if (!(err instanceof RejectError)) throw err;
      return { durable: this.#reject(ctx, err) };
    }
    const terminal = ctx.terminal;
    const seq = need(ctx.event).payload.seq;
    if (ctx.outcome === 'duplicate') return { durable: this.#duplicate(terminal, seq) };
    const entry = need(ctx.entry);
    const reservation = need(ctx.reservation);
    const durable = this.#deps.committer.submit([entry], entry.jws.length).then(
      (): IngestOutcome => {
        reservation.release(true);
        this.counts.stored++;
        return { kind: 'stored', seq };
      },
      (err: unknown) => {
        reservation.release(false);
        // The disk filled under this write (the reserve is now free): answer STORE_FULL, coded and
        // durable like every reject, instead of dropping the terminal's connection (DESIGN §4).
        if (isDiskFull(err)) return this.#reject(ctx, new RejectError('STORE_FULL', 'the gateway disk is full; keep the event and retry later'));
        throw err;
      },
    );
    return { durable };
  }

  /** After each durable batch: publish the retained ack of every terminal it extended. */
  committed(entries: readonly CommitEntry[]): void {
    this.#deps.tracker.committed(entries);
    const touched = new Set<string>();
    for (const e of entries) if (e.kind === 'event') touched.add(e.terminal);
    for (const terminal of touched) this.#publishAck(terminal).catch((err: unknown) => this.#deps.logger.warn('ack publish failed', { terminal, err }));
  }

  #publishAck(terminal: string): Promise<void> {
    return this.#deps.acks.publish(terminal);
  }

  async #duplicate(terminal: string, seq: number): Promise<IngestOutcome> {
    // Behind everything this terminal sent before it, so the ack it triggers covers seq.
    await this.#deps.committer.submit([], 0);
    await this.#publishAck(terminal);
    this.counts.duplicates++;
    return { kind: 'duplicate', seq };
  }

  async #reject(ctx: IngestContext, err: RejectError): Promise<IngestOutcome> {
    const { seq, id } = ctx.event !== undefined ? ctx.event.payload : peekSeqId(ctx.payload);
    const message = err.message.slice(0, MAX_REJECT_MESSAGE_CHARS);
    const expected = err.code === 'SEQ_GAP' ? err.expected : undefined;
    const entry: CommitEntry = { kind: 'reject', terminal: ctx.terminal, seq, id, code: err.code, message, ...(expected === undefined ? {} : { expected }) };
    await this.#deps.committer.submit([entry], message.length);
    // DESIGN §3.3: PUBACK only after the reject record is durable and the reject is published.
    await this.#deps.bus.publish(
      topics.rejects(this.#deps.storeId, ctx.terminal),
      { seq, id, code: err.code, message, ...(expected === undefined ? {} : { expected }) },
      { qos: 1, retain: false },
    );
    this.counts.rejected++;
    if (err.code === 'CONFLICT') this.#deps.logger.error('ALARM: conflicting event bytes for a stored seq', { alarm: 'CONFLICT', terminal: ctx.terminal, seq });
    return { kind: 'rejected', code: err.code, seq };
  }
}

function need<T>(value: T | undefined): T {
  if (value === undefined) throw new TypeError('ingest step ran out of order');
  return value;
}

/** Best-effort seq and id of an event that failed to parse, for the reject message. */
export function peekSeqId(payload: Buffer): { seq: number; id: string } {
  try {
    if (payload.length > 64 * 1024) return { seq: 0, id: '' };
    const body = payload.toString('latin1').split('.')[1];
    if (body === undefined) return { seq: 0, id: '' };
    const json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { seq?: unknown; id?: unknown };
    const seq = typeof json.seq === 'number' && Number.isSafeInteger(json.seq) && json.seq >= 0 ? json.seq : 0;
    const id = typeof json.id === 'string' && json.id.length <= 64 && !/\d{13}/.test(json.id) ? json.id : '';
    return { seq, id };
  } catch {
    return { seq: 0, id: '' };
  }
}
