/**
 * Money waiting in words (store/money.ts decides the classes): approved payments are "payments"
 * with their takings, refunds and voids are named apart with their own amounts, declined
 * transactions are counted without money, and nothing is ever summed across classes or currencies.
 */
import type { MoneyTotals, TxClass } from '../store/money.js';
import { formatMoneyByCurrency, plural } from './format.js';

/** The money-bearing classes in the order a sentence names them, with their nouns. */
const NAMED: readonly (readonly [TxClass, string, string])[] = [
  ['takings', 'payment', 'payments'],
  ['refunds', 'refund', 'refunds'],
  ['voids', 'void', 'voids'],
  ['other', 'other transaction', 'other transactions'],
  ['unclassified', 'earlier transaction', 'earlier transactions'],
];

/** `"342 payments (EUR 4,210.50)"`, or with more classes `"340 payments (EUR 4,200.00) and 2 refunds (EUR 30.00)"`. */
export function moneyPhrase(money: MoneyTotals, maxCurrencies?: number): string {
  const parts = moneyParts(money, maxCurrencies);
  if (parts.length <= 1) return parts[0] ?? '';
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** One phrase per money-bearing class with events, in sentence order. */
export function moneyParts(money: MoneyTotals, maxCurrencies?: number): string[] {
  const out: string[] = [];
  for (const [cls, one, many] of NAMED) {
    const bucket = money[cls];
    if (bucket.count <= 0) continue;
    const amounts = formatMoneyByCurrency(bucket.byCurrency, maxCurrencies);
    out.push(amounts === '' ? plural(bucket.count, one, many) : `${plural(bucket.count, one, many)} (${amounts})`);
  }
  return out;
}

/** `"40 declined transactions (no money moved)"`, or '' when none. */
export function declinedPhrase(money: MoneyTotals): string {
  const n = money.declined.count;
  return n <= 0 ? '' : `${plural(n, 'declined transaction')} (no money moved)`;
}

/** Counts only: `"5 payments and 1 refund"`; `"3 transactions"` when none carries money. */
export function waitingCountPhrase(money: MoneyTotals, events: number): string {
  const parts: string[] = [];
  for (const [cls, one, many] of NAMED) if (money[cls].count > 0) parts.push(plural(money[cls].count, one, many));
  if (parts.length === 0) return plural(events, 'transaction');
  return parts.length === 1 ? (parts[0] as string) : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}
