/**
 * Re-sequencing (DESIGN §3.3 "no terminal stays stuck"): the events the gateway never acknowledged
 * exist only on this terminal, so when the gateway refuses one for good, or holds a different chain
 * (a restore from backup), the terminal re-signs its unacknowledged events onto the gateway's head:
 * each keeps its `id` and content, `seq` and `prev` change, the signature is new. The refused one
 * is set aside (kept, listed, exportable), or dropped as delivered when the gateway already has its
 * id. `decideResequence` is the decision as a pure function; `Resequencer` applies it as one
 * synced outbox write, through the queue it shares with `record()`.
 */
import { z } from 'zod';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { decode as b64decode } from '../protocol/base64url.js';
import { chainHash, type ChainHead } from '../protocol/chain.js';
import type { EventPayload } from '../protocol/event.js';
import { signEvent } from '../protocol/jws.js';
import type { Signer } from '../protocol/signer.js';
import type { Outbox, OutboxRecord, ResequencePlan } from './outbox/outbox.js';
import type { RefusalAction } from './refusal.js';
import type { SerialQueue } from './serial-queue.js';

/** The refusal that triggered a re-sequence: the event it names, and what its code means. */
export interface Refusal {
  readonly seq: number;
  readonly id: string;
  readonly code: string;
  readonly message: string;
  readonly action: Extract<RefusalAction, 'resequence' | 'delivered' | 'set-aside'>;
}

export interface ResequenceRequest {
  /** The gateway's head for this terminal, from a retained ack read after the window drained. */
  readonly gateway: ChainHead;
  /** Highest seq the gateway answered without a refusal in this session: its copy is byte-identical. */
  readonly acceptedUpTo: number;
  readonly refusal?: Refusal;
}

export type ResequenceDecision =
  /**
   * The gateway is behind what it already acknowledged (or accepted): it lost events this terminal
   * no longer holds. Moving onto its head would reuse seqs the cloud may hold: an operator acts.
   */
  | { readonly kind: 'hold'; readonly seq: number; readonly code: 'GATEWAY_BEHIND' }
  | {
      readonly kind: 'plan';
      readonly deliveredUpTo: number;
      readonly base: ChainHead;
      readonly refused?: Pick<Refusal, 'seq' | 'id' | 'code' | 'message'> & { readonly outcome: 'set-aside' | 'delivered' };
      readonly moveSeqs: readonly number[];
    };

/** Pure: what to deliver, refuse and move, given the outbox's pending records and the gateway's head. */
export function decideResequence(
  view: { readonly acked: ChainHead; readonly head: ChainHead; readonly pending: readonly Pick<OutboxRecord, 'seq' | 'id'>[] },
  req: ResequenceRequest,
): ResequenceDecision {
  const deliveredUpTo = Math.min(view.head.seq, Math.max(view.acked.seq, req.acceptedUpTo));
  if (req.gateway.seq < deliveredUpTo) return { kind: 'hold', seq: req.gateway.seq + 1, code: 'GATEWAY_BEHIND' };
  const rest = view.pending.filter((r) => r.seq > deliveredUpTo);
  const first = rest[0];
  const r = req.refusal;
  // A refusal counts only for the first event the gateway does not hold: anything else is stale,
  // and the event is simply moved (if it is refused again, that answer is handled then).
  const refused = r !== undefined && r.action !== 'resequence' && first !== undefined && first.seq === r.seq && first.id === r.id
    ? { seq: r.seq, id: r.id, code: r.code, message: r.message, outcome: r.action === 'delivered' ? 'delivered' as const : 'set-aside' as const }
    : undefined;
  return {
    kind: 'plan',
    deliveredUpTo,
    base: { seq: req.gateway.seq, hash: req.gateway.hash },
    ...(refused === undefined ? {} : { refused }),
    moveSeqs: rest.filter((p) => p.seq !== refused?.seq).map((p) => p.seq),
  };
}

/** Only what re-chaining needs of a payload: everything else is kept exactly as it was. */
const chainedPayloadSchema = z.object({ seq: z.number(), prev: z.string() }).loose();

/**
 * Re-signs `records` (in order) onto `base`: same payload and id, new seq and prev, new signature.
 * Content is not judged here (the gateway does that); a record that is not a JWS we wrote is a bug.
 */
export async function resign(records: readonly OutboxRecord[], base: ChainHead, signer: Signer): Promise<OutboxRecord[]> {
  const out: OutboxRecord[] = [];
  let prev = base.hash;
  let seq = base.seq;
  for (const r of records) {
    const parsed = chainedPayloadSchema.safeParse(payloadOf(r.jws));
    if (!parsed.success) throw new TypeError(`outbox seq ${r.seq} does not hold an event payload`);
    seq++;
    // Spreading keeps the key order, so only seq and prev differ in the signed bytes.
    const jws = await signEvent({ ...parsed.data, seq, prev } as EventPayload, signer);
    const hash = chainHash(jws);
    out.push({ ...r, seq, jws, hash });
    prev = hash;
  }
  return out;
}

/** The JSON payload of a compact JWS, or undefined when it is not one. */
export function payloadOf(jws: string): unknown {
  const body = jws.split('.')[1];
  const bytes = body === undefined ? undefined : b64decode(body);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export type ResequenceOutcome =
  | { readonly kind: 'hold'; readonly seq: number; readonly code: string }
  | {
      readonly kind: 'done';
      readonly base: ChainHead;
      readonly moved: number;
      readonly delivered: number;
      readonly refused?: { readonly seq: number; readonly id: string; readonly code: string; readonly outcome: 'set-aside' | 'delivered' };
    };

export interface ResequencerOptions {
  readonly outbox: Outbox;
  readonly signer: Signer;
  /** Shared with the recorder (serial-queue.ts). */
  readonly queue: SerialQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class Resequencer {
  readonly #o: ResequencerOptions;

  constructor(options: ResequencerOptions) {
    this.#o = options;
  }

  /** Decides and applies one re-sequence; the outbox write is one synced batch (crash-atomic). */
  run(req: ResequenceRequest): Promise<ResequenceOutcome> {
    return this.#o.queue.run(() => this.#run(req));
  }

  async #run(req: ResequenceRequest): Promise<ResequenceOutcome> {
    const { outbox, logger } = this.#o;
    const acked = outbox.acked();
    const head = outbox.head();
    // Every pending record: bounded by maxOutboxEvents, which record() enforces.
    const pending = await outbox.read(acked.seq + 1, outbox.stats().depth + 1);
    const decision = decideResequence({ acked, head, pending }, req);
    if (decision.kind === 'hold') {
      logger.error('gateway is behind what it acknowledged: holding this terminal\'s chain', { gatewaySeq: req.gateway.seq, ackedSeq: acked.seq });
      return decision;
    }
    const moving = new Set(decision.moveSeqs);
    const toMove = pending.filter((r) => moving.has(r.seq));
    logger.info('resequencing', { events: toMove.length, fromSeq: toMove[0]?.seq ?? null, base: decision.base.seq, refusedSeq: decision.refused?.seq ?? null, code: decision.refused?.code ?? null });
    const resigned = await resign(toMove, decision.base, this.#o.signer);
    const plan: ResequencePlan = {
      deliveredUpTo: decision.deliveredUpTo,
      base: decision.base,
      moved: resigned.map((record, i) => ({ fromSeq: toMove[i]!.seq, record })),
      ...(decision.refused === undefined ? {} : { refused: { ...decision.refused, atMs: this.#o.clock.now() } }),
    };
    await outbox.resequence(plan);
    const delivered = pending.filter((r) => r.seq <= decision.deliveredUpTo).length;
    logger.info('resequenced', { events: resigned.length, delivered, headSeq: outbox.head().seq, base: decision.base.seq });
    return {
      kind: 'done', base: decision.base, moved: resigned.length, delivered,
      ...(decision.refused === undefined ? {} : { refused: { seq: decision.refused.seq, id: decision.refused.id, code: decision.refused.code, outcome: decision.refused.outcome } }),
    };
  }
}
