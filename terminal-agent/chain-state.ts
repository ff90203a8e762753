/**
 * Where the terminal's chain stands against the gateway's, as one state field. It
 * decides what `record()` answers: a success only while what is recorded will be sent.
 */
import { AGENT_ERROR_CODES } from './errors.js';

export type ChainState =
  /** New or wiped terminal: it has not learned the gateway's head yet. */
  | { readonly kind: 'unsynced' }
  /** The outbox continues the gateway's chain (or the gateway is out of reach). */
  | { readonly kind: 'in-step' }
  /**
   * The gateway holds more of this chain than the outbox (`gateway-ahead`: a restore from backup),
   * a different chain (`diverged`), or refused an event for good (`refused`, with its seq and code):
   * the terminal is moving its unacknowledged events onto the gateway's head.
   */
  | { readonly kind: 'resyncing'; readonly reason: 'gateway-ahead' | 'diverged' | 'refused'; readonly seq?: number; readonly code?: string }
  /**
   * The gateway keeps refusing this terminal's events (`maxConsecutiveSetAside` in a row), or is
   * behind what it acknowledged (`GATEWAY_BEHIND`): nothing recorded now would be delivered, so
   * nothing is recorded until an event gets through (retried every `heldRetryMs`).
   */
  | { readonly kind: 'held'; readonly seq: number; readonly code: string };

export const IN_STEP: ChainState = Object.freeze({ kind: 'in-step' });

/** The event and code that stop the chain, for the health sample and status (undefined when none). */
export function blockOf(state: ChainState): { readonly seq: number; readonly code: string } | undefined {
  if (state.kind === 'held') return { seq: state.seq, code: state.code };
  if (state.kind === 'resyncing' && state.seq !== undefined && state.code !== undefined) return { seq: state.seq, code: state.code };
  return undefined;
}

/**
 * The coded refusal `record()` answers in this state, or undefined when it may record. While an
 * event refused for good is being moved past, records go on (they are moved with the rest); while
 * the gateway holds a chain the outbox does not continue, they wait until it has been adopted.
 */
export function recordRefusal(state: ChainState): { readonly code: string; readonly message: string } | undefined {
  switch (state.kind) {
    case 'resyncing':
      if (state.reason === 'refused') return undefined;
      return {
        code: AGENT_ERROR_CODES.RESYNCING,
        message: 'not recorded: the terminal is moving its unsent payments onto the gateway\'s chain; try again in a moment',
      };
    case 'held':
      return {
        code: AGENT_ERROR_CODES.CHAIN_BLOCKED,
        message: `not recorded: the gateway refuses this terminal's events (${state.code} at seq ${state.seq}); take the payment another way and call an operator`,
      };
    default:
      return undefined;
  }
}
