/**
 * The status page document: who this is (store, gateway), the headline and every problem with what
 * to do, the facts (internet, sending, storage), the terminals with problem ones first, the last 24
 * hours, the alarms in detail, and, for a logged-in admin, the actions. Everything that changes is
 * inside `#live`, which the live stream replaces; the admin panel carries the session's CSRF token
 * and stays outside it.
 */
import type { FC } from 'hono/jsx';
import { raw } from 'hono/html';
import { AdminLink, AdminPanel, type AdminState } from './admin-panel.js';
import { FALLBACK_REFRESH_S, PAGE_CSS, PAGE_SCRIPT } from './assets.js';
import { formatDuration } from './format.js';
import type { Headline, HeadlineLevel, HeadlineOptions } from './headline.js';
import { HistorySection } from './history-section.js';
import { AlarmsSection, TerminalsSection } from './terminals.js';
import { RiskSection } from './risk.js';
import { ForwarderSection, StorageSection, WanSection } from './sections.js';
import { clockTime, utcTitle, zoneLabel } from './time-words.js';
import type { StatusView } from './view.js';

export interface RenderOptions extends Pick<HeadlineOptions, 'silentTerminalAfterMs' | 'rejectWindowMs' | 'clockSkewAfterMs' | 'offlineRefusedWindowMs'> {
  /** Most terminal rows rendered: keeps the page and every SSE push bounded. */
  readonly maxTerminalsShown: number;
}

const LEVEL_BADGES: Record<HeadlineLevel, string> = { ok: 'OK', warn: 'ATTENTION', alarm: 'PROBLEM' };

/** "What to do:", the catalogue's action, then each fact of the moment in its own paragraph. */
const Action: FC<{ lines: readonly string[]; id?: string }> = ({ lines, id }) => (
  <div class="action" id={id}>
    <strong>What to do:</strong> {lines[0] ?? ''}
    {lines.slice(1).map((line) => (
      <p>{line}</p>
    ))}
  </div>
);

const HeadlineBox: FC<{ headline: Headline }> = ({ headline }) => {
  const first = headline.problems[0];
  return (
    <header class={`headline level-${headline.level}`} role="status" aria-live="polite">
      <span class="badge">{LEVEL_BADGES[headline.level]}</span>
      <h1 id="headline">{headline.sentence}</h1>
      {first === undefined ? '' : <Action id="headline-action" lines={first.actionLines} />}
    </header>
  );
};

/** Every problem after the first, each with what to do. */
const ProblemList: FC<{ headline: Headline }> = ({ headline }) =>
  headline.problems.length > 1 ? (
    <section id="problems" class="wide" aria-labelledby="problems-h">
      <h2 id="problems-h">Also ({headline.problems.length - 1})</h2>
      <ul id="more-problems" class="problems">
        {headline.problems.slice(1).map((p) => (
          <li class={`problem p-${p.level}`} data-code={p.code}>
            <span class="problem-sentence">{p.sentence}</span>
            <Action lines={p.actionLines} />
          </li>
        ))}
      </ul>
    </section>
  ) : (
    <></>
  );

/** The part of the page that changes: the headline and every section. */
export const LiveContent: FC<{ view: StatusView; headline: Headline; options: RenderOptions }> = ({ view, headline, options }) => (
  <>
    <HeadlineBox headline={headline} />
    <ProblemList headline={headline} />
    <div class="grid">
      <WanSection view={view} />
      <ForwarderSection view={view} />
      <StorageSection view={view} />
    </div>
    <RiskSection view={view} />
    <TerminalsSection view={view} thresholds={options} maxShown={options.maxTerminalsShown} />
    <HistorySection view={view} />
    <AlarmsSection view={view} />
    <p class="muted" id="identity">
      Gateway {view.gatewayId} · store {view.store} · running for {formatDuration(view.uptimeS * 1000)}
    </p>
  </>
);

/** What the page calls the store: its name when one is set, else its id. */
export function storeTitle(view: StatusView): string {
  return view.storeName === undefined || view.storeName === null || view.storeName === '' ? view.store : view.storeName;
}

/** The browser tab's title: the level and the sentence, so a tab in the background still says it. */
export function pageTitle(view: StatusView, headline: Headline): string {
  return `${LEVEL_BADGES[headline.level]}: ${headline.sentence} — ${storeTitle(view)}`;
}

/** Time of the snapshot, as the footer shows it (store time zone). */
export function updatedText(view: StatusView): string {
  return `updated ${clockTime(view.nowMs, view.timeZone ?? 'UTC')}`;
}

/** Who this page is about, at the very top: the store by name, the store id and the gateway. */
const TopBar: FC<{ view: StatusView; admin: AdminState | null }> = ({ view, admin }) => (
  <div class="topbar">
    <div class="who">
      <strong id="store-name">{storeTitle(view)}</strong>{' '}
      <span class="muted">
        {storeTitle(view) === view.store ? '' : `store ${view.store} · `}gateway {view.gatewayId}
      </span>
    </div>
    <AdminLink admin={admin} />
  </div>
);

export interface PageChrome {
  /** The admin's side of the page: null when admin actions are not offered at all. */
  readonly admin: AdminState | null;
}

export const StatusPage: FC<{ view: StatusView; headline: Headline; options: RenderOptions; chrome: PageChrome }> = ({ view, headline, options, chrome }) => {
  const zone = view.timeZone ?? 'UTC';
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>{pageTitle(view, headline)}</title>
        <noscript>
          <meta http-equiv="refresh" content={String(FALLBACK_REFRESH_S)} />
        </noscript>
        <style>{raw(PAGE_CSS)}</style>
      </head>
      <body>
        <TopBar view={view} admin={chrome.admin} />
        <main id="live">
          <LiveContent view={view} headline={headline} options={options} />
        </main>
        <AdminPanel admin={chrome.admin} view={view} />
        <footer>
          tillgate status · <span id="updated" title={utcTitle(view.nowMs)}>{updatedText(view)}</span> · times in {zoneLabel(zone, view.nowMs)} (UTC on hover) ·{' '}
          <span id="conn" class="conn">Refreshes every {FALLBACK_REFRESH_S} s</span>
        </footer>
        <script>{raw(PAGE_SCRIPT)}</script>
      </body>
    </html>
  );
};

/** The whole document as a string. */
export async function renderPage(view: StatusView, headline: Headline, options: RenderOptions, chrome: PageChrome = { admin: null }): Promise<string> {
  return `<!doctype html>${await (<StatusPage view={view} headline={headline} options={options} chrome={chrome} />).toString()}`;
}

/** The `#live` fragment as a string, for the SSE stream. */
export async function renderLive(view: StatusView, headline: Headline, options: RenderOptions): Promise<string> {
  return (await (<LiveContent view={view} headline={headline} options={options} />).toString()).toString();
}
