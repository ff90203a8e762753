/**
 * Failure risk on the page (gateway/predict): a section listing every terminal and the internet
 * link at warning or critical, with the reasons in plain words and what to do, and — when a warned
 * terminal has gone silent — that the prediction came true. Plus the words of the terminal
 * table's risk column.
 */
import type { FC } from 'hono/jsx';
import { formatAgo, formatDuration } from './format.js';
import type { RiskView, StatusView } from './view.js';

/** A terminal silent this long has failed by the DESIGN §3.7 terms. */
const FAILED_AFTER_MS = 5 * 60_000;

const LEVEL_WORDS = { clear: 'Low', warning: 'Warning', critical: 'Critical' } as const;
const LEVEL_TONES = { clear: 'ok', warning: 'warn', critical: 'alarm' } as const;

/** `"Warning (62 %)"`. */
export function riskWords(r: RiskView): { tone: string; text: string } {
  return { tone: LEVEL_TONES[r.level], text: `${LEVEL_WORDS[r.level]} (${Math.round(r.risk * 100)} %)` };
}

interface AtRisk {
  readonly id: string;
  readonly name: string;
  readonly risk: RiskView;
}

function atRisk(view: StatusView): AtRisk[] {
  const out: AtRisk[] = [];
  const wan = view.prediction?.wan;
  if (wan !== null && wan !== undefined && wan.level !== 'clear') out.push({ id: 'risk-wan', name: 'Internet link', risk: wan });
  for (const t of view.terminals) {
    if (t.risk !== null && t.risk !== undefined && t.risk.level !== 'clear') out.push({ id: `risk-terminal-${t.id}`, name: `Terminal ${t.id}`, risk: t.risk });
  }
  const rank = { critical: 0, warning: 1, clear: 2 } as const;
  return out.sort((a, b) => rank[a.risk.level] - rank[b.risk.level] || b.risk.risk - a.risk.risk);
}

const RiskItem: FC<{ item: AtRisk; nowMs: number }> = ({ item, nowMs }) => {
  const words = riskWords(item.risk);
  const silentMs = nowMs - item.risk.atMs;
  const cameTrue = silentMs >= FAILED_AFTER_MS && item.risk.sinceMs !== null;
  return (
    <li id={item.id}>
      <span class={`state s-${words.tone}`}>{words.text}</span> <strong>{item.name}</strong>
      {item.risk.sinceMs === null ? '' : <span class="muted"> since {formatAgo(item.risk.sinceMs, nowMs)}</span>}
      {cameTrue ? (
        <div class="hint">
          <strong>The prediction came true:</strong> not heard from for {formatDuration(silentMs)}, {formatDuration(item.risk.atMs - item.risk.sinceMs!)} after the {item.risk.level}.
        </div>
      ) : (
        ''
      )}
      {item.risk.reasons.length === 0 ? '' : (
        <ul class="reasons">
          {item.risk.reasons.map((r) => (
            <li>{r}</li>
          ))}
        </ul>
      )}
    </li>
  );
};

export const RiskSection: FC<{ view: StatusView }> = ({ view }) => {
  if (view.prediction === undefined) return <></>;
  const items = atRisk(view);
  return (
    <section id="risk" class="wide" aria-labelledby="risk-h">
      <h2 id="risk-h">Failure risk <span class="muted">(next 2 hours)</span></h2>
      {items.length === 0 ? (
        <p>No terminal or internet failure expected.</p>
      ) : (
        <ul class="alarms">
          {items.map((item) => (
            <RiskItem item={item} nowMs={view.nowMs} />
          ))}
        </ul>
      )}
      <p class="muted">Model {view.prediction.modelVersion}: scored on every health sample and internet probe.</p>
    </section>
  );
};
