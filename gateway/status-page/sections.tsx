/**
 * The page's fact sections below the headline: the internet link, sending to the cloud, storage.
 * Each state is written in words and shown with a coloured label, never colour alone.
 */
import type { FC } from 'hono/jsx';
import { formatBytes, formatDuration, formatMoneyByCurrency, plural } from './format.js';
import type { StatusView } from './view.js';
import { riskWords } from './risk.js';
import { declinedPhrase, moneyParts } from './money-words.js';
import { Time, When } from './time.js';
import { cloudErrorWords, forwarderStateWords, integrityWords, wanReasonWords } from './words.js';

type Tone = 'ok' | 'warn' | 'alarm' | 'none';

const State: FC<{ tone: Tone; text: string }> = ({ tone, text }) => <span class={`state s-${tone}`}>{text}</span>;

const WAN_WORDS = {
  online: { tone: 'ok', text: 'Online' },
  degraded: { tone: 'warn', text: 'Unreliable' },
  offline: { tone: 'alarm', text: 'Down' },
  unknown: { tone: 'none', text: 'Not monitored' },
} as const satisfies Record<StatusView['wan']['state'], { tone: Tone; text: string }>;

const tz = (view: StatusView) => view.timeZone ?? 'UTC';

export const WanSection: FC<{ view: StatusView }> = ({ view }) => {
  const { wan } = view;
  const words = WAN_WORDS[wan.state];
  const cutUntil = wan.cutUntilMs ?? null;
  return (
    <section id="wan" aria-labelledby="wan-h">
      <h2 id="wan-h">Internet link</h2>
      <dl>
        <dt>State</dt>
        <dd>
          <State tone={words.tone} text={words.text} />
          {wan.state !== 'online' && wan.state !== 'unknown' && wan.reason !== undefined && wan.reason !== null ? <div class="hint">{wanReasonWords(wan.reason)}</div> : ''}
          {cutUntil === null ? '' : (
            <div class="hint">
              Cut for a test until <Time atMs={cutUntil} nowMs={view.nowMs} timeZone={tz(view)} />
            </div>
          )}
        </dd>
        <dt>Since</dt>
        <dd>
          {wan.sinceMs === null ? '—' : (
            <>
              <Time atMs={wan.sinceMs} nowMs={view.nowMs} timeZone={tz(view)} /> ({formatDuration(view.nowMs - wan.sinceMs)})
            </>
          )}
        </dd>
        <dt>Round trip</dt>
        <dd>{wan.rttMs === null ? '—' : `${Math.round(wan.rttMs)} ms`}</dd>
        {view.prediction?.wan === null || view.prediction?.wan === undefined ? (
          ''
        ) : (
          <>
            <dt>Failure risk</dt>
            <dd id="wan-risk">
              <State tone={riskWords(view.prediction.wan).tone as Tone} text={riskWords(view.prediction.wan).text} />
            </dd>
          </>
        )}
      </dl>
    </section>
  );
};

/** Refunds, voids and the rest waiting, each with its own amounts (never added to the takings). */
const MoneyBesideTakings: FC<{ money: StatusView['forwarder']['money'] }> = ({ money }) => {
  const rest = moneyParts({ ...money, takings: { count: 0, byCurrency: {} } }, Number.POSITIVE_INFINITY);
  const declined = declinedPhrase(money);
  return (
    <>
      {rest.map((part) => (
        <div class="money-apart">{`and ${part}`}</div>
      ))}
      {declined === '' ? '' : <div class="hint">{`and ${declined}`}</div>}
    </>
  );
};

export const ForwarderSection: FC<{ view: StatusView }> = ({ view }) => {
  const f = view.forwarder;
  const takings = formatMoneyByCurrency(f.money.takings.byCurrency, Number.POSITIVE_INFINITY);
  return (
    <section id="forwarder" aria-labelledby="fwd-h">
      <h2 id="fwd-h">Sending to the cloud</h2>
      <dl>
        <dt>Waiting</dt>
        <dd id="backlog">
          {plural(f.money.takings.count, 'payment')}
          {takings === '' ? '' : <div class="money">{takings}</div>}
          <MoneyBesideTakings money={f.money} />
        </dd>
        <dt>Oldest waiting</dt>
        <dd>{f.oldestPendingAgeS === null ? '—' : formatDuration(f.oldestPendingAgeS * 1000)}</dd>
        <dt>Rate</dt>
        <dd>{f.ratePerS === null ? '—' : `${f.ratePerS.toFixed(1)} per second`}</dd>
        <dt>Last success</dt>
        <dd>
          <When atMs={f.lastSuccessAtMs} nowMs={view.nowMs} timeZone={tz(view)} />
        </dd>
        <dt>Last error</dt>
        <dd>{f.lastErrorCode === null ? 'none' : cloudErrorWords(f.lastErrorCode)}</dd>
        <dt>Refused by cloud</dt>
        <dd id="dead-letters">
          {f.deadLetters === 0 ? (
            '0'
          ) : (
            <>
              <State tone="alarm" text={`${plural(f.deadLetters, 'payment')} — admin retry needed`} />
              <div class="hint">Fix the cause (see the alarms below), then an admin presses "Retry refused payments".</div>
            </>
          )}
        </dd>
        <dt>Sending</dt>
        <dd>{forwarderStateWords(f.state)}</dd>
      </dl>
    </section>
  );
};

/** `"12.0 GiB of 32.0 GiB (63 % used; stops taking payments at 90 %)"`. */
function diskText(s: StatusView['storage']): string {
  if (s.diskFreeBytes === null) return '—';
  if (s.diskTotalBytes === null || s.diskTotalBytes <= 0) return formatBytes(s.diskFreeBytes);
  const usedPct = Math.round(((s.diskTotalBytes - s.diskFreeBytes) / s.diskTotalBytes) * 100);
  const limit = s.diskHighWaterPct === null ? '' : `; stops taking payments at ${s.diskHighWaterPct} %`;
  return `${formatBytes(s.diskFreeBytes)} of ${formatBytes(s.diskTotalBytes)} (${usedPct} % used${limit})`;
}

/** The storage's integrity in words: sound, or what is damaged or missing, each problem named. */
const IntegrityWords: FC<{ storage: StatusView['storage'] }> = ({ storage }) => {
  const integrity = storage.integrity;
  if (integrity === undefined || integrity.state === 'ok') return <State tone="ok" text="Sound" />;
  const label = integrity.state === 'damaged' ? 'Damaged' : 'Data missing';
  return (
    <>
      <State tone="alarm" text={label} />
      {integrity.problems.slice(0, 5).map((p) => (
        <div class="hint">{`${integrityWords(p)} (${p.code})`}</div>
      ))}
      {integrity.problems.length > 5 ? <div class="hint">{`and ${integrity.problems.length - 5} more: see /api/status`}</div> : ''}
    </>
  );
};

export const StorageSection: FC<{ view: StatusView }> = ({ view }) => {
  const s = view.storage;
  return (
    <section id="storage" aria-labelledby="sto-h">
      <h2 id="sto-h">Storage on this gateway</h2>
      <dl>
        <dt>Taking payments</dt>
        <dd id="accepting">
          {s.accepting ? (
            <State tone="ok" text="Yes" />
          ) : s.integrity?.state === 'damaged' ? (
            <>
              <State tone="alarm" text="No — storage damaged" />
              <div class="hint">Terminals keep their payments. Do not delete anything: back up the data directory and call support.</div>
            </>
          ) : (
            <>
              <State tone="alarm" text="No — storage full" />
              <div class="hint">Free disk space on the gateway; it starts taking payments again by itself.</div>
            </>
          )}
        </dd>
        <dt>Storage health</dt>
        <dd id="integrity">
          <IntegrityWords storage={s} />
        </dd>
        <dt>Transactions stored</dt>
        <dd>{plural(s.eventsStored, 'transaction')}</dd>
        <dt>Disk free</dt>
        <dd>
          {diskText(s)}
          {s.reserve === 'released' ? <div class="hint">Reserve in use: the disk is nearly full.</div> : ''}
        </dd>
      </dl>
    </section>
  );
};
