/**
 * Numbers in words a field technician reads at a glance: money per currency from minor units,
 * durations, byte sizes, counts with the right plural. Pure functions, no locale surprises: the
 * output is the same on every box whatever its OS locale.
 */

/**
 * ISO 4217 minor-unit exponents that are not 2. The wire carries `amount` in minor units
 * (DESIGN §3.2), so the exponent must be ISO's, not CLDR's display digits (which differ for e.g.
 * IQD and LAK).
 */
const MINOR_UNIT_EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0,
  VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/** The ISO 4217 exponent of `currency` (2 for anything not listed). */
export function minorUnitExponent(currency: string): number {
  return MINOR_UNIT_EXPONENTS[currency.toUpperCase()] ?? 2;
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `formatMoney(421050, 'EUR')` → `"EUR 4,210.50"`; `formatMoney(1200, 'JPY')` → `"JPY 1,200"`. */
export function formatMoney(minorUnits: number, currency: string): string {
  if (!Number.isSafeInteger(minorUnits)) throw new TypeError(`amount must be a safe integer, got ${minorUnits}`);
  const exponent = minorUnitExponent(currency);
  const sign = minorUnits < 0 ? '-' : '';
  const digits = String(Math.abs(minorUnits)).padStart(exponent + 1, '0');
  const whole = groupThousands(digits.slice(0, digits.length - exponent));
  const fraction = exponent === 0 ? '' : `.${digits.slice(digits.length - exponent)}`;
  return `${sign}${currency.toUpperCase()} ${whole}${fraction}`;
}

/** Most currencies a sentence names before it says "and N more currencies". */
export const MAX_CURRENCIES_IN_SENTENCE = 3;

/**
 * Money per currency, never summed across currencies: `"EUR 4,210.50 + USD 12.00"`. Currencies
 * are listed alphabetically so the order stays put between live updates.
 */
export function formatMoneyByCurrency(amounts: Readonly<Record<string, number>>, max = MAX_CURRENCIES_IN_SENTENCE): string {
  const entries = Object.entries(amounts)
    .filter(([, v]) => v !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const shown = entries.slice(0, max).map(([c, v]) => formatMoney(v, c));
  const rest = entries.length - shown.length;
  if (rest > 0) shown.push(`${rest} more ${rest === 1 ? 'currency' : 'currencies'}`);
  return shown.join(' + ');
}

/** `plural(1, 'payment')` → `"1 payment"`, `plural(342, 'payment')` → `"342 payments"`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${groupThousands(String(count))} ${count === 1 ? singular : pluralForm}`;
}

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * A duration the way people say it, to the precision that matters: `"45 s"`, `"12 min"`,
 * `"2 h 5 min"`, `"3 days 4 h"`. Rounds down, so "12 min" means at least 12 minutes.
 */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  if (t < MINUTE_MS) return `${Math.floor(t / SECOND_MS)} s`;
  if (t < HOUR_MS) return `${Math.floor(t / MINUTE_MS)} min`;
  if (t < DAY_MS) {
    const h = Math.floor(t / HOUR_MS);
    const m = Math.floor((t % HOUR_MS) / MINUTE_MS);
    return m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  const d = Math.floor(t / DAY_MS);
  const h = Math.floor((t % DAY_MS) / HOUR_MS);
  const days = d === 1 ? '1 day' : `${d} days`;
  return h === 0 ? days : `${days} ${h} h`;
}

/** `"3 min ago"`, `"just now"` (under a second), `"never"` for null. */
export function formatAgo(atMs: number | null, nowMs: number): string {
  if (atMs === null) return 'never';
  const ms = nowMs - atMs;
  if (ms < SECOND_MS) return 'just now';
  return `${formatDuration(ms)} ago`;
}

/** Bytes in binary units with one decimal: `"1.5 GiB"`, `"512 B"`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = Math.max(0, bytes);
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${Math.floor(value)} B` : `${value.toFixed(1)} ${units[i]}`;
}

/** Clock time of day in UTC, `"09:42:07 UTC"`: the box has no idea of the visitor's time zone. */
export function formatClock(atMs: number): string {
  return `${new Date(atMs).toISOString().slice(11, 19)} UTC`;
}
