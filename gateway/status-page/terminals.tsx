/**
 * Every terminal in one table (cards on a phone), problem terminals first, each problem named in
 * its status cell; and the recent alarms in detail (codes and transaction numbers for support).
 */
import type { FC } from 'hono/jsx';
import type { ProblemCode } from '../problem-catalogue.js';
import { formatDuration, plural } from './format.js';
import { riskWords } from './risk.js';
import { silentForMs, sortTerminals, type TerminalThresholds } from './terminal-problems.js';
import { Time } from './time.js';
import type { AlarmView, StatusView, TerminalView } from './view.js';
import { INTEGRITY_CODES } from '../integrity.js';
import { integrityWords, offlineRefusalWords } from './words.js';

/** Signal strength in words; thresholds are the usual WiFi RSSI bands. */
export function signalWords(rssiDbm: number): string {
  if (rssiDbm >= -60) return 'good';
  if (rssiDbm >= -70) return 'fair';
  if (rssiDbm >= -80) return 'weak';
  return 'very weak';
}

type Tone = 'ok' | 'warn' | 'alarm' | 'none';

/** `Connected` while it is, then one badge per problem of the terminal, in words. */
function statusBadges(t: TerminalView, problems: readonly ProblemCode[], view: StatusView): { tone: Tone; text: string; title?: string }[] {
  const connected: { tone: Tone; text: string }[] = t.connected ? [{ tone: 'ok', text: 'Connected' }] : [];
  return [...connected, ...problems.map((code): { tone: Tone; text: string; title?: string } => {
    switch (code) {
      case 'TERMINAL_BLOCKED':
        return { tone: 'alarm', text: `Refusing payments${t.blocked === undefined || t.blocked === null ? '' : ` (${t.blocked.code})`}` };
      case 'CONFLICT':
        return { tone: 'alarm', text: 'Conflicting transaction' };
      case 'SECURITY_REJECTS':
        return { tone: 'alarm', text: 'Possible tampering' };
      case 'OFFLINE_REFUSED':
        return { tone: 'warn', text: `Refused ${plural(t.offlineRefused?.total ?? 0, 'payment')} over offline limits`, title: offlineRefusalWords(t.offlineRefused?.byCode ?? {}) };
      case 'OFFLINE_LIMIT_NEAR':
        return { tone: 'warn', text: 'Near its offline limit', title: 'holds payments this gateway has not stored; past its limit it refuses card payments' };
      case 'KEYS_NOT_ENDORSED':
        return { tone: 'warn', text: 'Key not endorsed', title: 'a cloud that checks endorsements refuses its payments' };
      case 'TERMINAL_SILENT':
        return { tone: 'warn', text: t.lastSeenAtMs === null ? 'Never connected' : `Not seen for ${formatDuration(silentForMs(t, view) ?? 0)}` };
      case 'TERMINAL_DISCONNECTED':
        return { tone: 'warn', text: t.lastSeenAtMs === null ? 'Not connected yet' : 'Disconnected' };
      case 'CLOCK_SKEW': {
        const skew = t.clockSkewMs ?? 0;
        return { tone: 'warn', text: `Clock ${formatDuration(Math.abs(skew))} ${skew < 0 ? 'behind' : 'ahead'}` };
      }
      case 'REJECTS':
        return { tone: 'warn', text: 'Transactions refused' };
      default:
        return { tone: 'warn', text: code };
    }
  })];
}

function rejectsText(rejects: Readonly<Record<string, number>>): string {
  const entries = Object.entries(rejects).filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? 'none' : entries.map(([code, n]) => `${code} ×${n}`).join(', ');
}

const LastSeen: FC<{ t: TerminalView; view: StatusView }> = ({ t, view }) => {
  if (t.connected) return <>now</>;
  if (t.lastSeenAtMs === null) return <>never</>;
  return (
    <>
      <Time atMs={t.lastSeenAtMs} nowMs={view.nowMs} timeZone={view.timeZone ?? 'UTC'} shape="day" /> ({formatDuration(view.nowMs - t.lastSeenAtMs)} ago)
    </>
  );
};

const RiskCell: FC<{ t: TerminalView }> = ({ t }) => {
  if (t.risk === null || t.risk === undefined) return <td data-label="Failure risk">—</td>;
  const words = riskWords(t.risk);
  return (
    <td data-label="Failure risk">
      <span class={`state s-${words.tone}`}>{words.text}</span>
    </td>
  );
};

const TerminalRow: FC<{ t: TerminalView; problems: readonly ProblemCode[]; view: StatusView }> = ({ t, problems, view }) => (
  <tr id={`terminal-${t.id}`} class={problems.length === 0 ? undefined : 'has-problem'}>
    <td data-label="Terminal">
      <strong>{t.id}</strong>
    </td>
    <td data-label="Status">
      {statusBadges(t, problems, view).map((b) => (
        <span class={`state s-${b.tone}`} title={b.title}>
          {b.text}
        </span>
      ))}
    </td>
    <td data-label="Last seen">
      <LastSeen t={t} view={view} />
    </td>
    <td data-label="Last transaction no." class="num">{String(t.headSeq)}</td>
    <td data-label="Waiting on till" class="num">{t.outboxDepth === null ? '—' : String(t.outboxDepth)}</td>
    <td data-label="Signal">{t.rssiDbm === null ? '—' : `${t.rssiDbm} dBm (${signalWords(t.rssiDbm)})`}</td>
    <td data-label="Battery" class="num">{t.batteryPct === null ? '—' : `${Math.round(t.batteryPct)} %`}</td>
    {view.prediction === undefined ? '' : <RiskCell t={t} />}
    <td data-label="Refused">{rejectsText(t.rejects)}</td>
  </tr>
);

export const TerminalsSection: FC<{ view: StatusView; thresholds: TerminalThresholds; maxShown: number }> = ({ view, thresholds, maxShown }) => {
  const rows = sortTerminals(view, thresholds);
  const shown = rows.slice(0, maxShown);
  const hidden = rows.length - shown.length;
  const connected = view.terminals.filter((t) => t.connected).length;
  const withProblems = rows.filter((r) => r.problems.length > 0).length;
  return (
    <section id="terminals" class="wide" aria-labelledby="term-h">
      <h2 id="term-h">
        Terminals{' '}
        <span class="muted">
          ({connected} of {view.terminals.length} connected{withProblems === 0 ? '' : `; ${withProblems} with a problem, listed first`})
        </span>
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
              <th>Last transaction no.</th>
              <th>Waiting on till</th>
              <th>Signal</th>
              <th>Battery</th>
              {view.prediction === undefined ? '' : <th>Failure risk</th>}
              <th>Refused</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <TerminalRow t={r.t} problems={r.problems} view={view} />
            ))}
          </tbody>
        </table>
      )}
      {hidden > 0 ? <p>…and {hidden} more: see /api/terminals</p> : ''}
    </section>
  );
};

const LEVEL_WORDS = { alarm: 'PROBLEM', warn: 'WARNING', info: 'INFO' } as const;

const INTEGRITY_CODE_SET: ReadonlySet<string> = new Set(Object.values(INTEGRITY_CODES));

/** Storage problems in the page's words (their messages speak of events and seqs, for the log);
 * the message itself stays on hover for a support call. */
const AlarmText: FC<{ a: AlarmView }> = ({ a }) =>
  INTEGRITY_CODE_SET.has(a.code) ? <span title={a.message}>{integrityWords(a)}</span> : <>{a.message}</>;

const AlarmItem: FC<{ a: AlarmView; view: StatusView }> = ({ a, view }) => (
  <li>
    <span class={`state s-${a.level === 'info' ? 'none' : a.level}`}>{LEVEL_WORDS[a.level]}</span> <strong>{a.code}</strong>
    {a.terminal === undefined ? '' : ` · ${a.terminal}`} — <AlarmText a={a} />{' '}
    <span class="muted">
      <Time atMs={a.atMs} nowMs={view.nowMs} timeZone={view.timeZone ?? 'UTC'} shape={view.nowMs - a.atMs > 12 * 3_600_000 ? 'day' : 'clock'} /> ({view.nowMs - a.atMs < 1000 ? 'just now' : `${formatDuration(view.nowMs - a.atMs)} ago`})
    </span>
  </li>
);

export const AlarmsSection: FC<{ view: StatusView }> = ({ view }) => (
  <section id="alarms" class="wide" aria-labelledby="alarm-h">
    <h2 id="alarm-h">
      Recent alarms <span class="muted">(details for support)</span>
    </h2>
    {view.alarms.length === 0 ? (
      <p>No alarms.</p>
    ) : (
      <ul class="alarms">
        {view.alarms.map((a) => (
          <AlarmItem a={a} view={view} />
        ))}
      </ul>
    )}
  </section>
);
