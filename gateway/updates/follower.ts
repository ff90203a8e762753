/**
 * The gateway's updates follower (DESIGN §3.6): asks the cloud for its store's payment updates
 * after the saved cursor, publishes each on `P/{terminal}/updates` (QoS 1, not retained: a terminal
 * keeps the latest state per payment itself), then saves the cursor. A crash between publishing and
 * saving publishes those updates again: at least once, never a gap. An update that does not parse
 * (a newer cloud) is skipped and counted, never a reason to stall the feed (DESIGN §3.4 open sets).
 */
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { paymentUpdateSchema, updatesCursorSchema } from '../../protocol/payments.js';
import { topics } from '../../protocol/topics.js';
import { exchange } from '../forwarder/http-exchange.js';
import type { MessageBus } from '../ingest/message-bus.js';
import type { UpdatesCursorStore } from './cursor-store.js';
import type { UpdatesOptions } from './options.js';

/** Fetches one page: `{cursor, updates}` as JSON (unknown), or throws. */
export type UpdatesFetcher = (after: string, limit: number) => Promise<unknown>;

export type UpdatesState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'following'; readonly cursor: string }
  | { readonly kind: 'failing'; readonly cursor: string; readonly error: string; readonly sinceMs: number }
  | { readonly kind: 'stopped' };

export interface UpdatesStats {
  published: number;
  skipped: number;
  failures: number;
}

export class UpdatesFollower {
  state: UpdatesState = { kind: 'idle' };
  readonly stats: UpdatesStats = { published: 0, skipped: 0, failures: 0 };
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();
  #cursor = '0';

  constructor(
    private readonly store: string,
    private readonly fetchPage: UpdatesFetcher,
    private readonly cursors: UpdatesCursorStore,
    private readonly bus: MessageBus,
    private readonly options: Pick<UpdatesOptions, 'updatesPollIntervalMs' | 'updatesPageLimit'>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.state.kind !== 'idle') return;
    this.#cursor = await this.cursors.load();
    this.state = { kind: 'following', cursor: this.#cursor };
    this.#schedule(0);
  }

  /** One page: fetch, publish, save. Resolves with the number of updates the page held. */
  async pollOnce(): Promise<number> {
    const body = (await this.fetchPage(this.#cursor, this.options.updatesPageLimit)) as { cursor?: unknown; updates?: unknown };
    const cursor = updatesCursorSchema.safeParse(body?.cursor);
    if (!cursor.success || !Array.isArray(body.updates)) throw new TypeError('the cloud answered an updates page that is not one');
    const updates = body.updates.slice(0, this.options.updatesPageLimit * 2);
    for (const raw of updates) {
      const u = paymentUpdateSchema.safeParse(raw);
      if (!u.success) {
        this.stats.skipped++;
        continue;
      }
      await this.bus.publish(topics.updates(this.store, u.data.terminal), u.data, { qos: 1, retain: false });
      this.stats.published++;
    }
    if (cursor.data !== this.#cursor) {
      await this.cursors.save(cursor.data);
      this.#cursor = cursor.data;
    }
    this.state = { kind: 'following', cursor: this.#cursor };
    return updates.length;
  }

  async stop(): Promise<void> {
    this.state = { kind: 'stopped' };
    clearTimeout(this.#timer);
    await this.#round;
  }

  #schedule(delayMs: number): void {
    if (this.state.kind === 'stopped') return;
    this.#timer = setTimeout(() => {
      this.#round = this.#poll();
    }, delayMs);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    let next = this.options.updatesPollIntervalMs;
    try {
      // A full page means more is waiting: ask again at once.
      if ((await this.pollOnce()) >= this.options.updatesPageLimit) next = 0;
    } catch (err) {
      this.stats.failures++;
      const error = String((err as { code?: unknown }).code ?? (err as Error).name ?? 'ERROR');
      if (this.state.kind !== 'failing') this.logger.warn('payment updates from the cloud failed; retrying', { error });
      this.state = { kind: 'failing', cursor: this.#cursor, error, sinceMs: this.state.kind === 'failing' ? this.state.sinceMs : this.clock.now() };
    }
    this.#schedule(next);
  }
}

/** The production fetcher: `GET {cloud}/v1/stores/{store}/updates?after=&limit=` with the gateway's token. */
export function httpUpdatesFetcher(o: { cloudUrl: string; cloudToken: string; store: string; timeoutMs: number; maxResponseBytes: number }): UpdatesFetcher {
  return async (after, limit) => {
    const url = new URL(`/v1/stores/${encodeURIComponent(o.store)}/updates?after=${encodeURIComponent(after)}&limit=${limit}`, o.cloudUrl);
    const res = await exchange({
      url,
      method: 'GET',
      headers: { authorization: `Bearer ${o.cloudToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(o.timeoutMs),
      maxResponseBytes: o.maxResponseBytes,
    });
    if (res.status !== 200) throw Object.assign(new Error(`cloud answered ${res.status}`), { code: `HTTP_${res.status}` });
    return JSON.parse(res.text) as unknown;
  };
}
