/**
 * Transactions waiting to be sent over the last 24 hours, drawn on the server as inline SVG (no
 * script, no external asset, nothing the Content-Security-Policy would have to allow): one point a
 * minute from the history, internet outages shaded behind, hour marks in the store's time zone.
 * Presentation attributes only (no `style=`), so the CSP's style hash covers the page as it is.
 */
import type { FC } from 'hono/jsx';
import { plural } from './format.js';
import { hourMinute, utcTitle } from './time-words.js';
import type { BacklogSampleView, OutageView } from './view.js';

const DAY_MS = 24 * 3_600_000;
/**
 * The line breaks where the gateway was off: at each recorded start, and wherever two samples are
 * further apart than this (a sample is taken every minute while it runs; a gap this long means it
 * was not looking, whatever the record says).
 */
const GAP_MS = 30 * 60_000;
/** Radius of a lone point (one sample between two breaks), which a line cannot show. */
const DOT_R = 2.5;
/** Hour marks every this many hours of the store's clock. */
const TICK_HOURS = 3;

const W = 400;
const H = 180;
const PAD = { left: 40, right: 12, top: 10, bottom: 26 } as const;
const FONT = 13;
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;

/** The zone's offset from UTC at `atMs`, in ms (e.g. +3,600,000 for CET). */
export function zoneOffsetMs(atMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(atMs);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(atMs / 1000) * 1000;
}

/** Instants in [fromMs, toMs] at which the store's clock shows a whole multiple of TICK_HOURS. */
export function hourTicks(fromMs: number, toMs: number, timeZone: string): number[] {
  const stepMs = TICK_HOURS * 3_600_000;
  const offset = zoneOffsetMs(fromMs, timeZone);
  const out: number[] = [];
  for (let local = Math.ceil((fromMs + offset) / stepMs) * stepMs; local - offset <= toMs; local += stepMs) out.push(local - offset);
  return out;
}

/** 2, 5, 10, 20, 50, … at or above `n`: a y-axis top people read at a glance, with a whole middle. */
export function niceCeiling(n: number): number {
  if (n <= 2) return 2;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * magnitude >= n) return m * magnitude;
  return 10 * magnitude;
}

export const BacklogChart: FC<{
  samples: readonly BacklogSampleView[];
  outages: readonly OutageView[];
  /** When the gateway started (history): it was off just before, so the line breaks there. */
  startsMs?: readonly number[];
  nowMs: number;
  timeZone: string;
}> = ({ samples, outages, startsMs = [], nowMs, timeZone }) => {
  const fromMs = nowMs - DAY_MS;
  const shown = samples.filter((s) => s.atMs >= fromMs && s.atMs <= nowMs).sort((a, b) => a.atMs - b.atMs);
  const top = niceCeiling(Math.max(1, ...shown.map((s) => s.events)));
  const x = (t: number) => PAD.left + ((Math.min(nowMs, Math.max(fromMs, t)) - fromMs) / DAY_MS) * PLOT_W;
  const y = (v: number) => PAD.top + PLOT_H - (v / top) * PLOT_H;
  const runs: BacklogSampleView[][] = [];
  for (const s of shown) {
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    const restarted = last !== undefined && startsMs.some((t) => t > last.atMs && t <= s.atMs);
    if (run === undefined || last === undefined || restarted || s.atMs - last.atMs > GAP_MS) runs.push([s]);
    else run.push(s);
  }
  const fmt = (n: number) => n.toFixed(1);
  const peak = shown.reduce<BacklogSampleView | null>((m, s) => (m === null || s.events > m.events ? s : m), null);
  const label = peak === null || peak.events === 0
    ? 'Nothing was waiting to be sent in the last 24 hours'
    : `Transactions waiting to be sent over the last 24 hours: at most ${plural(peak.events, 'transaction')} at ${hourMinute(peak.atMs, timeZone)}`;
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">
      <title id="chart-title">{label}</title>
      {outages
        .filter((o) => (o.endedAtMs ?? nowMs) >= fromMs)
        .map((o) => (
          <rect class="outage" x={fmt(x(o.startedAtMs))} y={PAD.top} width={fmt(Math.max(1, x(o.endedAtMs ?? nowMs) - x(o.startedAtMs)))} height={PLOT_H} fill="#f6c4cc">
            <title>{`Internet down ${hourMinute(o.startedAtMs, timeZone)}–${o.endedAtMs === null ? 'now' : hourMinute(o.endedAtMs, timeZone)}`}</title>
          </rect>
        ))}
      {[0, Math.round(top / 2), top].map((v) => (
        <>
          <line x1={PAD.left} x2={W - PAD.right} y1={fmt(y(v))} y2={fmt(y(v))} stroke={v === 0 ? '#444' : '#ccc'} stroke-width="1" />
          <text x={PAD.left - 4} y={fmt(y(v) + 5)} text-anchor="end" font-size={FONT} fill="#444">
            {String(v)}
          </text>
        </>
      ))}
      {hourTicks(fromMs, nowMs, timeZone).map((t) => (
        <>
          <line x1={fmt(x(t))} x2={fmt(x(t))} y1={PAD.top} y2={PAD.top + PLOT_H} stroke="#e2e2e2" stroke-width="1" />
          <text x={fmt(x(t))} y={H - 8} text-anchor="middle" font-size={FONT} fill="#444">
            <title>{utcTitle(t)}</title>
            {hourMinute(t, timeZone)}
          </text>
        </>
      ))}
      {runs.map((run) => {
        const line = run.map((s) => `${fmt(x(s.atMs))},${fmt(y(s.events))}`).join(' ');
        const first = run[0];
        const last = run[run.length - 1];
        const area = first === undefined || last === undefined ? '' : `${fmt(x(first.atMs))},${fmt(y(0))} ${line} ${fmt(x(last.atMs))},${fmt(y(0))}`;
        if (first !== undefined && run.length === 1) {
          return <circle class="backlog-dot" cx={fmt(x(first.atMs))} cy={fmt(y(first.events))} r={DOT_R} fill="#0a5c2b" />;
        }
        return (
          <>
            <polygon points={area} fill="#0a5c2b" fill-opacity="0.15" />
            <polyline class="backlog-line" points={line} fill="none" stroke="#0a5c2b" stroke-width="2" />
          </>
        );
      })}
    </svg>
  );
};
