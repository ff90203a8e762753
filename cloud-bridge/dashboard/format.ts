/** Numbers in words for the dashboard: waits, shares, money. Pure, locale-independent. */

/** `0.4` → "0.4 s", `95` → "1 min 35 s", `1250` → "20 min 50 s", null → "—". */
export function formatWait(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  if (m < 60) return s === 0 ? `${m} min` : `${m} min ${s} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

/** `0.1234` → "12.3 %", null → "—". */
export function formatShare(share: number | null): string {
  return share === null ? '—' : `${Math.round(share * 1000) / 10} %`;
}

/** How much shorter `after` is than `before` ("−85 %"), or "—". */
export function formatReduction(before: number | null, after: number | null): string {
  if (before === null || after === null || before <= 0) return '—';
  const r = 1 - after / before;
  return `${r >= 0 ? '−' : '+'}${Math.abs(Math.round(r * 1000) / 10)} %`;
}

/** ISO 4217 exponents that are not 2 (the wire carries minor units, DESIGN §3.2). */
const EXPONENTS: Readonly<Record<string, number>> = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, VND: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 };

/** `(1250, 'EUR')` → "EUR 12.50". */
export function formatMoney(minor: number | null, currency: string | null): string {
  if (minor === null || currency === null) return '—';
  const exp = EXPONENTS[currency] ?? 2;
  const digits = String(Math.abs(minor)).padStart(exp + 1, '0');
  const whole = digits.slice(0, digits.length - exp).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${minor < 0 ? '-' : ''}${currency} ${whole}${exp === 0 ? '' : `.${digits.slice(digits.length - exp)}`}`;
}

/** "09:42:07 UTC". */
export function formatClock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}

/** "3 min ago". */
export function formatAgo(ms: number, nowMs: number): string {
  return `${formatWait(Math.max(0, (nowMs - ms) / 1000))} ago`;
}
