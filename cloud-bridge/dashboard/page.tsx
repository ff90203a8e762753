/**
 * `GET /` on the cloud-bridge: the payments team's page, server-rendered with Hono JSX. It leads
 * with one sentence (contradictions and inconsistent payments first), then the waiting-time
 * distribution with and without optimism, the contradiction rate, and per store the payments to
 * look at. No script, no external asset; it refreshes itself.
 */
import type { FC } from 'hono/jsx';
import { raw } from 'hono/html';
import { DASHBOARD_CSS, DASHBOARD_REFRESH_S } from './assets.js';
import { RateBar, WaitChart } from './charts.js';
import { formatAgo, formatClock, formatMoney, formatReduction, formatShare, formatWait } from './format.js';
import type { DashboardView, Distribution, PaymentRow, StoreView } from './view.js';

type Level = 'ok' | 'warn' | 'alarm';

export function headlineOf(v: DashboardView): { level: Level; sentence: string } {
  const inconsistent = v.stores.reduce((n, s) => n + (s.counters.byState.inconsistent ?? 0), 0);
  const problems: string[] = [];
  if (v.totals.contradicted > 0) problems.push(`${v.totals.contradicted} optimistic ${v.totals.contradicted === 1 ? 'charge was' : 'charges were'} contradicted (${formatShare(v.totals.rate)})`);
  if (inconsistent > 0) problems.push(`${inconsistent} ${inconsistent === 1 ? 'payment is' : 'payments are'} inconsistent — the PSP does not confirm ${inconsistent === 1 ? 'it' : 'them'}`);
  if (problems.length > 0) return { level: 'alarm', sentence: problems.join('; ') };
  if (v.totals.payments === 0) return { level: 'warn', sentence: 'No payments yet' };
  const w = v.withOptimism.segment.p50;
  const wo = v.withoutOptimism.segment.p50;
  return {
    level: 'ok',
    sentence: v.optimisticCharge
      ? `All payments consistent — median wait ${formatWait(w)} with optimism, ${formatWait(wo)} without`
      : `All payments consistent — median wait for the PSP ${formatWait(wo)} (optimistic charging is off)`,
  };
}

const STATE_TONES: Record<string, string> = { captured: 's-none', pending: 's-warn', authorised: 's-ok', refused: 's-alarm', cancelled: 's-alarm', inconsistent: 's-alarm' };

const Rows: FC<{ id: string; rows: readonly PaymentRow[]; nowMs: number; empty: string }> = ({ id, rows, nowMs, empty }) =>
  rows.length === 0 ? (
    <p id={id} class="muted">{empty}</p>
  ) : (
    <div class="scroll">
      <table id={id} class="rows">
        <thead>
          <tr><th>Payment</th><th>Terminal</th><th class="num">Amount</th><th>State</th><th>Charged</th><th>Since</th></tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <td class="id" data-label="Payment">{r.id}</td>
              <td data-label="Terminal">{r.terminal === null ? '—' : `${r.terminal} #${r.seq}`}</td>
              <td class="num" data-label="Amount">{formatMoney(r.amount, r.currency)}</td>
              <td data-label="State"><span class={`state ${STATE_TONES[r.state] ?? 's-none'}`}>{r.state}</span>{r.contradicted ? ' contradicted' : ''}</td>
              <td data-label="Charged">{r.chargedBy ?? 'no'}</td>
              <td data-label="Since">{`${formatClock(r.sinceMs)} (${formatAgo(r.sinceMs, nowMs)})`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );

const Percentiles: FC<{ id: string; withOpt: Distribution; without: Distribution }> = ({ id, withOpt, without }) => {
  const row = (name: string, a: number | null, b: number | null) => (
    <tr><th>{name}</th><td class="num">{formatWait(a)}</td><td class="num">{formatWait(b)}</td><td class="num">{formatReduction(b, a)}</td></tr>
  );
  return (
    <div class="scroll">
      <table id={id}>
        <thead><tr><th>Wait</th><th class="num">with optimism</th><th class="num">without</th><th class="num">change</th></tr></thead>
        <tbody>
          {row('median (p50)', withOpt.segment.p50, without.segment.p50)}
          {row('p90', withOpt.segment.p90, without.segment.p90)}
          {row('p95', withOpt.segment.p95, without.segment.p95)}
          {row('p99', withOpt.segment.p99, without.segment.p99)}
          {row('mean', withOpt.meanS, without.meanS)}
          {row('mean of the slowest 10 %', withOpt.slowest10MeanS, without.slowest10MeanS)}
          <tr><th>payments measured</th><td class="num">{withOpt.segment.count}</td><td class="num">{without.segment.count}</td><td /></tr>
        </tbody>
      </table>
    </div>
  );
};

const StoreSection: FC<{ s: StoreView; nowMs: number }> = ({ s, nowMs }) => {
  const c = s.counters;
  const states = Object.entries(c.byState).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k} ${n}`).join(' · ');
  return (
    <section id={`store-${s.store}`} aria-labelledby={`store-${s.store}-h`}>
      <h2 id={`store-${s.store}-h`}>Store {s.store}</h2>
      <dl>
        <dt>Payments</dt><dd>{s.payments} ({states})</dd>
        <dt>Charged</dt><dd>{c.charged}, of which optimistically {c.optimisticCharged}</dd>
        <dt>Contradicted</dt><dd class="contradicted">{c.contradicted} ({formatShare(c.optimisticCharged === 0 ? null : c.contradicted / c.optimisticCharged)})</dd>
        <dt>Median wait</dt><dd>{formatWait(s.withOptimism.segment.p50)} with optimism · {formatWait(s.withoutOptimism.segment.p50)} without</dd>
        <dt>p99 wait</dt><dd>{formatWait(s.withOptimism.segment.p99)} with optimism · {formatWait(s.withoutOptimism.segment.p99)} without</dd>
      </dl>
      <h3>Inconsistent — the PSP does not confirm these</h3>
      <Rows id={`inconsistent-${s.store}`} rows={s.inconsistent} nowMs={nowMs} empty="None." />
      <h3>Waiting for the PSP (captured, no outcome yet), oldest first</h3>
      <Rows id={`waiting-${s.store}`} rows={s.waiting} nowMs={nowMs} empty="None." />
    </section>
  );
};

export const DashboardPage: FC<{ view: DashboardView }> = ({ view: v }) => {
  const h = headlineOf(v);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="refresh" content={String(DASHBOARD_REFRESH_S)} />
        <title>{`${h.level === 'alarm' ? 'PROBLEM' : h.level === 'warn' ? 'ATTENTION' : 'OK'}: ${h.sentence} — tillgate payments`}</title>
        <style>{raw(DASHBOARD_CSS)}</style>
      </head>
      <body>
        <main>
          <h1>Payments</h1>
          <header id="headline" class={`headline level-${h.level}`} role="status">{h.sentence}</header>
          <div class="grid">
            <section id="summary" aria-labelledby="summary-h">
              <h2 id="summary-h">Optimistic charging</h2>
              <dl>
                <dt>Flag</dt><dd id="flag">{v.optimisticCharge ? 'On — online payments are charged on the terminal\'s success' : 'Off — payments are charged at authorisation'}</dd>
                <dt>Payments</dt><dd id="payments">{v.totals.payments}</dd>
                <dt>Charged optimistically</dt><dd id="optimistic-charged">{v.totals.optimisticCharged}</dd>
                <dt>Contradicted</dt><dd id="contradicted">{v.totals.contradicted} ({formatShare(v.totals.rate)})</dd>
              </dl>
              <RateBar id="rate-bar" rate={v.totals.rate} />
              <p class="muted">Contradiction rate: optimistic charges later refused, cancelled or found inconsistent. Scale 0–5 %.</p>
            </section>
            <section id="pending-summary" aria-labelledby="pending-h">
              <h2 id="pending-h">Notifications without a terminal event</h2>
              <p><strong id="pending-count">{v.pendingCount}</strong> {v.pendingCount === 1 ? 'payment is' : 'payments are'} pending: the PSP reported on {v.pendingCount === 1 ? 'it' : 'them'}, the store's event has not reached the cloud yet (store link down). They join their events when those arrive.</p>
            </section>
          </div>
          <section id="waiting" aria-labelledby="waiting-h">
            <h2 id="waiting-h">Waiting time from the terminal's success, all stores</h2>
            <div class="scroll">
              <WaitChart id="wait-chart" title="Share of payments by waiting time, with and without optimism" withOpt={v.withOptimism} without={v.withoutOptimism} />
            </div>
            <Percentiles id="percentiles" withOpt={v.withOptimism} without={v.withoutOptimism} />
            <p class="muted">
              Over the most recent {v.window.toLocaleString('en-US')} payments. "Without" is the wait until the PSP's authorisation, which is when every payment would be charged without optimism.
              Terminal clocks ahead of the cloud are clamped to the capture time ({v.totals.clamped} {v.totals.clamped === 1 ? 'payment' : 'payments'} here).
            </p>
          </section>
          {v.stores.map((s) => <StoreSection s={s} nowMs={v.nowMs} />)}
          {v.storesNotShown > 0 ? <p class="muted">{`${v.storesNotShown} more stores not shown (GET /v1/stores/{store}/payments).`}</p> : ''}
          <section id="pending" aria-labelledby="pending-list-h">
            <h2 id="pending-list-h">Pending (store not known yet)</h2>
            <Rows id="pending-rows" rows={v.pending} nowMs={v.nowMs} empty="None." />
          </section>
        </main>
        <footer>tillgate cloud · updated {formatClock(v.nowMs)} · refreshes every {DASHBOARD_REFRESH_S} s</footer>
      </body>
    </html>
  );
};

export async function renderDashboard(view: DashboardView): Promise<string> {
  return `<!doctype html>${await (<DashboardPage view={view} />).toString()}`;
}
