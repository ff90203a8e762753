/** A time on the page: in the store's time zone, with the UTC time on hover (`title`) and in `datetime`. */
import type { FC } from 'hono/jsx';
import { formatDuration } from './format.js';
import { clockTime, dayTime, utcTitle } from './time-words.js';

/** `shape`: `clock` 09:42:07; `day` 09:42, or Mon 30 Nov 09:42 when not today. */
export const Time: FC<{ atMs: number; nowMs: number; timeZone: string; shape?: 'clock' | 'day' }> = ({ atMs, nowMs, timeZone, shape = 'clock' }) => (
  <time datetime={new Date(atMs).toISOString()} title={utcTitle(atMs)}>
    {shape === 'clock' ? clockTime(atMs, timeZone) : dayTime(atMs, nowMs, timeZone)}
  </time>
);

/** `09:42:07 (3 min ago)`, or `never`. */
export const When: FC<{ atMs: number | null; nowMs: number; timeZone: string }> = ({ atMs, nowMs, timeZone }) =>
  atMs === null ? (
    <>never</>
  ) : (
    <>
      <Time atMs={atMs} nowMs={nowMs} timeZone={timeZone} shape={nowMs - atMs > 12 * 3_600_000 ? 'day' : 'clock'} /> ({nowMs - atMs < 1000 ? 'just now' : `${formatDuration(nowMs - atMs)} ago`})
    </>
  );
