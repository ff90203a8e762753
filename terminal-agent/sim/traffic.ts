/**
 * Realistic in-store traffic: basket amounts log-normal around 25.00 (most card payments in a
 * shop are small, a few are large), card brands weighted as in an EU store, ~4 % declines, ~2 %
 * refunds, ~1 % voids. The terminal's link state decides online/offline (record() marks it).
 */
import type { TransactionInput } from '../recorder.js';
import { normal, pick } from './random.js';

export const CARD_BRANDS = [
  ['visa', 48],
  ['mastercard', 38],
  ['maestro', 8],
  ['amex', 4],
  ['discover', 2],
] as const;

const TYPES = [
  ['payment', 97],
  ['refund', 2],
  ['void', 1],
] as const;

/** Median basket 25.00 EUR; never below 0.50 nor above 800.00. */
const MEDIAN_MINOR = 2_500;
const SIGMA = 0.9;
const MIN_MINOR = 50;
const MAX_MINOR = 80_000;

export function nextTransaction(random: () => number, currency = 'EUR'): TransactionInput {
  const amount = Math.round(Math.min(MAX_MINOR, Math.max(MIN_MINOR, MEDIAN_MINOR * Math.exp(SIGMA * normal(random)))));
  const last4 = String(Math.floor(random() * 10_000)).padStart(4, '0');
  return {
    type: pick(random, TYPES),
    amount,
    currency,
    outcome: random() < 0.04 ? 'declined' : 'approved',
    mode: 'online',
    card: { brand: pick(random, CARD_BRANDS), last4 },
  };
}
