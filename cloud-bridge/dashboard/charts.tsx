/**
 * The dashboard's charts as inline SVG (no script, no external asset): the waiting-time
 * distribution with and without optimism as paired bars per time bucket, and the contradiction
 * rate as a bar against its scale. Every chart has a text equivalent next to it (a table or a
 * sentence), so nothing is said by colour or shape alone.
 */
import type { FC } from 'hono/jsx';
import { formatShare } from './format.js';
import { WAIT_BUCKET_BOUNDS_S, type Distribution } from './view.js';

export const BUCKET_LABELS = ['<1s', '1–2s', '2–5s', '5–10s', '10–30s', '30s–1m', '1–2m', '2–5m', '5–10m', '10–20m', '>20m'] as const;

const W = 640;
const H = 220;
const PAD = { left: 54, right: 8, top: 12, bottom: 40 };

/** Paired bars: with optimism (dark) and without (hatched light), share of payments per bucket. */
export const WaitChart: FC<{ id: string; title: string; withOpt: Distribution; without: Distribution }> = ({ id, title, withOpt, without }) => {
  const n = WAIT_BUCKET_BOUNDS_S.length;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / n;
  const barW = slot * 0.38;
  const max = Math.max(0.01, ...withOpt.buckets, ...without.buckets);
  const y = (share: number) => PAD.top + plotH - (share / max) * plotH;
  const ticks = [0, max / 2, max];
  return (
    <svg id={id} class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t`}>
      <title id={`${id}-t`}>{title}</title>
      {ticks.map((t) => (
        <g>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} class="grid" />
          <text x={PAD.left - 4} y={y(t) + 4} class="tick" text-anchor="end">{formatShare(t)}</text>
        </g>
      ))}
      {WAIT_BUCKET_BOUNDS_S.map((_, i) => {
        const x = PAD.left + i * slot + slot * 0.1;
        const a = withOpt.buckets[i] ?? 0;
        const b = without.buckets[i] ?? 0;
        return (
          <g>
            <rect x={x} y={y(a)} width={barW} height={PAD.top + plotH - y(a)} class="bar-with">
              <title>{`with optimism, ${BUCKET_LABELS[i]}: ${formatShare(a)}`}</title>
            </rect>
            <rect x={x + barW} y={y(b)} width={barW} height={PAD.top + plotH - y(b)} class="bar-without">
              <title>{`without optimism, ${BUCKET_LABELS[i]}: ${formatShare(b)}`}</title>
            </rect>
            <text x={x + barW} y={H - PAD.bottom + 14} class="tick" text-anchor="middle">{BUCKET_LABELS[i]}</text>
          </g>
        );
      })}
      <rect x={PAD.left} y={H - 16} width="12" height="10" class="bar-with" />
      <text x={PAD.left + 16} y={H - 7} class="tick">with optimism (success → charged)</text>
      <rect x={PAD.left + 270} y={H - 16} width="12" height="10" class="bar-without" />
      <text x={PAD.left + 286} y={H - 7} class="tick">without (success → authorised)</text>
    </svg>
  );
};

/** The contradiction rate on a 0–5 % scale (anything above is off the scale and says so). */
export const RateBar: FC<{ id: string; rate: number | null }> = ({ id, rate }) => {
  const scale = 0.05;
  const w = 300;
  const fill = rate === null ? 0 : Math.min(1, rate / scale) * w;
  return (
    <svg id={id} class="rate" viewBox={`0 0 ${w} 24`} role="img" aria-label={`contradiction rate ${formatShare(rate)} on a 0 to 5 % scale`}>
      <rect x="0" y="4" width={w} height="16" class="rate-bg" />
      <rect x="0" y="4" width={fill} height="16" class={rate !== null && rate > 0.01 ? 'rate-alarm' : 'rate-ok'} />
    </svg>
  );
};
