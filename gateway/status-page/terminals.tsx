/** Every terminal in one table (cards on a phone), and the recent alarms. */
import type { FC } from 'hono/jsx';
import { formatAgo, formatClock, formatDuration } from './format.js';
import { silentForMs } from './headline.js';
import { riskWords } from './risk.js';
import type { AlarmView, StatusView, TerminalView } from './view.js';

/** Signal strength in words; thresholds are the usual WiFi RSSI bands. */
export function signalWords(rssiDbm: number): string {
  if (rssiDbm >= -60) return 'good';
  if (rssiDbm >= -70) return 'fair';
  if (rssiDbm >= -80) return 'weak';
  return 'very weak';
}

function statusCell(t: TerminalView, view: StatusView, silentAfterMs: number): { tone: string; text: string } {
  const goneMs = silentForMs(t, view);
  if (goneMs === null) return { tone: 'ok', text: 'Connected' };
  if (goneMs > silentAfterMs) return { tone: 'warn', text: `Not seen for ${formatDuration(goneMs)}` };
  return { tone: 'none', text: t.lastSeenAtMs === null ? 'Not connected yet' : 'Disconnected' };
}

function rejectsText(rejects: Readonly<Record<string, number>>): string {
  const entries = Object.entries(rejects).filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? 'none' : entries.map(([code, n]) => `${code} ×${n}`).join(', ');
}

const RiskCell: FC<{ t: TerminalView }> = ({ t }) => {
  if (t.risk === null || t.risk === undefined) return <td data-label="Failure risk">—</td>;
  const words = riskWords(t.risk);
  return (
    <td data-label="Failure risk">
      <span class={`state s-${words.tone}`}>{words.text}</span>
    </td>
  );
};

const TerminalRow: FC<{ t: TerminalView; view: StatusView; silentAfterMs: number }> = ({ t, view, silentAfterMs }) => {
  const status = statusCell(t, view, silentAfterMs);
  const nowMs = view.nowMs;
  return (
    <tr id={`terminal-${t.id}`}>
      <td data-label="Terminal">
        <strong>{t.id}</strong>
        {(t.keysNotEndorsed ?? 0) > 0 ? <span class="state s-warn" title="a cloud that checks endorsements refuses its payments">key not endorsed</span> : ''}
      </td>
      <td data-label="Status">
        <span class={`state s-${status.tone}`}>{status.text}</span>
      </td>
      <td data-label="Last seen">{t.connected ? 'now' : formatAgo(t.lastSeenAtMs, nowMs)}</td>
      <td data-label="Last seq" class="num">{String(t.headSeq)}</td>
      <td data-label="Waiting on till" class="num">{t.outboxDepth === null ? '—' : String(t.outboxDepth)}</td>
      <td data-label="Signal">{t.rssiDbm === null ? '—' : `${t.rssiDbm} dBm (${signalWords(t.rssiDbm)})`}</td>
      <td data-label="Battery" class="num">{t.batteryPct === null ? '—' : `${Math.round(t.batteryPct)} %`}</td>
      {view.prediction === undefined ? '' : <RiskCell t={t} />}
      <td data-label="Refused">{rejectsText(t.rejects)}</td>
    </tr>
  );
};

export const TerminalsSection: FC<{ view: StatusView; silentAfterMs: number; maxShown: number }> = ({ view, silentAfterMs, maxShown }) => {
  const shown = view.terminals.slice(0, maxShown);
  const hidden = view.terminals.length - shown.length;
  const connected = view.terminals.filter((t) => t.connected).length;
  return (
    <section id="terminals" class="wide" aria-labelledby="term-h">
      <h2 id="term-h">
        Terminals <span class="muted">({connected} of {view.terminals.length} connected)</span>
      </h2>
      {view.terminals.length === 0 ? (
        <p>No terminal is enrolled yet.</p>
      ) : (
        <table class="terminals">
          <thead>
            <tr>
              <th>Terminal</th>
              <th>Status</th>
              <th>Last seen</th>
              <th>Last seq</th>
              <th>Waiting on till</th>
              <th>Signal</th>
              <th>Battery</th>
              {view.prediction === undefined ? '' : <th>Failure risk</th>}
              <th>Refused</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((t) => (
              <TerminalRow t={t} view={view} silentAfterMs={silentAfterMs} />
            ))}
          </tbody>
        </table>
      )}
      {hidden > 0 ? <p>…and {hidden} more: see /api/terminals</p> : ''}
    </section>
  );
};

const LEVEL_WORDS = { alarm: 'PROBLEM', warn: 'WARNING', info: 'INFO' } as const;

const AlarmItem: FC<{ a: AlarmView; nowMs: number }> = ({ a, nowMs }) => (
  <li>
    <span class={`state s-${a.level === 'info' ? 'none' : a.level}`}>{LEVEL_WORDS[a.level]}</span> <strong>{a.code}</strong>
    {a.terminal === undefined ? '' : ` · ${a.terminal}`} — {a.message}{' '}
    <span class="muted">
      {formatClock(a.atMs)} ({formatAgo(a.atMs, nowMs)})
    </span>
  </li>
);

export const AlarmsSection: FC<{ view: StatusView }> = ({ view }) => (
  <section id="alarms" class="wide" aria-labelledby="alarm-h">
    <h2 id="alarm-h">Recent alarms</h2>
    {view.alarms.length === 0 ? (
      <p>No alarms.</p>
    ) : (
      <ul class="alarms">
        {view.alarms.map((a) => (
          <AlarmItem a={a} nowMs={view.nowMs} />
        ))}
      </ul>
    )}
  </section>
);
