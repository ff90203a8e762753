/**
 * Clock times in the store's time zone (an IANA name, `--time-zone`, default the system's), the
 * way a technician standing in the store reads them, with the UTC time kept for the hover title
 * (support and logs speak UTC). Intl does the zone rules (Node ships full ICU), so summer time and
 * zone changes come from the tz database, not from us.
 */

/** The zone the box itself runs in; `UTC` when Intl cannot tell. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** True when `name` is an IANA time zone Intl knows (e.g. `Europe/Berlin`, `UTC`). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** One formatter per zone and shape: building one costs more than formatting. Bounded by the zones used (one per gateway). */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 64;

function formatter(timeZone: string, shape: 'clock' | 'hm' | 'day' | 'offset'): Intl.DateTimeFormat {
  const key = `${shape} ${timeZone}`;
  let f = formatters.get(key);
  if (f === undefined) {
    const options: Intl.DateTimeFormatOptions =
      shape === 'clock' ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }
      : shape === 'hm' ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : shape === 'day' ? { weekday: 'short', day: 'numeric', month: 'short' }
      : { timeZoneName: 'longOffset' };
    f = new Intl.DateTimeFormat('en-GB', { ...options, timeZone });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(key, f);
  }
  return f;
}

/** `"09:42:07"` in `timeZone`. */
export function clockTime(atMs: number, timeZone: string): string {
  return formatter(timeZone, 'clock').format(atMs);
}

/** `"09:42"` in `timeZone`. */
export function hourMinute(atMs: number, timeZone: string): string {
  return formatter(timeZone, 'hm').format(atMs);
}

/** The calendar day of `atMs` in `timeZone`, as `"Mon 30 Nov"`. */
export function dayName(atMs: number, timeZone: string): string {
  return formatter(timeZone, 'day').format(atMs);
}

/** `"09:42"` when `atMs` falls on the same day as `nowMs` in the zone, else `"Mon 30 Nov 23:10"`. */
export function dayTime(atMs: number, nowMs: number, timeZone: string): string {
  const hm = hourMinute(atMs, timeZone);
  const day = dayName(atMs, timeZone);
  return day === dayName(nowMs, timeZone) ? hm : `${day} ${hm}`;
}

/** `"2026-11-22 09:42:07 UTC"`: the hover title of every time shown. */
export function utcTitle(atMs: number): string {
  const iso = new Date(atMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** `"Europe/Berlin (UTC+01:00)"`, `"UTC"`: which zone the page's times are in, at `atMs`. */
export function zoneLabel(timeZone: string, atMs: number): string {
  const part = formatter(timeZone, 'offset').formatToParts(atMs).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const offset = part === 'GMT' || part === '' ? 'UTC' : part.replace('GMT', 'UTC');
  return timeZone === 'UTC' || timeZone === 'Etc/UTC' ? 'UTC' : `${timeZone} (${offset})`;
}
