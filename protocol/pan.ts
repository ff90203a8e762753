/**
 * Card-number (PAN) detection, DESIGN §3.2: any run of 13–19 digits that passes the Luhn check
 * anywhere in the payload means card data leaked into an event, and the event is rejected.
 * We also catch the usual printed groupings (4-4-4-4[-1..3], 4-6-5, 4-6-4) with spaces or dashes,
 * bounded so that UUIDs (8-4-4-4-12) and timestamps never match.
 */

/**
 * Printed groupings. Not touching letters, digits or a dash-joined neighbour on either side, so a
 * UUID's groups (hex, dash-joined) never match.
 */
const GROUPED =
  /(?<![0-9A-Za-z])(?<![0-9A-Za-z]-)(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![0-9A-Za-z])(?!-[0-9A-Za-z])/g;
/** Maximal digit runs only: a 13–19 digit window inside a longer number is not a PAN. */
const MAXIMAL_RUN = /(?<!\d)\d{13,19}(?!\d)/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** True when `text` holds something that looks like a card number. */
export function containsPan(text: string): boolean {
  if (!/\d{4}/.test(text)) return false;
  for (const m of text.matchAll(MAXIMAL_RUN)) if (luhnValid(m[0])) return true;
  for (const m of text.matchAll(GROUPED)) if (luhnValid(m[0].replace(/[ -]/g, ''))) return true;
  return false;
}

/**
 * Scans a parsed JSON value: every key, string and number. Scanning parsed values (not only the
 * raw text) catches digits hidden behind `\u0034`-style escapes.
 */
export function valueContainsPan(value: unknown, depth = 0): boolean {
  if (depth > 32) return false; // payload depth is bounded by the schema; this only guards recursion
  if (typeof value === 'string') return containsPan(value);
  if (typeof value === 'number') return Number.isInteger(value) && containsPan(String(value));
  if (Array.isArray(value)) return value.some((v) => valueContainsPan(v, depth + 1));
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (containsPan(k) || valueContainsPan(v, depth + 1)) return true;
    }
  }
  return false;
}
