/**
 * `GET /`: the field technician's page, server-rendered with Hono JSX (no build step, no external
 * assets: the store may be offline). It leads with one plain sentence, then the facts. The `#live`
 * fragment is what the SSE stream re-renders and the script swaps in.
 */
import type { FC } from 'hono/jsx';
import { raw } from 'hono/html';
import { FALLBACK_REFRESH_S, PAGE_CSS, PAGE_SCRIPT } from './assets.js';
import { formatClock, formatDuration } from './format.js';
import type { Headline, HeadlineLevel } from './headline.js';
import { AlarmsSection, TerminalsSection } from './terminals.js';
import { RiskSection } from './risk.js';
import { ForwarderSection, StorageSection, WanSection } from './sections.js';
import type { StatusView } from './view.js';

export interface RenderOptions {
  /** Same threshold the headline uses, so the table and the sentence agree. */
  readonly silentTerminalAfterMs: number;
  /** Most terminal rows rendered: keeps the page and every SSE push bounded. */
  readonly maxTerminalsShown: number;
}

const LEVEL_BADGES: Record<HeadlineLevel, string> = { ok: 'OK', warn: 'ATTENTION', alarm: 'PROBLEM' };

const HeadlineBox: FC<{ headline: Headline }> = ({ headline }) => (
  <header class={`headline level-${headline.level}`} role="status" aria-live="polite">
    <span class="badge">{LEVEL_BADGES[headline.level]}</span>
    <h1 id="headline">{headline.sentence}</h1>
    {headline.problems.length > 1 ? (
      <ul id="more-problems" aria-label="Also">
        {headline.problems.slice(1).map((p) => (
          <li>{p.sentence}</li>
        ))}
      </ul>
    ) : (
      ''
    )}
  </header>
);

/** The part of the page that changes: the headline and every section. */
export const LiveContent: FC<{ view: StatusView; headline: Headline; options: RenderOptions }> = ({ view, headline, options }) => (
  <>
    <HeadlineBox headline={headline} />
    <div class="grid">
      <WanSection view={view} />
      <ForwarderSection view={view} />
      <StorageSection view={view} />
    </div>
    <RiskSection view={view} />
    <TerminalsSection view={view} silentAfterMs={options.silentTerminalAfterMs} maxShown={options.maxTerminalsShown} />
    <AlarmsSection view={view} />
    <p class="muted">
      Gateway {view.gatewayId} · store {view.store} · running for {formatDuration(view.uptimeS * 1000)}
    </p>
  </>
);

/** The browser tab's title: the level and the sentence, so a tab in the background still says it. */
export function pageTitle(view: StatusView, headline: Headline): string {
  return `${LEVEL_BADGES[headline.level]}: ${headline.sentence} — ${view.store}`;
}

/** Time of the snapshot, as the footer shows it. */
export function updatedText(view: StatusView): string {
  return `updated ${formatClock(view.nowMs)}`;
}

export const StatusPage: FC<{ view: StatusView; headline: Headline; options: RenderOptions }> = ({ view, headline, options }) => (
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
      <main id="live">
        <LiveContent view={view} headline={headline} options={options} />
      </main>
      <footer>
        tillgate status · <span id="updated">{updatedText(view)}</span> · <span id="conn" class="conn">Refreshes every {FALLBACK_REFRESH_S} s</span>
      </footer>
      <script>{raw(PAGE_SCRIPT)}</script>
    </body>
  </html>
);

/** The whole document as a string. */
export async function renderPage(view: StatusView, headline: Headline, options: RenderOptions): Promise<string> {
  return `<!doctype html>${await (<StatusPage view={view} headline={headline} options={options} />).toString()}`;
}

/** The `#live` fragment as a string, for the SSE stream. */
export async function renderLive(view: StatusView, headline: Headline, options: RenderOptions): Promise<string> {
  return (await (<LiveContent view={view} headline={headline} options={options} />).toString()).toString();
}
