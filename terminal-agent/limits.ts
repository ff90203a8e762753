/**
 * Offline limits (DESIGN §5.2): how much risk a terminal may take approving payments that
 * the gateway has not acknowledged yet. A refusal carries a code the payment app shows.
 */
import { TillgateError } from '../protocol/errors.js';
import { AGENT_ERROR_CODES, type AgentErrorCode } from './errors.js';
import type { OutboxStats } from './outbox/outbox.js';

export interface OfflineLimits {
  /** Largest single approval while offline, minor units: the loss if one card turns out bad. */
  readonly maxOfflineTxAmountMinor: number;
  /** Largest approved amount not yet acknowledged by the gateway, minor units: total exposure. */
  readonly maxUnackedAmountMinor: number;
  /** Most approved events not yet acknowledged: bounds exposure and the outbox backlog. */
  readonly maxUnackedCount: number;
  /** Oldest unacknowledged event, seconds: past it the PSP may no longer honour a late authorization. */
  readonly maxUnackedAgeS: number;
}

/** EUR-scale defaults: 100.00 per payment, 1,000.00 in total, 200 payments, 24 hours. */
export const DEFAULT_OFFLINE_LIMITS: OfflineLimits = Object.freeze({
  maxOfflineTxAmountMinor: 10_000,
  maxUnackedAmountMinor: 100_000,
  maxUnackedCount: 200,
  maxUnackedAgeS: 24 * 3600,
});

export interface LimitCheckInput {
  /** Amount of the approval being asked for, minor units (0 when not an approval). */
  readonly amountMinor: number;
  readonly outbox: Pick<OutboxStats, 'exposureCount' | 'exposureMinor' | 'oldestRecordedAtMs'>;
  readonly nowMs: number;
}

/** The first limit the approval would break, or undefined when it is allowed. */
export function offlineLimitBreach(input: LimitCheckInput, limits: OfflineLimits): AgentErrorCode | undefined {
  if (input.amountMinor <= 0) return undefined; // declines, and anything that is no approval, are always recorded
  if (input.amountMinor > limits.maxOfflineTxAmountMinor) return AGENT_ERROR_CODES.OFFLINE_LIMIT_AMOUNT;
  if (input.outbox.exposureMinor + input.amountMinor > limits.maxUnackedAmountMinor) return AGENT_ERROR_CODES.OFFLINE_LIMIT_TOTAL;
  if (input.outbox.exposureCount + 1 > limits.maxUnackedCount) return AGENT_ERROR_CODES.OFFLINE_LIMIT_COUNT;
  const oldest = input.outbox.oldestRecordedAtMs;
  if (oldest !== null && input.nowMs - oldest > limits.maxUnackedAgeS * 1000) return AGENT_ERROR_CODES.OFFLINE_LIMIT_AGE;
  return undefined;
}

/** Throws a TillgateError with the breached limit's code. */
export function assertWithinOfflineLimits(input: LimitCheckInput, limits: OfflineLimits): void {
  const code = offlineLimitBreach(input, limits);
  if (code !== undefined) throw new TillgateError(code, `offline approval refused: ${code}`);
}
