/**
 * The last 24 hours, for a technician who arrives after it happened: the backlog chart, the
 * internet outages (from, to, how long, how much was waiting at most) and every problem with when
 * it started and ended. Kept on the gateway's disk (gateway/history), so a restart loses none of it.
 */
import type { FC } from 'hono/jsx';
import { PROBLEM_CATALOGUE, type ProblemCode } from '../problem-catalogue.js';
import { BacklogChart } from './backlog-chart.js';
import { formatDuration, formatMoneyByCurrency, plural } from './format.js';
import { Time } from './time.js';
import type { AlarmRecordView, OutageView, StatusView } from './view.js';

/** Rows each list shows; the rest are in /api/history. */
export const HISTORY_ROWS_SHOWN = 30;
const DAY_MS = 24 * 3_600_000;
/** The history's record of a gateway start (gateway/history/recorder.ts GATEWAY_STARTED). */
const GATEWAY_STARTED_CODE = 'GATEWAY_STARTED';
/**
 * A till that was disconnected for less than this and came back (WiFi roaming, a gateway restart
 * while every till reconnects) is counted, not listed: such lines would bury what mattered. They
 * stay in /api/history.
 */
export const HISTORY_SHORT_DISCONNECT_MS = 60_000;

function shortDisconnect(a: AlarmRecordView): boolean {
  return a.code === 'TERMINAL_DISCONNECTED' && a.endedAtMs !== null && a.endedAtMs - a.startedAtMs < HISTORY_SHORT_DISCONNECT_MS;
}

const Span: FC<{ from: number; to: number | null; view: StatusView }> = ({ from, to, view }) => {
  const zone = view.timeZone ?? 'UTC';
  if (to === from) {
    return (
      <>
        at <Time atMs={from} nowMs={view.nowMs} timeZone={zone} shape="day" />
      </>
    );
  }
  return to === null ? (
    <>
      since <Time atMs={from} nowMs={view.nowMs} timeZone={zone} shape="day" /> <strong>(still on, {formatDuration(view.nowMs - from)})</strong>
    </>
  ) : (
    <>
      <Time atMs={from} nowMs={view.nowMs} timeZone={zone} shape="day" />–<Time atMs={to} nowMs={view.nowMs} timeZone={zone} shape="day" /> ({formatDuration(to - from)})
    </>
  );
};

const OutageItem: FC<{ o: OutageView; view: StatusView }> = ({ o, view }) => {
  // While it lasts, what waits now may be past the peak the history job last wrote (it looks every few seconds).
  const now = o.endedAtMs === null ? view.forwarder.money.takings : null;
  const nowWins = now !== null && now.count > o.peakPayments;
  const payments = nowWins ? now.count : o.peakPayments;
  const events = o.endedAtMs === null ? Math.max(o.peakEvents, view.forwarder.backlogEvents) : o.peakEvents;
  const money = formatMoneyByCurrency(nowWins ? now.byCurrency : o.peakAmountByCurrencyMinor);
  const held = payments > 0 ? `${plural(payments, 'payment')}${money === '' ? '' : ` (${money})`}` : plural(events, 'transaction');
  return (
    <li>
      <Span from={o.startedAtMs} to={o.endedAtMs} view={view} /> · at most {held} waiting
    </li>
  );
};

function alarmTitle(a: AlarmRecordView): string {
  const title = PROBLEM_CATALOGUE[a.code as ProblemCode]?.title ?? a.title;
  return a.subject === 'wan' || a.subject === 'cloud' || a.subject === 'gateway' ? title : `${title} — terminal ${a.subject}`;
}

const LEVEL_WORDS = { alarm: 'PROBLEM', warn: 'ATTENTION', info: 'INFO' } as const;

const AlarmItem: FC<{ a: AlarmRecordView; view: StatusView }> = ({ a, view }) => (
  <li data-code={a.code}>
    <span class={`state s-${a.level === 'info' ? 'none' : a.level}`}>{LEVEL_WORDS[a.level]}</span> {alarmTitle(a)}{' '}
    <span class="muted">
      <Span from={a.startedAtMs} to={a.endedAtMs} view={view} />
    </span>
  </li>
);

export const HistorySection: FC<{ view: StatusView }> = ({ view }) => {
  const h = view.history;
  if (h === undefined) return <></>;
  const since = view.nowMs - DAY_MS;
  const outages = h.outages.filter((o) => (o.endedAtMs ?? view.nowMs) >= since).sort((a, b) => b.startedAtMs - a.startedAtMs);
  const recent = h.alarms.filter((a) => (a.endedAtMs ?? view.nowMs) >= since);
  const alarms = recent.filter((a) => !shortDisconnect(a)).sort((a, b) => b.startedAtMs - a.startedAtMs);
  const blips = recent.length - alarms.length;
  return (
    <section id="history" class="wide" aria-labelledby="history-h">
      <h2 id="history-h">Last 24 hours</h2>
      <h3>Waiting to be sent</h3>
      {h.backlog.length === 0 ? (
        <p>No points yet: the chart fills in as the gateway runs (one a minute).</p>
      ) : (
        <BacklogChart
          samples={h.backlog}
          outages={h.outages}
          startsMs={h.alarms.filter((a) => a.code === GATEWAY_STARTED_CODE).map((a) => a.startedAtMs)}
          nowMs={view.nowMs}
          timeZone={view.timeZone ?? 'UTC'}
        />
      )}
      <h3>Internet outages</h3>
      {outages.length === 0 ? (
        <p id="outages">None.</p>
      ) : (
        <ul id="outages" class="history">
          {outages.slice(0, HISTORY_ROWS_SHOWN).map((o) => (
            <OutageItem o={o} view={view} />
          ))}
        </ul>
      )}
      <h3>Problems, with when they started and ended</h3>
      {alarms.length === 0 ? (
        <p id="alarm-history">None.</p>
      ) : (
        <ul id="alarm-history" class="history">
          {alarms.slice(0, HISTORY_ROWS_SHOWN).map((a) => (
            <AlarmItem a={a} view={view} />
          ))}
        </ul>
      )}
      {blips > 0 ? <p class="muted" id="short-disconnects">Not listed: {plural(blips, 'till disconnection')} of under a minute.</p> : ''}
      {alarms.length + outages.length > 2 * HISTORY_ROWS_SHOWN ? <p class="muted">More in /api/history.</p> : ''}
    </section>
  );
};
