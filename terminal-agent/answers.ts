/**
 * What the gateway's answer to one publish means (DESIGN §3.3), as a pure function returning a
 * value that the publisher applies (the shape of gateway/forwarder/settle.ts). An answer without a
 * reject is "stored or byte-identical duplicate"; a reject is acted on by its code (refusal.ts).
 */
import type { RejectMessage } from '../protocol/messages.js';
import type { ChainState } from './chain-state.js';
import { refusalAction } from './refusal.js';
import type { Refusal } from './resequence.js';

export interface AnswerInput {
  readonly entry: { readonly seq: number; readonly id: string; readonly superseded: boolean; readonly refusal: RejectMessage | undefined };
  readonly chain: ChainState;
  readonly ackedSeq: number;
  /** Events set aside since the gateway last acknowledged one. */
  readonly setAsideInARow: number;
  readonly maxConsecutiveSetAside: number;
  /**
   * True when the outbox still holds what follows `seq` (acknowledged events it kept because the
   * cloud did not have them yet: outbox `rewindTarget`), so a gateway that went back can be refilled.
   */
  readonly canRewindTo?: (seq: number) => boolean;
}

export type AnswerEffect =
  /** Sent before a rewind or a re-sequence: the answer means nothing now. */
  | { readonly kind: 'ignore' }
  /** The gateway's copy of this seq is ours; a held chain is released (only the held event is sent while held). */
  | { readonly kind: 'accepted'; readonly seq: number; readonly releasesHold: boolean }
  /** Not now: pause, then resend from `fromSeq`. */
  | { readonly kind: 'retry-later'; readonly fromSeq: number }
  /** Resend from `toSeq` (SEQ_GAP's `expected`). */
  | { readonly kind: 'rewind'; readonly toSeq: number }
  /**
   * The gateway lost events it had acknowledged (a restore from an older backup) and the outbox
   * kept them: un-acknowledge them from `toSeq` on and resend.
   */
  | { readonly kind: 'rewind-retained'; readonly toSeq: number }
  /** Stop: nothing recorded now would be delivered. */
  | { readonly kind: 'hold'; readonly seq: number; readonly code: string }
  /** The held event was refused again: stay held, nothing more set aside. */
  | { readonly kind: 'still-held' }
  /** Move the unacknowledged events onto the gateway's head (the refused one set aside, dropped or moved). */
  | { readonly kind: 'resequence'; readonly refusal: Refusal };

export function settleAnswer(a: AnswerInput): AnswerEffect {
  const { entry } = a;
  if (entry.superseded) return { kind: 'ignore' };
  const rej = entry.refusal;
  if (rej === undefined) return { kind: 'accepted', seq: entry.seq, releasesHold: a.chain.kind === 'held' };
  const action = refusalAction(rej.code, rej.expected);
  if (action === 'retry-later') return { kind: 'retry-later', fromSeq: entry.seq };
  if (action === 'rewind') {
    const expected = rej.expected!;
    if (expected > a.ackedSeq) return { kind: 'rewind', toSeq: expected };
    // The gateway lost events it had acknowledged: resend them if we kept them, else nothing can.
    return a.canRewindTo?.(expected - 1) === true ? { kind: 'rewind-retained', toSeq: expected } : { kind: 'hold', seq: expected, code: 'GATEWAY_BEHIND' };
  }
  if (a.chain.kind === 'held') return { kind: 'still-held' };
  if (action === 'set-aside' && a.setAsideInARow >= a.maxConsecutiveSetAside) return { kind: 'hold', seq: entry.seq, code: rej.code };
  return { kind: 'resequence', refusal: { seq: entry.seq, id: entry.id, code: rej.code, message: rej.message, action } };
}
