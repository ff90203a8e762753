/**
 * `mountStatusPage(app, deps)`: the one call the gateway's wiring makes to put the technician's
 * page (`GET /`), its live stream (`GET /api/status/stream`) and, when given, `GET /metrics` on the
 * gateway's Hono app. The data comes from one injected function that snapshots the gateway
 * (`readView`), so the page never reaches into the store, forwarder or WAN monitor itself.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { systemClock, type Clock } from '../../lib/clock.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import {
  DEFAULT_MAX_STATUS_STREAMS,
  DEFAULT_MAX_STATUS_STREAMS_PER_ADDRESS,
  DEFAULT_STATUS_HEARTBEAT_MS,
  DEFAULT_STATUS_PUSH_INTERVAL_MS,
  StatusBroadcaster,
  type BroadcasterOptions,
  type StatusFrame,
  type ViewerIdentity,
} from './broadcaster.js';
import { buildHeadline, DEFAULT_HEADLINE_OPTIONS, type HeadlineOptions } from './headline.js';
import { pageTitle, renderLive, renderPage, updatedText, type RenderOptions } from './page.js';
import type { StatusView } from './view.js';
import type { AdminState } from './admin-panel.js';

/** How long a browser waits before reconnecting a dropped stream (SSE `retry:` field). */
export const STATUS_STREAM_RETRY_MS = 3_000;
/** Terminal rows rendered; the JSON API has the rest. */
export const DEFAULT_MAX_TERMINALS_SHOWN = 500;

export interface StatusPageOptions extends HeadlineOptions, RenderOptions, BroadcasterOptions {}

export const DEFAULT_STATUS_PAGE_OPTIONS: StatusPageOptions = Object.freeze({
  ...DEFAULT_HEADLINE_OPTIONS,
  maxTerminalsShown: DEFAULT_MAX_TERMINALS_SHOWN,
  maxStreams: DEFAULT_MAX_STATUS_STREAMS,
  maxStreamsPerAddress: DEFAULT_MAX_STATUS_STREAMS_PER_ADDRESS,
  pushIntervalMs: DEFAULT_STATUS_PUSH_INTERVAL_MS,
  heartbeatMs: DEFAULT_STATUS_HEARTBEAT_MS,
});

export interface StatusPageDeps {
  /** A consistent snapshot of the gateway right now. */
  readonly readView: () => StatusView | Promise<StatusView>;
  /** When given, `GET /metrics` is mounted too (see gateway/metrics). */
  readonly metrics?: { mount(app: Hono): void };
  readonly options?: Partial<StatusPageOptions>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * Whether a request carries valid read credentials (the admin token, or the status user when
   * reads need one): such viewers may use the streams kept for them. Default: nobody does.
   */
  readonly hasCredentials?: (c: Context) => boolean;
  /** The admin's side of the page for a request (login link, or the actions with the session's CSRF token). */
  readonly admin?: (c: Context, view: StatusView) => AdminState;
}

export interface StatusPageHandle {
  /** Open live streams right now. */
  streams(): number;
  /** Ends every open stream so the HTTP server can close (its close() waits for open SSE responses). */
  close(): void;
}

/** Mounts `GET /`, `GET /api/status/stream` (and `GET /metrics`) on `app`. */
export function mountStatusPage(app: Hono, deps: StatusPageDeps): StatusPageHandle {
  const options: StatusPageOptions = Object.freeze({ ...DEFAULT_STATUS_PAGE_OPTIONS, ...deps.options });
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;

  const renderFrame = async (): Promise<StatusFrame> => {
    const view = await deps.readView();
    const headline = buildHeadline(view, options);
    return {
      html: await renderLive(view, headline, options),
      title: pageTitle(view, headline),
      updated: updatedText(view),
      level: headline.level,
      headline: headline.sentence,
    };
  };
  const hub = new StatusBroadcaster(renderFrame, options, clock, logger);

  app.get('/', async (c) => {
    const view = await deps.readView();
    c.header('Cache-Control', 'no-store');
    return c.html(await renderPage(view, buildHeadline(view, options), options, { admin: deps.admin?.(c, view) ?? null }));
  });

  // Browsers ask for it on every visit; an empty answer keeps the log and console free of 404s.
  app.get('/favicon.ico', (c) => c.body(null, 204));

  app.get('/api/status/stream', (c) => {
    const who: ViewerIdentity = { address: remoteAddress(c), authenticated: deps.hasCredentials?.(c) ?? false };
    if (!hub.hasRoom(who)) {
      return c.json({ error: { code: 'TOO_MANY_STREAMS', message: `no live status stream free for this viewer (at most ${options.maxStreams}, ${options.maxStreamsPerAddress} per address without credentials); poll /api/status instead` } }, 503);
    }
    return streamSSE(c, async (stream) => {
      let finish = (): void => {};
      const ended = new Promise<void>((resolve) => {
        finish = resolve;
      });
      stream.onAbort(finish);
      // Added before the first await, so the room checked above is still there.
      const remove = hub.add({
        sendFrame: (frame) => stream.writeSSE({ event: 'status', data: JSON.stringify(frame) }),
        sendHeartbeat: async () => {
          await stream.write(': heartbeat\n\n');
        },
        end: finish,
      }, who);
      if (remove === null) return;
      void stream.write(`retry: ${STATUS_STREAM_RETRY_MS}\n\n`);
      await ended;
      remove();
    });
  });

  deps.metrics?.mount(app);


  return { streams: () => hub.viewers, close: () => hub.close() };
}

/** The peer address of a request served by @hono/node-server; `unknown` elsewhere (app.request). */
function remoteAddress(c: Context): string {
  const env = c.env as { incoming?: IncomingMessage; server?: { incoming?: IncomingMessage } } | undefined;
  return (env?.server?.incoming ?? env?.incoming)?.socket.remoteAddress ?? 'unknown';
}
