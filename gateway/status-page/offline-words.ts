/**
 * What the tills refuse while the gateway cannot confirm their payments to the cloud, from the
 * offline limits they report in their health samples (terminal-agent/limits.ts): the strictest of
 * them, so the sentence holds for every till. Amounts are minor units of the till's currency; the
 * currency is named when the money waiting here is in exactly one (a store takes one, mostly).
 */
import { formatDuration, formatMoney, plural } from './format.js';
import type { OfflineLimitsView, StatusView } from './view.js';

/** `"EUR 100.00"`, or `"100.00"` in the till's own currency when the store's is not known. */
function amount(minor: number, currency: string | null): string {
  return currency === null ? formatMoney(minor, 'XXX').slice(4) : formatMoney(minor, currency);
}

/** The store's currency when the takings waiting are in exactly one, else null. */
function storeCurrency(view: StatusView): string | null {
  const currencies = Object.keys(view.forwarder.money.takings.byCurrency);
  return currencies.length === 1 ? (currencies[0] ?? null) : null;
}

/** The strictest limits across the tills that report theirs, or null when none does. */
export function strictestLimits(view: StatusView): OfflineLimitsView | null {
  const all = view.terminals.flatMap((t) => (t.offlineLimits === undefined || t.offlineLimits === null ? [] : [t.offlineLimits]));
  if (all.length === 0) return null;
  return {
    maxTxAmountMinor: Math.min(...all.map((l) => l.maxTxAmountMinor)),
    maxUnackedAmountMinor: Math.min(...all.map((l) => l.maxUnackedAmountMinor)),
    maxUnackedCount: Math.min(...all.map((l) => l.maxUnackedCount)),
    maxUnackedAgeS: Math.min(...all.map((l) => l.maxUnackedAgeS)),
  };
}

/** The sentence added to "what to do" while payments cannot reach the cloud. */
export function offlineLimitsPhrase(view: StatusView): string {
  const limits = strictestLimits(view);
  if (limits === null) return 'Meanwhile tills approve card payments offline only within their offline limits and refuse the rest: take cash or another way for those.';
  const currency = storeCurrency(view);
  const unit = currency === null ? " (in the till's currency)" : '';
  return (
    `Meanwhile tills approve card payments offline only up to ${amount(limits.maxTxAmountMinor, currency)} each${unit}; ` +
    `a till that cannot reach this gateway either stops at ${amount(limits.maxUnackedAmountMinor, currency)} or ${plural(limits.maxUnackedCount, 'payment')} held, ` +
    `or after ${formatDuration(limits.maxUnackedAgeS * 1000)}. Past that they refuse card payments: take cash or another way.`
  );
}
